"""Run a backtest: the live engine over simulated or recorded events, once per policy variant.

``run_backtest`` builds, for every policy of the file (the base ``[policy]`` and each
``[[sweep]]`` variant), a fresh book, the engine with its clock, validator, policy
and hedger, and feeds it the same events (regenerated from the seed, or re-read from
the recorded files). Nothing here differs from a live run but the ``SimulatedClock``
and the ``SimulatedTaker`` (or the simulated exchanges, and with ``[chain]`` a pool
on an in-process EVM: ``exchanges.py``, ``chain.py``). Each run's records and metrics are saved to
``<output_dir>/<name>/results.sqlite``; the base run's report, with the
cost-versus-risk frontier of all runs, to ``report.html``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from hedgekeeper.backtest.chain import chain_execution
from hedgekeeper.backtest.config import Backtest, Variant
from hedgekeeper.backtest.exchanges import simulated_execution
from hedgekeeper.backtest.metrics import BacktestMetrics, compute_metrics
from hedgekeeper.backtest.report import FrontierPoint, write_report
from hedgekeeper.backtest.storage import save_run
from hedgekeeper.engine.book_state import BookState
from hedgekeeper.engine.clock import SimulatedClock
from hedgekeeper.engine.hedging import HedgeInstrument, PlannerHedger
from hedgekeeper.engine.loop import Engine
from hedgekeeper.engine.records import Recorder
from hedgekeeper.execution.simulated_taker import SimulatedTaker
from hedgekeeper.market.events import MarketEvent
from hedgekeeper.market.order_book import OrderBook
from hedgekeeper.market.simulators.runner import simulate_events
from hedgekeeper.market.validation import EdgeValidator
from hedgekeeper.policy.config import build_policy

logger = logging.getLogger(__name__)

NS_PER_SECOND = 1_000_000_000


@dataclass(frozen=True)
class RunResult:
    """One policy variant's run: its label, frontier coordinates, records and metrics."""

    label: str
    family: str
    parameter: float
    recorder: Recorder
    metrics: BacktestMetrics


@dataclass(frozen=True)
class BacktestResult:
    """Every run of a backtest and where its results were written."""

    runs: tuple[RunResult, ...]
    results_path: Path
    report_path: Path


def _run_config(backtest: Backtest, variant: Variant) -> dict[str, object]:
    return {"source": backtest.source, "policy": variant.policy.model_dump(mode="json"),
            "profile": variant.profile.model_dump(mode="json")}


def market_events(backtest: Backtest) -> tuple[Iterator[MarketEvent], int, int]:
    """Return the backtest's events, and its first and last times (ns), from its market source."""
    simulation = backtest.file.simulation
    if simulation is not None:
        end_ns = simulation.start_ts_ns + int(simulation.duration_s * NS_PER_SECOND)
        return simulate_events(simulation), simulation.start_ts_ns, end_ns
    from hedgekeeper.market.replay.scenarios import scenario  # recorded data only when asked for

    replay = backtest.file.replay
    recorded = scenario(replay.scenario)  # type: ignore[union-attr]
    return recorded.events(spread_bps=replay.spread_bps), recorded.start_ns, recorded.end_ns  # type: ignore[union-attr]


