"""Replication: with zero costs, hedging often reproduces the Black-Scholes price on GBM.

A short call sold at its Black-Scholes value and delta-hedged every hour through
the whole engine (ladder risk, time policy, planner, simulated taker, expiry
settlement) ends with a P&L whose mean is zero within Monte Carlo error, and whose
spread is a small fraction of the premium, far below the unhedged one.
"""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
from engine.engine_builders import PERP, T0_NS, engine, gbm_spots, ticks

from hedgekeeper.engine.book_state import BookState
from hedgekeeper.execution.fees import FeeSchedule, VenueFees
from hedgekeeper.policy.risk_profile import load_risk_profile
from hedgekeeper.policy.triggers import TimePolicy
from hedgekeeper.portfolio.instruments import Instrument, InstrumentKind, InstrumentRegistry, Settlement
from hedgekeeper.portfolio.market import MarketSnapshot, UnderlyingMarket
from hedgekeeper.portfolio.positions import Balance, Position
from hedgekeeper.portfolio.values import Money
from hedgekeeper.pricing import black_scholes_price

VOL = 0.6
DAYS = 4
STEP_S = 3_600.0
PATHS = 20
CALL = Instrument(
    instrument_id="BTC-4D-100000-C", venue="deribit", kind=InstrumentKind.OPTION, settlement=Settlement.LINEAR,
    underlying="BTC", settlement_currency="USDC", contract_size=Decimal(1), tick_size=Decimal("0.1"),
    lot_size=Decimal("0.001"), min_size=Decimal("0.001"), expiry_ns=T0_NS + DAYS * 86_400 * 10**9,
    strike_usd=Decimal(100_000), is_call=True,
)
FREE = FeeSchedule(venues={"binance": VenueFees(taker=0.0, maker=0.0), "deribit": VenueFees(taker=0.0, maker=0.0)})


def _hedged_pnl(spots: np.ndarray) -> float:
    market = MarketSnapshot(T0_NS, {"BTC": UnderlyingMarket(underlying="BTC", spot_usd=100_000.0, vol=VOL,
                                                            basis_rate=0.0)})
    state = BookState(InstrumentRegistry([PERP, CALL]), [Position(CALL.instrument_id, -1.0)],
                      [Balance("deribit", Money(Decimal(1_000_000), "USDC")),
                       Balance("binance", Money(Decimal(1_000_000), "USDT"))], market)
    start_equity = state.portfolio.risk().equity_usd
    profile = load_risk_profile({"BTC": {"delta_coin": {"target": 0.0, "width": 10.0}}})
    policy = TimePolicy(profile=profile, hedge_to="target", interval_ns=int(STEP_S * 1e9))
    recorder = engine(state, policy, fees=FREE).run(ticks(spots, STEP_S, half_spread_usd=1e-6, depth_coin=1e6))
    assert state.position(CALL.instrument_id) == 0.0  # settled at expiry
    return recorder.samples[-1].equity_usd - start_equity


def test_hedged_short_call_reproduces_the_black_scholes_price() -> None:
    steps = int(DAYS * 86_400 / STEP_S) + 1
    rng = np.random.default_rng(2024)
    pnl, unhedged = [], []
    premium = float(black_scholes_price(100_000.0, 100_000.0, DAYS / 365, VOL, True))
    for _ in range(PATHS):
        spots = np.concatenate([[100_000.0], gbm_spots(steps - 1, STEP_S, VOL, rng)])
        pnl.append(_hedged_pnl(spots))
        unhedged.append(premium - max(spots[-1] - 100_000.0, 0.0))
    pnl_usd = np.array(pnl)
    standard_error = pnl_usd.std(ddof=1) / math.sqrt(PATHS)
    assert abs(pnl_usd.mean()) < 4.0 * standard_error + 1.0
    # Hourly hedging leaves a spread of about sqrt(pi/4) vega vol / sqrt(2 n): a few % of the premium.
    assert pnl_usd.std(ddof=1) < 0.15 * premium
    assert pnl_usd.std(ddof=1) < 0.25 * np.std(unhedged, ddof=1)
