"""Benchmark: market events per second through the engine's full loop, one core.

A 100-option BTC book (calls and puts, strikes 70k..130k, expiries 7..90 days,
USDC-settled) hedged with a USDT perpetual under a delta threshold inside hard
limits. Each event is a top-of-book tick of the perpetual 100 ms apart on a GBM
path: validation, the order book, the risk update, the policy, and the planner and
a fill whenever the policy acts. The peer is the same loop revaluing the whole book
on every tick (ladder rebuilt each event) instead of reading the risk ladder; the
middle row asks the policy at every tick (no quiet windows, ``policy/quiet.py``).

    NUMBA_NUM_THREADS=1 python bench/bench_engine.py [--events 200000]
"""

from __future__ import annotations

import argparse
import math
import time
from decimal import Decimal

import numpy as np

from hedgekeeper.engine.book_state import BookState
from hedgekeeper.engine.clock import SimulatedClock
from hedgekeeper.engine.hedging import HedgeInstrument, PlannerHedger
from hedgekeeper.engine.loop import Engine, EngineSettings, UnderlyingFeed
from hedgekeeper.execution.fees import FeeSchedule, VenueFees
from hedgekeeper.execution.simulated_taker import SimulatedTaker
from hedgekeeper.market.events import TopOfBook
from hedgekeeper.market.validation import EdgeValidator
from hedgekeeper.policy.hard_limits import HardLimits
from hedgekeeper.policy.risk_profile import load_risk_profile
from hedgekeeper.policy.triggers import ThresholdPolicy
from hedgekeeper.portfolio.instruments import Instrument, InstrumentKind, InstrumentRegistry, Settlement
from hedgekeeper.portfolio.market import MarketSnapshot, UnderlyingMarket
from hedgekeeper.portfolio.positions import Balance, Position
from hedgekeeper.portfolio.values import Money

T0_NS = 1_750_000_000 * 10**9
DAY_NS = 86_400 * 10**9
PERP = Instrument(
    instrument_id="BTCUSDT-PERP", venue="binance", kind=InstrumentKind.PERPETUAL, settlement=Settlement.LINEAR,
    underlying="BTC", settlement_currency="USDT", contract_size=Decimal(1), tick_size=Decimal("0.1"),
    lot_size=Decimal("0.001"), min_size=Decimal("0.001"),
)


def _book(rng: np.random.Generator) -> BookState:
    options = [
        Instrument(
            instrument_id=f"BTC-{i}", venue="deribit", kind=InstrumentKind.OPTION, settlement=Settlement.LINEAR,
            underlying="BTC", settlement_currency="USDC", contract_size=Decimal(1), tick_size=Decimal("0.1"),
            lot_size=Decimal("0.01"), min_size=Decimal("0.01"),
            expiry_ns=T0_NS + int(rng.integers(7, 91)) * DAY_NS,
            strike_usd=Decimal(int(rng.integers(70, 131)) * 1000), is_call=bool(rng.random() < 0.5),
        )
        for i in range(100)
    ]
    positions = [Position(o.instrument_id, float(rng.integers(-50, 51)) / 10 or 0.1) for o in options]
    market = MarketSnapshot(T0_NS, {"BTC": UnderlyingMarket(underlying="BTC", spot_usd=100_000.0, vol=0.6,
                                                            basis_rate=0.0)})
    balances = [Balance("deribit", Money(Decimal(5_000_000), "USDC")),
                Balance("binance", Money(Decimal(5_000_000), "USDT"))]
    return BookState(InstrumentRegistry([PERP, *options]), positions, balances, market)


def _engine(book: BookState, settings: EngineSettings, width_coin: float) -> Engine:
    profile = load_risk_profile({"BTC": {"delta_coin": {"target": 0.0, "width": width_coin}}})
    fees = FeeSchedule(venues={"binance": VenueFees(taker=0.0005, maker=0.0002),
                               "deribit": VenueFees(taker=0.0003, maker=0.0)})
    return Engine(
        clock=SimulatedClock(start_ns=T0_NS), book=book,
        feeds=[UnderlyingFeed(underlying="BTC", spot_stream=PERP.instrument_id)],
        policy=HardLimits(ThresholdPolicy(profile=profile, hedge_to="target"), profile=profile,
                          min_liquidation_distance=0.05, max_leverage=20.0),
        hedger=PlannerHedger(instruments={"BTC": [HedgeInstrument(instrument_id=PERP.instrument_id)]},
                             taker=SimulatedTaker(fees)),
        validator=EdgeValidator(max_delay_ns=10**10, max_oracle_age_ns=3600 * 10**9),
        cost_fraction=lambda underlying, books: 0.0005,
        settings=settings,
    )


def _ticks(count: int, rng: np.random.Generator) -> list[TopOfBook]:
    dt_years = 0.1 / (365 * 86_400)
    spots = 100_000.0 * np.exp(np.cumsum(rng.normal(0.0, 0.6 * math.sqrt(dt_years), count)))
    return [TopOfBook(T0_NS + i * 100_000_000, PERP.instrument_id, s - 0.5, 50.0, s + 0.5, 50.0)
            for i, s in enumerate(spots.tolist())]


def _rate(settings: EngineSettings, events: list[TopOfBook], width_coin: float = 2.0) -> tuple[float, Engine]:
    engine = _engine(_book(np.random.default_rng(1)), settings, width_coin)
    engine.run(events[:200])  # warm-up: JIT caches, first ladder
    start = time.perf_counter()
    engine.run(events[200:])
    return (len(events) - 200) / (time.perf_counter() - start), engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000, help="ticks through the fast loop")
    parser.add_argument("--peer-events", type=int, default=2_000, help="ticks through the peer")
    parser.add_argument("--tight-width", type=float, default=0.25, help="a tighter delta band, coin")
    options = parser.parse_args()
    import numba

    numba.set_num_threads(1)
    events = _ticks(options.events, np.random.default_rng(2))
    ours, engine = _rate(EngineSettings(), events)
    asking, _ = _rate(EngineSettings(quiet_windows=False), events)
    theirs, _ = _rate(EngineSettings(ladder_max_age_ns=0, quiet_windows=False), events[: options.peer_events])
    print(f"Engine throughput, 100-option book + perpetual hedge, one core, {options.events:,} ticks 100 ms apart")
    print(f"{'loop':<56}{'events/s':>14}")
    print(f"{'hedgekeeper (risk ladder, quiet windows)':<56}{ours:>14,.0f}")
    print(f"{'hedgekeeper, policy asked at every tick':<56}{asking:>14,.0f}")
    print(f"{'peer: full revaluation on every tick':<56}{theirs:>14,.0f}")
    print(f"ratio: {ours / theirs:.0f}x the peer, {ours / asking:.1f}x asking every tick; "
          f"ticks inside a quiet window {engine.quiet_ticks / engine.events_processed:.1%}; "
          f"rebalances {len(engine.recorder.fills)}, decisions recorded {len(engine.recorder.decisions)}, "
          f"samples {len(engine.recorder.samples)}")
    tight, tight_engine = _rate(EngineSettings(), events, width_coin=options.tight_width)
    print(f"with a delta band of +-{options.tight_width:g} coin instead of +-2: {tight:,.0f} events/s, "
          f"{len(tight_engine.recorder.fills)} rebalances through the planner")


if __name__ == "__main__":
    main()