def build_engine(backtest: Backtest, variant: Variant) -> Engine:
    """Return a fresh engine for one run: the book at its start, the variant's policy, the simulated exchanges."""
    book = backtest.book
    state = BookState(book.registry, book.positions, book.balances, book.market, book.margin_model)
    hedging = backtest.file.hedging
    taker = SimulatedTaker(backtest.file.fees)
    clock = SimulatedClock(start_ns=book.market.as_of_ns)
    order_books: dict[str, OrderBook] = {}
    execution = simulated_execution(backtest, clock, order_books)
    if backtest.file.chain is not None:  # the chain instrument's hedges are swaps on a deployed pool
        execution = chain_execution(backtest, clock, order_books, taker if execution is None else execution[0],
                                    None if execution is None else execution[1])
    hedger = PlannerHedger(
        instruments={
            name: [HedgeInstrument(**entry.model_dump()) for entry in underlying.instruments]
            for name, underlying in hedging.underlyings.items()
        },
        taker=taker,
        option_vol_spread=hedging.option_vol_spread,
        executor=None if execution is None else execution[0],
    )
    engine_config = backtest.file.engine
    first_hedge = {name: u.instruments[0] for name, u in hedging.underlyings.items()}

    def cost_fraction(underlying: str, order_books) -> float:  # noqa: ANN001 (Mapping[str, OrderBook])
        """Return the taker fee plus half the spread of the underlying's first hedge instrument."""
        entry = first_hedge[underlying]
        venue = book.registry.get(entry.instrument_id).venue
        fee = taker.fees.rates(venue).taker
        order_book = order_books.get(entry.book_stream or entry.instrument_id)
        if order_book is None or order_book.mid_usd is None:
            return fee
        return fee + (order_book.best_ask_usd - order_book.best_bid_usd) / (2.0 * order_book.mid_usd)

    feeds = backtest.feeds()
    listeners = [] if execution is None else [execution[1]]
    features = None
    if variant.policy.ml_gate is not None:  # the gate reads market features computed from the events
        from hedgekeeper.ml.features import UnderlyingFeatures

        tracker = UnderlyingFeatures({feed.underlying: feed.spot_stream for feed in feeds})
        listeners.append(tracker)
        features = tracker.features
    return Engine(
        clock=clock,
        book=state,
        feeds=feeds,
        policy=build_policy(variant.policy, variant.profile),
        hedger=hedger,
        validator=EdgeValidator(
            max_delay_ns=int(engine_config.max_event_delay_s * NS_PER_SECOND),
            max_oracle_age_ns=int(engine_config.max_oracle_age_s * NS_PER_SECOND),
        ),
        cost_fraction=cost_fraction,
        settings=engine_config.settings(),
        listeners=tuple(listeners),
        order_books=order_books,
        features=features,
    )


def run_variant(backtest: Backtest, variant: Variant, progress: Callable[[int], None] | None = None) -> Recorder:
    """Run the engine with ``variant`` over the backtest's events; ``progress(now_ns)`` now and then."""
    engine = build_engine(backtest, variant)
    events, _, _ = market_events(backtest)
    report = None if progress is None else (lambda _: progress(engine.clock.now_ns()))
    try:
        return engine.run(events, report)
    finally:
        engine.hedger.close()


def run_backtest(backtest: Backtest, *, show_progress: bool = True) -> BacktestResult:
    """Run every policy variant of ``backtest``, save the results and write the report."""
    profile = backtest.profile
    instrument_underlyings = {i.instrument_id: i.underlying for i in backtest.book.registry}
    _, start_ns, end_ns = market_events(backtest)
    runs = []
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>5.1f}%"),
        TimeElapsedColumn(), TimeRemainingColumn(), disable=not show_progress, transient=False,
    ) as bar:
        for variant in backtest.variants:
            task = bar.add_task(f"{variant.label:<24}", total=end_ns - start_ns)
            recorder = run_variant(
                backtest, variant, lambda now_ns, t=task: bar.update(t, completed=now_ns - start_ns)
            )
            bar.update(task, completed=end_ns - start_ns)
            metrics = compute_metrics(recorder, profile, sample_interval_ns=backtest.file.engine.settings()
                                      .sample_interval_ns, instrument_underlyings=instrument_underlyings)
            runs.append(RunResult(variant.label, variant.family, variant.parameter, recorder, metrics))

    output = backtest.output_dir
    output.mkdir(parents=True, exist_ok=True)
    results_path = output / "results.sqlite"
    for run, variant in zip(runs, backtest.variants, strict=True):
        save_run(results_path, run.label, run.recorder, config=_run_config(backtest, variant), metrics=run.metrics,
                 overwrite=True)
    frontier = [FrontierPoint(run.label, run.family, run.parameter, run.metrics) for run in runs] if len(runs) > 1 else []
    base = runs[0]
    report_path = write_report(
        output / "report.html", base.recorder, profile, base.metrics,
        title=f"Backtest {backtest.file.backtest.name}",
        config=_run_config(backtest, backtest.variants[0]),
        frontier=frontier,
    )
    return BacktestResult(tuple(runs), results_path, report_path)
