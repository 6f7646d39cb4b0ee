"""Training the gate: samples from hedging tasks, walk-forward purged and embargoed validation, the final fit.

``gate_samples`` runs a static policy along a task and keeps every step at which
it fired (and, for ``counterfactual_steps`` after each, the states a deferring gate
would have seen), with the features known then and the label from the path after
(``ml/labels.py``). ``walk_forward_splits`` cuts time-ordered samples into folds
whose training part ends before the test part starts, minus the samples whose
label window reaches into the test part (purge) and those within ``embargo_ns`` of
it (embargo) (Lopez de Prado, *Advances in Financial Machine Learning*, ch. 7).
``train_gate`` scores the model fold by fold, then fits it on every sample.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hedgekeeper.ml.features import FEATURES, MARKET_FEATURES, position_features
from hedgekeeper.ml.labels import LabelKind, defer_labels
from hedgekeeper.ml.model import GateModel, SavedModel, library_versions
from hedgekeeper.ml.simulation import HedgingTask, run_policy
from hedgekeeper.policy.base import Policy

NS_PER_SECOND = 1_000_000_000


@dataclass(frozen=True)
class Samples:
    """Labelled decisions, time-ordered.

    Attributes
    ----------
    X : array (n, len(FEATURES)), the features, columns in ``FEATURES`` order
    y : int8 array (n,), 1 when deferring was better
    ts_ns : int64 array (n,), decision times
    label_end_ns : int64 array (n,), when each label became known
    gain_usd : array (n,), hedging-now cost minus waiting cost, USD
    """

    X: NDArray[np.float64]  # noqa: N815 (scikit-learn's name)
    y: NDArray[np.int8]
    ts_ns: NDArray[np.int64]
    label_end_ns: NDArray[np.int64]
    gain_usd: NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.y)

    def take(self, index: NDArray[np.int64]) -> Samples:
        """Return the samples at ``index`` (in that order)."""
        return Samples(self.X[index], self.y[index], self.ts_ns[index], self.label_end_ns[index],
                       self.gain_usd[index])

    @staticmethod
    def concatenate(parts: Sequence[Samples]) -> Samples:
        """Return the samples of ``parts`` together, sorted by time."""
        X = np.concatenate([p.X for p in parts])  # noqa: N806
        ts = np.concatenate([p.ts_ns for p in parts])
        order = np.argsort(ts, kind="stable")
        return Samples(X[order], np.concatenate([p.y for p in parts])[order], ts[order],
                       np.concatenate([p.label_end_ns for p in parts])[order],
                       np.concatenate([p.gain_usd for p in parts])[order])


def gate_samples(task: HedgingTask, policy: Policy, *, horizon_steps: int, risk_aversion_per_usd: float,
                 label_kind: LabelKind = "value", counterfactual_steps: int = 10) -> Samples:
    """Return the labelled decisions of ``policy`` (static, not gated) along ``task``.

    Parameters
    ----------
    task : HedgingTask
    policy : Policy, hedging to the band's edge so that its goal gives the band
    horizon_steps : int, ``h`` of the label, steps
    risk_aversion_per_usd : float, ``gamma`` of the label, per USD
    label_kind : "value" or "persisted"
    counterfactual_steps : int, steps after each firing also sampled as if deferred
    """
    run = run_policy(task, policy, "samples", record_decisions=True, counterfactual_steps=counterfactual_steps,
                     with_features=False)
    empty = Samples(np.zeros((0, len(FEATURES))), np.zeros(0, np.int8), np.zeros(0, np.int64),
                    np.zeros(0, np.int64), np.zeros(0))
    if not run.decisions:
        return empty
    steps, hedges, lowers, uppers, deferred = (np.array(column) for column in zip(*run.decisions, strict=True))
    steps = steps.astype(np.int64)
    path = task.path
    labels, gain, known = defer_labels(
        steps, hedges, lowers, uppers, task.delta_coin, path.spot_usd, horizon_steps,
        path.cost_fraction[steps], risk_aversion_per_usd, label_kind,
    )
    rows = []
    last_rebalance: int | None = None
    for step, hedge, lower, upper, deferred_s in run.decisions:
        if deferred_s == 0.0:
            last_ns = last_rebalance
            last_rebalance = int(path.ts_ns[step])
        ts = int(path.ts_ns[step])
        market = dict(zip(MARKET_FEATURES, path.features[step], strict=True))
        position = position_features(
            float(task.delta_coin[step] + hedge), (lower, upper), float(path.spot_usd[step]), ts,
            last_ns,
            None if deferred_s == 0.0 else ts - int(deferred_s * NS_PER_SECOND), market["rv_240"])
        rows.append([{**market, **position}[name] for name in FEATURES])
    X = np.array(rows, dtype=np.float64)[known]  # noqa: N806
    label_end = path.ts_ns[np.minimum(steps + horizon_steps, len(path.ts_ns) - 1)]
    return Samples(X, labels[known], path.ts_ns[steps][known], label_end[known], gain[known])


def known_before(ts_ns: NDArray[np.int64], label_end_ns: NDArray[np.int64], start_ns: int,
                 embargo_ns: int) -> NDArray[np.int64]:
    """Return the indices of the samples that may train a model judged from ``start_ns`` on (ns).

    A sample qualifies when it lies before ``start_ns`` and its label is known more
    than ``embargo_ns`` before it (purged and embargoed).

    >>> ts = np.arange(5, dtype=np.int64) * 10
    >>> known_before(ts, ts + 15, 40, 5).tolist()
    [0, 1]
    """
    return np.flatnonzero((ts_ns < start_ns) & (label_end_ns < start_ns - embargo_ns))


def walk_forward_splits(ts_ns: NDArray[np.int64], label_end_ns: NDArray[np.int64], n_splits: int,
                        embargo_ns: int, first_train_fraction: float = 0.4) -> list[tuple[NDArray[np.int64], NDArray[np.int64]]]:
    """Return (train, test) index pairs of an expanding walk forward, purged and embargoed.

    The samples after the first ``first_train_fraction`` (by count) are cut into
    ``n_splits`` consecutive test blocks. A block's training set is every earlier
    sample whose label is known before the block starts, less ``embargo_ns``.

    Labels known 15 ns after each sample: the first test block starts at 50, so
    only the samples at 0 .. 30 (known by 45) train.

    >>> ts = np.arange(10, dtype=np.int64) * 10
    >>> [(train.tolist(), test.tolist()) for train, test in walk_forward_splits(ts, ts + 15, 2, 0, 0.5)][0]
    ([0, 1, 2, 3], [5, 6])
    """
    n = len(ts_ns)
    start = int(n * first_train_fraction)
    edges = np.linspace(start, n, n_splits + 1).astype(int)
    splits = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        if hi <= lo:
            continue
        splits.append((known_before(ts_ns, label_end_ns, int(ts_ns[lo]), embargo_ns), np.arange(lo, hi)))
    return splits


def _scores(y: NDArray[np.int8], probability: NDArray[np.float64]) -> dict[str, float]:
    from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

    both = len(np.unique(y)) == 2
    return {
        "auc": float(roc_auc_score(y, probability)) if both else float("nan"),
        "brier": float(brier_score_loss(y, probability)),
        "brier_base_rate": float(brier_score_loss(y, np.full(len(y), y.mean()))),
        "log_loss": float(log_loss(y, np.clip(probability, 1e-6, 1 - 1e-6), labels=[0, 1])),
        "base_rate": float(y.mean()),
        "samples": float(len(y)),
    }


@dataclass(frozen=True)
class TrainingResult:
    """The saved model, the walk-forward out-of-fold probabilities and per-fold scores."""

    saved: SavedModel
    fold_scores: list[dict[str, float]]
    oof_index: NDArray[np.int64]
    oof_probability: NDArray[np.float64]


def train_gate(samples: Samples, *, model_params: dict | None = None, n_splits: int = 4, embargo_ns: int = 0,
               random_state: int = 0, settings: dict | None = None,
               progress: Callable[[str], None] | None = None) -> TrainingResult:
    """Score a ``GateModel`` walk-forward on ``samples``, then fit it on all of them.

    Parameters
    ----------
    samples : Samples, time-ordered
    model_params : dict, ``GateModel`` keyword parameters (``random_state`` aside)
    n_splits : int, walk-forward test blocks
    embargo_ns : int, gap between a training set's last label and its test block, ns
    random_state : int, the model's seed: the same seed gives the same model
    settings : dict, recorded with the model (label kind, horizon, ...)
    progress : called with a line after each fold

    Returns
    -------
    TrainingResult; the saved model's metrics are the out-of-fold scores
    """
    params = dict(model_params or {})
    folds, oof_index, oof_probability = [], [], []
    for number, (train, test) in enumerate(walk_forward_splits(samples.ts_ns, samples.label_end_ns, n_splits,
                                                               embargo_ns), start=1):
        if len(train) < 100 or len(np.unique(samples.y[train])) < 2:
            continue
        model = GateModel(FEATURES, random_state=random_state, **params).fit(samples.X[train], samples.y[train])
        probability = model.predict_proba(samples.X[test])[:, 1]
        scores = _scores(samples.y[test], probability)
        folds.append(scores)
        oof_index.append(test)
        oof_probability.append(probability)
        if progress is not None:
            progress(f"fold {number}: train {len(train)}, test {len(test)}, AUC {scores['auc']:.3f}, "
                     f"Brier {scores['brier']:.4f} (base rate {scores['brier_base_rate']:.4f})")
    index = np.concatenate(oof_index) if oof_index else np.zeros(0, np.int64)
    probability = np.concatenate(oof_probability) if oof_probability else np.zeros(0)
    metrics = _scores(samples.y[index], probability) if len(index) else {}
    metrics = {f"walk_forward_{name}": value for name, value in metrics.items()}
    metrics["folds"] = float(len(folds))
    saved = fit_saved_model(samples, model_params=params, random_state=random_state, metrics=metrics,
                            settings=dict(settings or {}, n_splits=n_splits, embargo_ns=embargo_ns))
    return TrainingResult(saved, folds, index, probability)


def fit_saved_model(samples: Samples, *, model_params: dict | None = None, random_state: int = 0,
                    metrics: dict[str, float] | None = None, settings: dict | None = None) -> SavedModel:
    """Fit a ``GateModel`` on every sample; return it with its provenance.

    Parameters
    ----------
    samples : Samples, time-ordered
    model_params : dict, ``GateModel`` keyword parameters (``random_state`` aside)
    random_state : int, the model's seed
    metrics : dict, recorded with the model (scores measured elsewhere)
    settings : dict, recorded with the model (label kind, horizon, ...)

    Returns
    -------
    SavedModel whose training period runs from the first sample to the last label's end (ns)
    """
    params = dict(model_params or {})
    model = GateModel(FEATURES, random_state=random_state, **params).fit(samples.X, samples.y)
    return SavedModel(
        model=model, features=FEATURES, training_start_ns=int(samples.ts_ns.min()),
        training_end_ns=int(samples.label_end_ns.max()), metrics=dict(metrics or {}), versions=library_versions(),
        settings=dict(settings or {}, random_state=random_state, **params),
    )
