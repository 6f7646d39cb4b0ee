"""The engine's book: fills, funding, expiry settlement and time, through the pure portfolio functions."""

from __future__ import annotations

import pytest
from portfolio.book_builders import (
    AS_OF_NS,
    NEAR_NS,
    balance,
    inverse_future,
    inverse_option,
    linear_future,
    linear_option,
    market,
)

from hedgekeeper.engine.book_state import BookState
from hedgekeeper.portfolio.instruments import InstrumentRegistry
from hedgekeeper.portfolio.positions import Position


def _state(holdings, balances) -> BookState:
    registry = InstrumentRegistry([i for i, _ in holdings])
    return BookState(registry, [p for _, p in holdings], balances, market())


def test_long_linear_perpetual_pays_positive_funding() -> None:
    perp = linear_future()
    state = _state([(perp, Position(perp.instrument_id, 2.0, 100_000.0))], [balance("binance", "USDT", "10000")])
    received = state.pay_funding(perp.instrument_id, 0.0001, 100_000.0)
    assert received == pytest.approx(-20.0)
    assert float(state.balances[0].money.amount) == pytest.approx(9_980.0)


def test_short_inverse_perpetual_receives_funding_in_coin() -> None:
    perp = inverse_future()
    state = _state([(perp, Position(perp.instrument_id, -1_000.0, 100_000.0))], [balance("deribit", "BTC", "1")])
    # 10,000 USD of face short at a 0.01% rate: receives 1 USD, i.e. 1e-5 BTC at 100,000.
    assert state.pay_funding(perp.instrument_id, 0.0001, 100_000.0) == pytest.approx(1e-5)


def test_expired_options_settle_at_intrinsic_and_worthless_ones_vanish() -> None:
    itm_call = linear_option(90_000.0, True, NEAR_NS)
    otm_put = inverse_option(80_000.0, False, NEAR_NS)
    state = _state(
        [(itm_call, Position(itm_call.instrument_id, 2.0)), (otm_put, Position(otm_put.instrument_id, -5.0))],
        [balance("deribit", "USDC", "0"), balance("deribit", "BTC", "1")],
    )
    equity_before = state.portfolio.risk().equity_usd
    state.advance_to(NEAR_NS)
    assert state.positions == ()
    usdc = next(b for b in state.balances if b.money.currency == "USDC")
    assert float(usdc.money.amount) == pytest.approx(2 * 10_000.0)
    assert state.portfolio.risk().equity_usd == pytest.approx(100_000.0 + 20_000.0)
    assert equity_before != state.portfolio.risk().equity_usd  # time value is gone


def test_fill_is_visible_in_the_rebuilt_portfolio() -> None:
    perp = linear_future()
    state = _state([(perp, Position(perp.instrument_id, 1.0, 100_000.0))], [balance("binance", "USDT", "5000")])
    assert state.portfolio.risk().underlying("BTC").delta_coin == pytest.approx(1.0)
    state.apply_fill(perp.instrument_id, -0.4, 100_000.0, 20.0)
    assert state.position(perp.instrument_id) == pytest.approx(0.6)
    assert state.portfolio.risk().underlying("BTC").delta_coin == pytest.approx(0.6)
    assert state.portfolio.risk().equity_usd == pytest.approx(5_000.0 - 20.0)


def test_spot_and_vol_updates_reach_the_valuation() -> None:
    call = linear_option(100_000.0, True)
    state = _state([(call, Position(call.instrument_id, 1.0))], [balance("deribit", "USDC", "0")])
    before = state.portfolio.risk().equity_usd
    state.set_option_vol(call.instrument_id, 0.9)
    assert state.portfolio.risk().equity_usd > before
    state.set_spot("BTC", 110_000.0)
    assert state.market.underlying("BTC").spot_usd == 110_000.0
    assert state.portfolio.risk().underlying("BTC").spot_usd == 110_000.0
    assert state.market.as_of_ns == AS_OF_NS
