"""Pure conversions between ccxt's unified structures and ours.

Independent truths: round trips (contracts -> ccxt amount -> contracts is the
identity, exactly), the venues' contract sizes (Deribit 10 USD per BTC future
contract), and ccxt's unified status vocabulary.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgekeeper.errors import BadData, InvalidOrder
from hedgekeeper.portfolio.instruments import Instrument, InstrumentKind, Settlement, example_instruments
from hedgekeeper.venues.ccxt.dialects import DIALECTS
from hedgekeeper.venues.ccxt.parsing import (
    amount_per_contract,
    balances_from_ccxt,
    create_order_arguments,
    fill_from_ccxt,
    instrument_from_market,
    order_from_ccxt,
    position_from_ccxt,
)
from hedgekeeper.venues.orders import OrderRequest, OrderStatus, OrderType, Side, TimeInForce

PERPETUAL, CALL = example_instruments()
LINEAR = Instrument(
    instrument_id="BTCUSDT.BINANCE", venue="binance", kind=InstrumentKind.PERPETUAL, settlement=Settlement.LINEAR,
    underlying="BTC", settlement_currency="USDT", contract_size=Decimal(1), tick_size=Decimal("0.1"),
    lot_size=Decimal("0.001"), min_size=Decimal("0.001"),
)
CASES = [(PERPETUAL, "deribit"), (CALL, "deribit"), (LINEAR, "binanceusdm"), (LINEAR, "bybit")]


def request(instrument: Instrument, lots: int, order_type: OrderType = OrderType.LIMIT,
            time_in_force: TimeInForce = TimeInForce.GTC, client_order_id: str = "hk1") -> OrderRequest:
    return OrderRequest(
        client_order_id=client_order_id, instrument_id=instrument.instrument_id, side=Side.BUY,
        quantity=instrument.make_qty(instrument.lot_size * lots, round_down=True), order_type=order_type,
        price=instrument.make_price(instrument.tick_size * 1000, round_down=True)
        if order_type is OrderType.LIMIT else None,
        time_in_force=time_in_force,
    )


@pytest.mark.parametrize(("instrument", "exchange_id"), CASES)
@given(lots=st.integers(min_value=1, max_value=10**9))
def test_contracts_to_ccxt_amount_and_back_is_exact(instrument: Instrument, exchange_id: str, lots: int) -> None:
    dialect = DIALECTS[exchange_id]
    sent = request(instrument, lots)
    arguments = create_order_arguments(sent, instrument, "SYMBOL", dialect)
    assert Decimal(arguments.amount) == sent.quantity.value * amount_per_contract(instrument, dialect)
    # ccxt hands the amount back as a float parsed from the venue's digits
    echoed = order_from_ccxt({"id": "1", "amount": float(arguments.amount), "status": "open"}, instrument, dialect,
                             sent)
    assert echoed.quantity == sent.quantity


def test_deribit_amount_is_usd_face_for_perpetuals_and_coin_for_options() -> None:
    deribit = DIALECTS["deribit"]
    assert create_order_arguments(request(PERPETUAL, 5), PERPETUAL, "P", deribit).amount == "50"
    assert create_order_arguments(request(CALL, 25), CALL, "C", deribit).amount == "2.5"


@pytest.mark.parametrize(("time_in_force", "params"), [
    (TimeInForce.GTC, {}), (TimeInForce.IOC, {"timeInForce": "IOC"}), (TimeInForce.FOK, {"timeInForce": "FOK"}),
    (TimeInForce.POST_ONLY, {"postOnly": True}),
])
def test_time_in_force_becomes_ccxts_unified_parameters(time_in_force: TimeInForce, params: dict) -> None:
    arguments = create_order_arguments(request(LINEAR, 3, time_in_force=time_in_force), LINEAR, "BTC/USDT:USDT",
                                       DIALECTS["binanceusdm"])
    assert arguments.params == {"newClientOrderId": "hk1", **params}


def test_market_order_sends_no_price_nor_time_in_force_and_refuses_post_only() -> None:
    bybit = DIALECTS["bybit"]
    market = create_order_arguments(request(LINEAR, 3, OrderType.MARKET, TimeInForce.IOC), LINEAR, "S", bybit)
    assert (market.type, market.price, market.params) == ("market", None, {"orderLinkId": "hk1"})
    with pytest.raises(InvalidOrder, match="a market order cannot be post_only"):
        create_order_arguments(request(LINEAR, 3, OrderType.MARKET, TimeInForce.POST_ONLY), LINEAR, "S", bybit)


def test_limit_order_without_a_price_is_refused() -> None:
    priceless = OrderRequest(client_order_id="hk1", instrument_id=LINEAR.instrument_id, side=Side.SELL,
                             quantity=LINEAR.make_qty("0.002", round_down=True))
    with pytest.raises(InvalidOrder, match="needs a price"):
        create_order_arguments(priceless, LINEAR, "S", DIALECTS["okx"])


@pytest.mark.parametrize(("ccxt_status", "filled", "expected"), [
    ("open", 0.0, OrderStatus.ACKNOWLEDGED), ("open", 0.001, OrderStatus.PARTIALLY_FILLED),
    ("closed", 0.003, OrderStatus.FILLED), ("canceled", 0.001, OrderStatus.CANCELLED),
    ("rejected", 0.0, OrderStatus.REJECTED), ("expired", 0.0, OrderStatus.EXPIRED),
    (None, None, OrderStatus.ACKNOWLEDGED),
])
def test_ccxt_order_status_maps_to_ours(ccxt_status: str | None, filled: float | None, expected: OrderStatus) -> None:
    sent = request(LINEAR, 3)
    order = order_from_ccxt({"id": "9", "status": ccxt_status, "filled": filled}, LINEAR, DIALECTS["binanceusdm"],
                            sent)
    assert order.status is expected
    assert order.filled_quantity == (Decimal(0) if filled is None else Decimal(repr(filled)))


def test_order_without_an_earlier_view_must_carry_its_fields() -> None:
    with pytest.raises(BadData, match="no quantity"):
        order_from_ccxt({"id": "9", "status": "open", "side": "buy", "type": "limit"}, LINEAR, DIALECTS["okx"])


def test_fill_without_a_fee_is_bad_data() -> None:
    trade = {"id": "7", "order": "9", "side": "buy", "amount": 0.002, "price": 104000.1, "timestamp": 1,
             "takerOrMaker": "taker", "fee": None}
    with pytest.raises(BadData, match="has no fee"):
        fill_from_ccxt(trade, LINEAR, DIALECTS["binanceusdm"])


def test_short_position_is_negative_whatever_the_sign_of_contracts() -> None:
    for contracts in (-20.0, 20.0):  # Deribit reports a short's size negative, others positive
        position = position_from_ccxt({"contracts": contracts, "side": "short", "entryPrice": 104105.0}, PERPETUAL,
                                      DIALECTS["deribit"])
        assert position.size_contracts == Decimal(-2)


def test_market_of_an_unknown_type_is_bad_data() -> None:
    market = {"id": "BTC-USDT", "type": "margin", "precision": {}, "limits": {"amount": {}}}
    with pytest.raises(BadData, match="type 'margin'"):
        instrument_from_market(market, DIALECTS["okx"])


def test_balance_payload_without_the_venues_fields_is_bad_data() -> None:
    with pytest.raises(BadData, match="bybit balance payload lacks"):
        balances_from_ccxt({"info": {"result": {}}}, DIALECTS["bybit"])


def test_market_without_its_tick_size_is_bad_data_naming_it() -> None:
    market = {"id": "BTCUSDT", "type": "swap", "base": "BTC", "quote": "USDT", "settle": "USDT", "contractSize": 1.0,
              "precision": {"amount": 0.001}, "limits": {"amount": {"min": 0.001}}}
    with pytest.raises(BadData, match="price precision of BTCUSDT is missing"):
        instrument_from_market(market, DIALECTS["binanceusdm"])
