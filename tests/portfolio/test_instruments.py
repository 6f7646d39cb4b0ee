"""Instruments: consistency checks, rounding in the chosen direction, the registry."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from hedgekeeper.errors import ConfigError, UnknownInstrument
from hedgekeeper.portfolio.instruments import (
    Instrument,
    InstrumentKind,
    InstrumentRegistry,
    Settlement,
    example_instruments,
)
from hedgekeeper.portfolio.values import Price, Quantity
from portfolio.book_builders import inverse_future, inverse_option, linear_future, linear_option, spot

PERPETUAL, CALL = example_instruments()


def test_make_price_rounds_to_the_tick_in_the_chosen_direction() -> None:
    assert PERPETUAL.make_price("105000.74", round_down=True) == Price(Decimal("105000.5"), 1)
    assert PERPETUAL.make_price("105000.74", round_down=False) == Price(Decimal("105001.0"), 1)
    assert PERPETUAL.make_price("105000.5", round_down=False) == Price(Decimal("105000.5"), 1)


def test_make_qty_rounds_to_the_lot_in_the_chosen_direction() -> None:
    assert CALL.make_qty(2.57, round_down=True) == Quantity(Decimal("2.5"), 1)
    assert CALL.make_qty(2.57, round_down=False) == Quantity(Decimal("2.6"), 1)
    assert CALL.make_qty(0.1, round_down=True).value == Decimal("0.1")  # no binary-float drift


def test_make_qty_requires_a_rounding_direction() -> None:
    with pytest.raises(TypeError):
        CALL.make_qty(2.57)  # type: ignore[call-arg]


def test_tradable_size_needs_whole_lots_and_the_minimum() -> None:
    assert CALL.is_tradable_size(Quantity(Decimal("0.3"), 1))
    assert not CALL.is_tradable_size(Quantity(Decimal("0.0"), 1))
    assert not linear_future().is_tradable_size(Quantity(Decimal("0.0005"), 4))


def test_make_money_is_exact_in_the_settlement_currency() -> None:
    fee = linear_future().make_money("-0.000123456789")
    assert (fee.amount, fee.currency) == (Decimal("-0.000123456789"), "USDT")


def test_units_of_contract_size_and_quotes() -> None:
    assert (inverse_future().contract_unit, inverse_future().quote_currency) == ("USD", "USD")
    assert (inverse_option(1.0, True).contract_unit, inverse_option(1.0, True).quote_currency) == ("BTC", "BTC")
    assert (linear_option(1.0, True).contract_unit, linear_option(1.0, True).quote_currency) == ("BTC", "USD")
    assert spot().margin_currency == "BTC"
    assert linear_future().margin_currency == "USDT"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"strike_usd": None}, "strike and option type are required for options"),
        ({"expiry_ns": None}, "an expiry is required"),
        ({"settlement_currency": "USDC"}, "an inverse instrument settles in BTC"),
        ({"tick_size": Decimal(0)}, "tick_size must be > 0"),
        ({"strike_usd": Decimal(-1)}, "strike must be > 0"),
    ],
)
def test_inconsistent_instrument_is_refused_naming_it(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as error:
        dataclasses.replace(CALL, **changes)
    assert CALL.instrument_id in str(error.value)


def test_linear_instrument_must_settle_in_usd_and_spot_cannot_be_inverse() -> None:
    with pytest.raises(ConfigError, match="a linear instrument settles in a USD currency"):
        dataclasses.replace(linear_future(), settlement_currency="BTC")
    with pytest.raises(ConfigError, match="spot is linear"):
        dataclasses.replace(spot(), settlement=Settlement.INVERSE, settlement_currency="BTC")
    with pytest.raises(ConfigError, match="refused for spot and perpetuals"):
        dataclasses.replace(PERPETUAL, kind=InstrumentKind.PERPETUAL, expiry_ns=1)


def test_registry_lookup_of_an_unknown_id_names_it_and_close_matches() -> None:
    registry = InstrumentRegistry(example_instruments())
    assert registry.get("BTC-PERPETUAL.DERIBIT") == PERPETUAL
    assert "BTC-PERPETUAL.DERIBIT" in registry and len(registry) == 2
    with pytest.raises(UnknownInstrument, match="'BTC-PERPETUAL.DERIBT'.*close matches: 'BTC-PERPETUAL.DERIBIT'"):
        registry.get("BTC-PERPETUAL.DERIBT")
    with pytest.raises(KeyError):  # UnknownInstrument is also a KeyError
        registry.get("SOL-PERPETUAL")


def test_registry_refuses_duplicate_ids() -> None:
    with pytest.raises(ConfigError, match="defined twice"):
        InstrumentRegistry([PERPETUAL, PERPETUAL])


def test_example_call_is_an_inverse_option() -> None:
    assert isinstance(CALL, Instrument) and CALL.is_option and CALL.is_inverse and CALL.is_call
