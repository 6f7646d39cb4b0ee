"""Tests of ``backtest/frontier.py``: sweeps through the engine over several markets."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

from hedgekeeper.backtest.config import parse_backtest
from hedgekeeper.backtest.frontier import sweep_frontier
from hedgekeeper.backtest.metrics import cost_at_risk
from hedgekeeper.backtest.runner import market_events

EXAMPLE = Path(__file__).parents[2] / "examples" / "backtest_short_call.toml"


def _short_document() -> dict:
    with EXAMPLE.open("rb") as handle:
        document = tomllib.load(handle)
    simulation = document["simulation"]
    simulation.update(duration_s=1800.0, scenarios=[])
    simulation.pop("options")
    simulation["venues"][0].update(level2_book=False)
    document["engine"]["sample_interval_s"] = 60.0
    document["sweep"] = document["sweep"][:2]
    return document


def test_sweep_frontier_given_events_matches_the_documents_own_source() -> None:
    document = _short_document()
    events = list(market_events(parse_backtest(document))[0])
    own = sweep_frontier(document, [lambda _: None])
    given = sweep_frontier(document, [lambda _: events])
    assert [p.label for p in own] == ["threshold-0.5", "threshold-2"]
    assert [(p.hedging_error_usd, p.cost_usd) for p in own] == [(p.hedging_error_usd, p.cost_usd) for p in given]


def test_sweep_frontier_averages_markets_and_sums_observer_counts() -> None:
    document = _short_document()

    def seeded(seed: int):  # noqa: ANN202
        def market(copy: dict) -> None:
            copy["simulation"]["seed"] = seed
        return market

    def observer(engine, variant):  # noqa: ANN001, ANN202
        return lambda: {"runs": 1.0}

    singles = [sweep_frontier(document, [seeded(seed)]) for seed in (1, 2)]
    both = sweep_frontier(document, [seeded(1), seeded(2)], observer=observer, include_base=True)
    assert both[0].label == "short-call-heston"
    for index, point in enumerate(both[1:]):
        assert math.isclose(point.cost_usd, 0.5 * (singles[0][index].cost_usd + singles[1][index].cost_usd))
        assert point.counts == {"runs": 2.0}
        assert len(point.metrics) == 2
    assert document["simulation"]["seed"] == 20250615  # the document is left unchanged


def test_cost_at_risk_reads_only_the_efficient_frontier() -> None:
    points = [(10.0, 100.0), (20.0, 50.0), (12.0, 120.0)]
    assert cost_at_risk(points, 10.0) == 100.0
    assert cost_at_risk(points, 12.0) == 90.0
    assert math.isnan(cost_at_risk(points, 9.0))
    assert math.isnan(cost_at_risk([], 10.0))
