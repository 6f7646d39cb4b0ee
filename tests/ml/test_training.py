"""Training: samples from a hedging run, walk-forward purged and embargoed splits, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest

from hedgekeeper.ml.features import FEATURES
from hedgekeeper.ml.labels import defer_labels
from hedgekeeper.ml.simulation import HedgingTask, at_the_money_book, market_path, spiky_events
from hedgekeeper.ml.training import gate_samples, train_gate, walk_forward_splits
from hedgekeeper.policy.risk_profile import load_risk_profile
from hedgekeeper.policy.triggers import ThresholdPolicy


@pytest.fixture(scope="module")
def task() -> HedgingTask:
    path = market_path(spiky_events(np.random.default_rng(21), days=4.0))
    return HedgingTask("simulated", path, at_the_money_book(path))


@pytest.fixture(scope="module")
def policy() -> ThresholdPolicy:
    return ThresholdPolicy(profile=load_risk_profile({"BTC": {"delta_coin": {"target": 0.0, "width": 0.5}}}),
                           hedge_to="edge")


def test_walk_forward_trains_only_on_labels_known_before_the_test_block_and_its_embargo() -> None:
    ts = np.arange(1000, dtype=np.int64) * 60
    label_end = ts + 900
    embargo = 1200
    splits = walk_forward_splits(ts, label_end, 4, embargo)
    assert len(splits) == 4
    covered = np.concatenate([test for _, test in splits])
    assert covered.tolist() == list(range(400, 1000))
    for train, test in splits:
        start = ts[test[0]]
        assert label_end[train].max() < start - embargo
        # the purge and embargo remove exactly the samples whose label ends too late
        expected = np.flatnonzero((ts < start) & (label_end < start - embargo))
        assert train.tolist() == expected.tolist()
        assert len(train) == test[0] - (900 + embargo) // 60  # 60 k + 900 < 60 * start - 1200


def test_samples_carry_the_labels_of_their_decisions(task: HedgingTask, policy: ThresholdPolicy) -> None:
    samples = gate_samples(task, policy, horizon_steps=15, risk_aversion_per_usd=0.0, label_kind="persisted",
                           counterfactual_steps=0)
    assert len(samples) > 50 and samples.X.shape == (len(samples), len(FEATURES))
    assert np.all(np.diff(samples.ts_ns) >= 0)
    steps = np.searchsorted(task.path.ts_ns, samples.ts_ns)
    # each sample's features: delta outside the band (excess > 0), and its label recomputed from the path
    excess = samples.X[:, FEATURES.index("excess_ratio")]
    assert np.all(excess > 0)
    deviation = samples.X[:, FEATURES.index("deviation_ratio")]
    hedge = deviation * 0.5 - task.delta_coin[steps]
    labels, _, known = defer_labels(steps, hedge, np.full(len(steps), -0.5), np.full(len(steps), 0.5),
                                    task.delta_coin, task.path.spot_usd, 15, 0.0006, 0.0, "persisted")
    assert known.all()
    assert labels.tolist() == samples.y.tolist()


def test_training_with_one_seed_twice_gives_the_same_model(task: HedgingTask, policy: ThresholdPolicy) -> None:
    samples = gate_samples(task, policy, horizon_steps=15, risk_aversion_per_usd=0.0, counterfactual_steps=5,
                           label_kind="persisted")
    params = {"n_estimators": 40, "min_child_samples": 10}
    first = train_gate(samples, model_params=params, n_splits=2, random_state=3)
    second = train_gate(samples, model_params=params, n_splits=2, random_state=3)
    assert first.saved.metrics == second.saved.metrics
    np.testing.assert_array_equal(first.saved.model.predict_proba(samples.X),
                                  second.saved.model.predict_proba(samples.X))
    np.testing.assert_array_equal(first.oof_probability, second.oof_probability)
    assert first.saved.training_start_ns == samples.ts_ns.min()
    assert first.saved.features == FEATURES
