"""Choosing the gate's horizon and defer probability on validation blocks inside the training period."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from hedgekeeper.ml.choice import Candidate, GateChoice, Sweep
from hedgekeeper.ml.evaluation import PolicyPoint
from hedgekeeper.ml.features import FEATURES
from hedgekeeper.ml.model import load_model
from hedgekeeper.ml.pipeline import MLConfig, judged_config, load_ml_config
from hedgekeeper.ml.selection import choose, relative_cost, select_gates, validation_blocks
from hedgekeeper.ml.simulation import HedgingTask, at_the_money_book, market_path, spiky_events

STATIC = [PolicyPoint(f"s{i}", "static", 0.0, cost, error, 0, 0, 0)
          for i, (error, cost) in enumerate([(10.0, 100.0), (20.0, 50.0), (30.0, 30.0), (25.0, 60.0)])]


def _gated(*points: tuple[float, float]) -> list[PolicyPoint]:
    return [PolicyPoint(f"g{i}", "gated", 0.0, cost, error, 0, 0, 0) for i, (error, cost) in enumerate(points)]


def test_relative_cost_is_the_mean_capped_cost_ratio_over_the_efficient_static_settings() -> None:
    # efficient static settings: (10, 100), (20, 50), (30, 30); (25, 60) is dominated by (20, 50).
    # at 10: nothing at error <= 10 -> 1; at 20: (11, 60) costs more than 50 -> 1; at 30: (21, 25) -> 25 / 30
    assert relative_cost(_gated((11.0, 60.0), (21.0, 25.0)), STATIC) == pytest.approx((1 + 1 + 25 / 30) / 3)


def test_choose_picks_the_candidate_cheapest_at_no_more_hedging_error() -> None:
    eager = Candidate(15, 0.5)  # cheapest of all, but only at more hedging error: (1 + 1 + 25/30) / 3 = 0.944
    middle = Candidate(15, 0.65)  # (90/100 + 40/50 + 24/30) / 3 = 0.833
    wary = Candidate(15, 0.8)  # (80/100 + 45/50 + 1) / 3 = 0.9
    gated = {eager: _gated((11.0, 60.0), (21.0, 25.0), (35.0, 5.0)), middle: _gated((9.0, 90.0), (19.0, 40.0), (29.0, 24.0)),
             wary: _gated((10.0, 80.0), (20.0, 45.0))}
    chosen, scores = choose(STATIC, gated)
    assert chosen == middle
    assert scores[middle] == pytest.approx(2.5 / 3)
    assert scores[wary] == pytest.approx(2.7 / 3)


def test_choose_prefers_the_wary_probability_then_the_short_horizon_on_a_tie() -> None:
    same = _gated((10.0, 80.0))
    candidates = {Candidate(30, 0.8): same, Candidate(5, 0.5): same, Candidate(5, 0.8): same, Candidate(15, 0.8): same}
    assert choose(STATIC, candidates)[0] == Candidate(5, 0.8)


def test_validation_blocks_tile_the_later_part_of_the_training_period() -> None:
    blocks = validation_blocks(1_000, 2_000, 3, 0.4)
    assert blocks[0][0] == 1_400 and blocks[-1][1] == 2_000
    assert all(a[1] == b[0] for a, b in zip(blocks[:-1], blocks[1:], strict=True))
    assert [hi - lo for lo, hi in blocks] == [200, 200, 200]
    epoch_ns = 1_700_000_000 * 10**9  # exact at ns since the epoch, where float64 steps by 256 ns
    assert validation_blocks(epoch_ns, epoch_ns + 10**15 + 1, 3, 0.4)[-1][1] == epoch_ns + 10**15 + 1


def _config(tmp_path: Path) -> MLConfig:
    return load_ml_config({
        "name": "selection-test", "output_dir": str(tmp_path), "model_path": str(tmp_path / "unused.joblib"),
        "data": {"source": "simulated"}, "book": {"n_options": 25, "vol": 0.6},
        "labels": {"kind": "persisted", "counterfactual_steps": 5},
        "training": {"embargo_s": 1800, "n_estimators": 20, "min_child_samples": 10},
        "policies": {"family": "threshold", "parameters": [0.5, 1.0, 2.0], "train_parameters": [0.5, 1.0],
                     "gated_parameters": [0.5, 1.0], "defer_probabilities": [0.5, 0.8]},
        "selection": {"horizons_steps": [5, 15], "n_folds": 2, "first_fraction": 0.5},
    })


def _perturbed_after(task: HedgingTask, start_ns: int) -> HedgingTask:
    """Return ``task`` with its prices and features from ``start_ns`` on changed (a different later market)."""
    path = task.path
    later = path.ts_ns >= start_ns
    spot = np.where(later, path.spot_usd * 1.03, path.spot_usd)
    features = np.where(later[:, None], path.features[::-1], path.features)
    changed = replace(path, spot_usd=spot, features=features)
    return HedgingTask(task.name, changed, task.book)


def test_selection_trains_each_block_on_what_was_known_before_it_only(tmp_path: Path) -> None:
    config = _config(tmp_path)
    path = market_path(spiky_events(np.random.default_rng(5), days=3.0))
    task = HedgingTask("train", path, at_the_money_book(path, n_options=25, vol=0.6))
    sweep = Sweep("threshold", (0.5, 1.0, 2.0), (0.5, 1.0))
    run = select_gates(config, [task], [sweep], model_dir=tmp_path / "first")
    embargo_ns = 1800 * 10**9
    assert len(run.blocks) == 2
    assert path.ts_ns[0] < run.blocks[0].start_ns and run.blocks[-1].stop_ns <= path.ts_ns[-1] + 1
    for block in run.blocks:
        assert set(block.training_end_ns) == {5, 15}
        assert all(end < block.start_ns - embargo_ns for end in block.training_end_ns.values())
    selection = run.selections["threshold"]
    assert set(selection.choice.scores) == {Candidate(h, q) for h in (5, 15) for q in (0.5, 0.8)}
    assert selection.choice.chosen == choose(selection.static, selection.gated)[0]
    assert selection.choice.blocks == tuple((block.start_ns, block.stop_ns) for block in run.blocks)

    # another market from the first block on: the first block's models are the same, the second's are not
    other = select_gates(config, [_perturbed_after(task, run.blocks[0].start_ns)], [sweep],
                         model_dir=tmp_path / "second")
    assert other.blocks[0].training_end_ns == run.blocks[0].training_end_ns
    rows = np.random.default_rng(0).normal(size=(200, len(FEATURES)))
    for h in (5, 15):
        first = load_model(tmp_path / "first" / f"selection-test-h{h}-block1.joblib", FEATURES).model
        second = load_model(tmp_path / "second" / f"selection-test-h{h}-block1.joblib", FEATURES).model
        np.testing.assert_array_equal(first.predict_proba(rows), second.predict_proba(rows))
        later = load_model(tmp_path / "second" / f"selection-test-h{h}-block2.joblib", FEATURES).model
        assert not np.array_equal(later.predict_proba(rows),
                                  load_model(tmp_path / "first" / f"selection-test-h{h}-block2.joblib",
                                             FEATURES).model.predict_proba(rows))


def test_judged_config_gates_the_chosen_family_at_the_chosen_horizon_and_probability_only(tmp_path: Path) -> None:
    config = _config(tmp_path)
    sweep = Sweep("whalley_wilmott", (1e-5, 1e-4), (1e-5,))
    choice = GateChoice(sweep, Candidate(30, 0.8), {}, (), 0.5, 1800.0, False)
    judged = judged_config(config, choice, tmp_path / "h30.joblib")
    assert judged.policies.family == "whalley_wilmott"
    assert judged.policies.parameters == (1e-5, 1e-4) and judged.policies.gated_parameters == (1e-5,)
    assert judged.policies.defer_probabilities == (0.8,)
    assert judged.labels.horizon_steps == 30 and judged.model_path == tmp_path / "h30.joblib"
    assert judged.policies.train_parameters == config.policies.train_parameters
