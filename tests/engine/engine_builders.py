"""A small engine for tests: a BTC book, a linear perpetual to hedge with, a GBM or crafted path."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

import numpy as np

from hedgekeeper.engine.book_state import BookState
from hedgekeeper.engine.clock import SimulatedClock
from hedgekeeper.engine.hedging import HedgeInstrument, PlannerHedger
from hedgekeeper.engine.loop import Engine, EngineSettings, UnderlyingFeed
from hedgekeeper.execution.fees import FeeSchedule, VenueFees
from hedgekeeper.execution.simulated_taker import SimulatedTaker
from hedgekeeper.market.events import MarketEvent, TopOfBook
from hedgekeeper.market.validation import EdgeValidator
from hedgekeeper.policy.base import Policy
from hedgekeeper.portfolio.instruments import Instrument, InstrumentKind, InstrumentRegistry, Settlement
from hedgekeeper.portfolio.market import MarketSnapshot, UnderlyingMarket
from hedgekeeper.portfolio.positions import Balance, Position
from hedgekeeper.portfolio.values import Money

T0_NS = 1_750_000_000 * 10**9
DAY_NS = 86_400 * 10**9
PERP_ID = "BTCUSDT-PERP"

PERP = Instrument(
    instrument_id=PERP_ID, venue="binance", kind=InstrumentKind.PERPETUAL, settlement=Settlement.LINEAR,
    underlying="BTC", settlement_currency="USDT", contract_size=Decimal(1), tick_size=Decimal("0.1"),
    lot_size=Decimal("0.001"), min_size=Decimal("0.001"),
)
CALL = Instrument(
    instrument_id="BTC-30D-100000-C", venue="deribit", kind=InstrumentKind.OPTION, settlement=Settlement.LINEAR,
    underlying="BTC", settlement_currency="USDC", contract_size=Decimal(1), tick_size=Decimal("0.1"),
    lot_size=Decimal("0.01"), min_size=Decimal("0.01"), expiry_ns=T0_NS + 30 * DAY_NS,
    strike_usd=Decimal(100_000), is_call=True,
)
FEES = FeeSchedule(venues={"binance": VenueFees(taker=0.0005, maker=0.0002),
                           "deribit": VenueFees(taker=0.0003, maker=0.0)})


def book_state(positions: Sequence[Position], usdc: str = "1000000", usdt: str = "1000000",
               vol: float = 0.6) -> BookState:
    """Return a BTC book at 100,000 with the perpetual and the call listed."""
    market = MarketSnapshot(T0_NS, {"BTC": UnderlyingMarket(underlying="BTC", spot_usd=100_000.0, vol=vol,
                                                            basis_rate=0.0)})
    balances = [Balance("deribit", Money(Decimal(usdc), "USDC")), Balance("binance", Money(Decimal(usdt), "USDT"))]
    return BookState(InstrumentRegistry([PERP, CALL]), positions, balances, market)


def engine(state: BookState, policy: Policy, fees: FeeSchedule = FEES, **settings: int) -> Engine:
    """Return an engine hedging ``state`` with the perpetual, whose book is the spot stream."""
    return Engine(
        clock=SimulatedClock(start_ns=T0_NS),
        book=state,
        feeds=[UnderlyingFeed(underlying="BTC", spot_stream=PERP_ID)],
        policy=policy,
        hedger=PlannerHedger(instruments={"BTC": [HedgeInstrument(instrument_id=PERP_ID)]}, taker=SimulatedTaker(fees)),
        validator=EdgeValidator(max_delay_ns=10 * 10**9, max_oracle_age_ns=3600 * 10**9),
        cost_fraction=lambda underlying, books: 0.0005,
        settings=EngineSettings(**settings),
    )


def gbm_spots(n_steps: int, dt_s: float, vol: float, rng: np.random.Generator, spot0: float = 100_000.0) -> np.ndarray:
    """Return a driftless-in-price GBM path of ``n_steps`` spots, ``dt_s`` seconds apart."""
    dt_years = dt_s / (365 * 86_400)
    steps = rng.normal(-0.5 * vol**2 * dt_years, vol * math.sqrt(dt_years), n_steps)
    return spot0 * np.exp(np.cumsum(steps))


def ticks(spots: np.ndarray, dt_s: float, half_spread_usd: float = 0.5, depth_coin: float = 50.0) -> list[MarketEvent]:
    """Return one top-of-book event on the perpetual per spot, ``dt_s`` seconds apart."""
    return [
        TopOfBook(T0_NS + int(i * dt_s * 1e9), PERP_ID, s - half_spread_usd, depth_coin, s + half_spread_usd,
                  depth_coin)
        for i, s in enumerate(spots)
    ]
