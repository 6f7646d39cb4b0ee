"""Tests of ``ml/evaluation.py``: reading frontiers at equal hedging error."""

from __future__ import annotations

import numpy as np

from hedgekeeper.ml.evaluation import PolicyPoint, comparison_lines, dominance, evaluate_policies
from hedgekeeper.ml.pipeline import load_ml_config, make_policy
from hedgekeeper.ml.simulation import HedgingTask, at_the_money_book, market_path, spiky_events


def _point(label: str, error: float, cost: float) -> PolicyPoint:
    return PolicyPoint(label, "f", 0.0, cost, error, 0, 0, 0)


def test_comparison_reads_the_gated_frontier_at_static_errors_when_it_lies_left_of_them() -> None:
    static = [_point("s1", 460.0, 532.0), _point("s2", 477.0, 195.0)]
    gated = [_point("g1", 450.0, 193.0), _point("g2", 492.0, 155.0)]
    lines = "\n".join(comparison_lines("t", gated, static))
    assert "no efficient gated point inside the static range" in lines
    # at 477 USD the gated frontier costs 193 + (155 - 193) * 27 / 42 = 168.6 USD: 13.6% below 195
    assert "gated       169 USD   saved  13.6%" in lines
    assert [(reference.label, best.label) for reference, best in dominance(gated, static)] == [("s1", "g1"), ("s2", "g1")]


def test_start_hedged_run_pays_nothing_for_its_first_hedge() -> None:
    config = load_ml_config({"name": "t", "model_path": "unused.joblib", "data": {"source": "simulated"},
                             "policies": {"family": "threshold", "parameters": [1.0, 2.0], "train_parameters": [1.0],
                                          "gated_parameters": [1.0], "defer_probabilities": [0.5]}})
    path = market_path(spiky_events(np.random.default_rng(3), days=0.2), step_s=60.0)
    task = HedgingTask("t", path, at_the_money_book(path))
    variants = [("wide", "threshold", 1e3, lambda: make_policy(config, 1e3))]  # never trades after the start
    unhedged = evaluate_policies([task], variants)[0]
    hedged = evaluate_policies([task], variants, start_hedged=True)[0]
    assert unhedged.rebalances == 0 and hedged.rebalances == 0
    assert hedged.cost_usd == 0.0
    assert hedged.hedging_error_usd < unhedged.hedging_error_usd
