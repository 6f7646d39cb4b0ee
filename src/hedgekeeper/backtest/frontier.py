"""Cost-versus-risk frontiers through the engine: every sweep variant run on several markets, averaged.

``sweep_frontier`` takes a backtest document with ``[[sweep]]`` variants and a list
of markets: each market edits a copy of the document (a simulation seed, say) and
may hand back the events to run over instead of the document's own source (paths
from a generator that a backtest file cannot name). Every variant runs through
``build_engine`` on every market, and its hedging error and cost are averaged over
the markets. ``backtest.metrics.cost_at_risk`` reads a family's efficient frontier at a given risk,
linear between its Pareto-efficient points, so families compare at equal risk.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hedgekeeper.backtest.config import Variant, parse_backtest
from hedgekeeper.backtest.metrics import BacktestMetrics, compute_metrics
from hedgekeeper.backtest.runner import build_engine, market_events
from hedgekeeper.engine.loop import Engine
from hedgekeeper.market.events import MarketEvent

Market = Callable[[dict[str, Any]], Iterable[MarketEvent] | None]
"""Edit a copy of the document in place; return the events to run over, or None for the document's source."""
Observer = Callable[[Engine, Variant], Callable[[], Mapping[str, float]]]
"""Attach to a freshly built engine; return what to read after the run (counts summed over markets)."""


@dataclass(frozen=True)
class SweepPoint:
    """One variant's figures, averaged over the markets.

    Attributes
    ----------
    label, family : str
    parameter : float, the variant's frontier parameter
    hedging_error_usd : float, mean hedging error per market, USD (``BacktestMetrics.hedging_error_usd``)
    cost_usd : float, mean fees plus slippage per market, USD
    metrics : each market's ``BacktestMetrics``
    counts : what the observer read, summed over the markets
    """

    label: str
    family: str
    parameter: float
    hedging_error_usd: float
    cost_usd: float
    metrics: tuple[BacktestMetrics, ...]
    counts: dict[str, float] = field(default_factory=dict)


def sweep_frontier(
    document: Mapping[str, Any],
    markets: Sequence[Market],
    *,
    observer: Observer | None = None,
    include_base: bool = False,
    progress: Callable[[str], None] | None = None,
) -> list[SweepPoint]:
    """Run every ``[[sweep]]`` variant (and the base run if ``include_base``) on every market; return its means.

    Parameters
    ----------
    document : a parsed backtest document (see ``backtest/config.py``), left unchanged
    markets : each edits a copy of the document and may return the events to run over
    observer : attached to each engine before its run; its counts are summed per variant
    include_base : also run the base ``[policy]`` (the first variant)
    progress : called with one line per variant
    """
    prepared = []
    for market in markets:
        edited = copy.deepcopy(dict(document))
        events = market(edited)
        prepared.append((parse_backtest(edited), None if events is None else list(events)))
    labels = [variant.label for variant in prepared[0][0].variants[(0 if include_base else 1):]]
    points = []
    for label in labels:
        metrics, counts = [], {}
        for backtest, events in prepared:
            variant = next(v for v in backtest.variants if v.label == label)
            engine = build_engine(backtest, variant)
            read = None if observer is None else observer(engine, variant)
            recorder = engine.run(market_events(backtest)[0] if events is None else events)
            metrics.append(compute_metrics(recorder, backtest.profile, sample_interval_ns=backtest.file.engine
                                           .settings().sample_interval_ns))
            for name, value in ({} if read is None else read()).items():
                counts[name] = counts.get(name, 0.0) + value
        point = SweepPoint(label, variant.family, variant.parameter,
                           float(np.mean([m.hedging_error_usd for m in metrics])),
                           float(np.mean([m.costs.total_cost_usd for m in metrics])), tuple(metrics), counts)
        points.append(point)
        if progress is not None:
            progress(f"{label:<32} hedging error {point.hedging_error_usd:>10,.0f} USD   cost "
                     f"{point.cost_usd:>10,.0f} USD")
    return points
