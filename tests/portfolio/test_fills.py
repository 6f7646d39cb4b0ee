"""Fills: trading at fair value conserves equity; fees, premiums and realised P&L are exact."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest
from portfolio.book_builders import (
    AS_OF_NS,
    balance,
    inverse_future,
    market,
    mixed_balances,
    mixed_holdings,
    portfolio,
)

from hedgekeeper.errors import BadData
from hedgekeeper.portfolio.fills import apply_fill
from hedgekeeper.portfolio.instruments import Instrument, InstrumentKind
from hedgekeeper.portfolio.market import year_fraction
from hedgekeeper.portfolio.positions import Position
from hedgekeeper.portfolio.values import Money
from hedgekeeper.pricing import black76_price, inverse_price

SNAPSHOT = market()


def _fair_price(instrument: Instrument) -> float:
    """Return the price at which the book values ``instrument``, in its quote currency."""
    btc = SNAPSHOT.underlying(instrument.underlying)
    if instrument.kind in (InstrumentKind.SPOT, InstrumentKind.PERPETUAL):
        return btc.spot_usd
    t_years = year_fraction(AS_OF_NS, instrument.expiry_ns)
    forward = btc.spot_usd * math.exp(btc.basis_rate * t_years)
    if instrument.kind is InstrumentKind.FUTURE:
        return forward
    args = (forward, float(instrument.strike_usd), t_years, btc.vol, instrument.is_call)
    return float(inverse_price(*args) if instrument.is_inverse else black76_price(*args))


def _equity_usd(holdings, balances) -> float:
    return portfolio(holdings, balances, SNAPSHOT).risk().equity_usd


@pytest.mark.parametrize("index", range(len(mixed_holdings())))
@pytest.mark.parametrize("size", [3.0, -7.0])
def test_trading_at_fair_value_without_fee_conserves_equity(index: int, size: float) -> None:
    holdings = mixed_holdings()
    balances = mixed_balances()
    instrument = holdings[index][0]
    registry = {i.instrument_id: i for i, _ in holdings}
    positions, new_balances = apply_fill([p for _, p in holdings], balances, instrument, size, _fair_price(instrument))
    after = [(registry[p.instrument_id], p) for p in positions]
    before = _equity_usd(holdings, balances)
    assert _equity_usd(after, new_balances) == pytest.approx(before, rel=1e-12)


def test_fee_lowers_equity_by_its_value_in_usd() -> None:
    holdings = mixed_holdings()
    instrument = holdings[5][0]  # an inverse perpetual: the fee is paid in BTC
    positions, balances = apply_fill([p for _, p in holdings], mixed_balances(), instrument, 100.0,
                                     _fair_price(instrument), fee=0.002)
    registry = {i.instrument_id: i for i, _ in holdings}
    after = _equity_usd([(registry[p.instrument_id], p) for p in positions], balances)
    assert after == pytest.approx(_equity_usd(holdings, mixed_balances()) - 0.002 * 100_000.0, rel=1e-12)


def test_inverse_perpetual_round_trip_realises_the_coin_pnl() -> None:
    perp = inverse_future()
    start = (balance("deribit", "BTC", "1.0"),)
    positions, balances = apply_fill((), start, perp, 1_000.0, 100_000.0)  # 10,000 USD of face
    assert positions == (Position(perp.instrument_id, 1_000.0, 100_000.0),)
    positions, balances = apply_fill(positions, balances, perp, -1_000.0, 125_000.0)
    assert positions == ()
    # 10,000 USD face: 0.1 BTC bought back at 0.08 BTC.
    assert float(balances[0].money.amount) == pytest.approx(1.0 + 10_000 * (1 / 100_000 - 1 / 125_000), abs=1e-15)


def test_adding_to_an_inverse_position_averages_the_entry_by_face() -> None:
    perp = inverse_future()
    positions, _ = apply_fill((), (), perp, 100.0, 100_000.0)
    positions, _ = apply_fill(positions, (), perp, 100.0, 50_000.0)
    # Equal face at 100k and 50k: the harmonic mean, 66,666.67.
    assert positions[0].entry_price_usd == pytest.approx(2 / (1 / 100_000 + 1 / 50_000))


def test_flipping_a_position_realises_the_old_side_and_enters_at_the_fill() -> None:
    holdings = mixed_holdings()
    perp = holdings[7][0]  # linear BTC perpetual, long 2.5 at 99,100
    positions, balances = apply_fill([holdings[7][1]], (), perp, -4.0, 100_000.0)
    assert positions == (Position(perp.instrument_id, -1.5, 100_000.0),)
    assert balances[0].money == Money(Decimal("2250.0"), "USDT")


def test_spot_purchase_moves_coin_and_usd_balances_exactly() -> None:
    holdings = mixed_holdings()
    spot = holdings[9][0]
    # Spot sits in the coin's account, so the fee (0.1% of the coin bought) is paid in BTC.
    _, balances = apply_fill((), (balance("binance", "USDT", "1000.00"),), spot, 0.005, 100_000.0, fee=5e-06)
    amounts = {b.money.currency: b.money.amount for b in balances}
    assert amounts == {"USDT": Decimal("500.00"), "BTC": Decimal("0.005") - Decimal("0.000005")}


@pytest.mark.parametrize(("size", "price", "fee"), [(np.nan, 1.0, 0.0), (1.0, 0.0, 0.0), (1.0, 1.0, np.inf)])
def test_bad_fill_is_refused(size: float, price: float, fee: float) -> None:
    with pytest.raises(BadData, match="must be finite"):
        apply_fill((), (), inverse_future(), size, price, fee)
