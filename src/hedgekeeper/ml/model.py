"""The gate's model: a LightGBM classifier with probabilities calibrated by scikit-learn.

``GateModel`` follows scikit-learn's conventions: ``__init__`` stores parameters,
``fit`` learns on a time-ordered sample (the last ``calibration_fraction`` of it
calibrates the probabilities of a LightGBM model fitted on the rest, so the
calibration is out of sample) and returns ``self``; learned attributes end in ``_``.

``save_model`` writes the model with what it needs to be trusted later: its feature
list, training period, metrics and the library versions; ``load_model`` refuses a
model whose features differ from those expected (``ModelMismatch``). The file is a
joblib pickle: load only files you wrote.
"""

from __future__ import annotations

import math
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hedgekeeper.errors import HedgekeeperError

FORMAT_VERSION = 1


class ModelMismatch(HedgekeeperError):
    """A saved model does not fit where it is loaded: other features, or another format."""


class GateModel:
    """Estimate the probability that deferring a rebalance beats doing it now.

    Parameters
    ----------
    feature_names : sequence of str, the columns of ``X``, in order
    n_estimators : int, boosting rounds
    learning_rate : float
    num_leaves : int
    min_child_samples : int, smallest leaf
    calibration : "isotonic" or "sigmoid"
    calibration_fraction : float in (0, 1), the last part of the (time-ordered) sample
        kept to calibrate the probabilities
    random_state : int, seed of LightGBM's bagging and feature sampling

    Attributes
    ----------
    classifier_ : lightgbm.LGBMClassifier, fitted on the first part
    calibrated_ : sklearn.calibration.CalibratedClassifierCV, on the last part
    feature_importances_ : ndarray, total gain per feature, normalised to sum 1
    base_rate_ : float, share of label 1 in the sample
    """

    def __init__(
        self,
        feature_names: Sequence[str],
        *,
        n_estimators: int = 200,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        min_child_samples: int = 40,
        calibration: Literal["isotonic", "sigmoid"] = "isotonic",
        calibration_fraction: float = 0.25,
        random_state: int = 0,
    ) -> None:
        self.feature_names = feature_names
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.calibration = calibration
        self.calibration_fraction = calibration_fraction
        self.random_state = random_state

    def get_params(self) -> dict[str, Any]:
        """Return the constructor's parameters."""
        return {name: getattr(self, name) for name in (
            "feature_names", "n_estimators", "learning_rate", "num_leaves", "min_child_samples",
            "calibration", "calibration_fraction", "random_state")}

    def fit(self, X: ArrayLike, y: ArrayLike) -> GateModel:  # noqa: N803 (scikit-learn's names)
        """Fit on time-ordered rows ``X`` (n, features) and labels ``y`` (n,) in {0, 1}; return self."""
        from lightgbm import LGBMClassifier
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.frozen import FrozenEstimator
        from sklearn.model_selection import KFold

        features = np.asarray(X, dtype=np.float64)
        labels = np.asarray(y, dtype=np.int64)
        if features.ndim != 2 or features.shape[1] != len(self.feature_names):
            raise ValueError(f"X must have {len(self.feature_names)} columns, got shape {features.shape}")
        if not 0.0 < self.calibration_fraction < 1.0:
            raise ValueError(f"calibration_fraction must be in (0, 1), got {self.calibration_fraction}")
        split = int(round(len(labels) * (1.0 - self.calibration_fraction)))
        if min(split, len(labels) - split) < 20 or len(np.unique(labels[:split])) < 2:
            raise ValueError(f"too few samples or a single class to fit and calibrate: {len(labels)} rows")
        self.classifier_ = LGBMClassifier(
            n_estimators=self.n_estimators, learning_rate=self.learning_rate, num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples, subsample=0.8, subsample_freq=1, colsample_bytree=0.8,
            random_state=self.random_state, n_jobs=1, deterministic=True, force_row_wise=True, verbose=-1,
            importance_type="gain",
        ).fit(features[:split], labels[:split])
        # The booster is frozen, so the folds only split its predictions, never refit it: plain
        # folds, whose count no small class can fall short of (stratified ones warn).
        self.calibrated_ = CalibratedClassifierCV(FrozenEstimator(self.classifier_), method=self.calibration,
                                                  ensemble=False, cv=KFold(n_splits=2))
        self.calibrated_.fit(features[split:], labels[split:])
        gains = np.asarray(self.classifier_.feature_importances_, dtype=np.float64)
        self.feature_importances_ = gains / gains.sum() if gains.sum() > 0 else gains
        self.base_rate_ = float(labels.mean())
        return self

    def predict_proba(self, X: ArrayLike) -> NDArray[np.float64]:  # noqa: N803
        """Return the calibrated probability of each class, shape (n, 2)."""
        return self.calibrated_.predict_proba(np.asarray(X, dtype=np.float64))

    def defer_probability(self, features: Mapping[str, float]) -> float:
        """Return the calibrated probability that deferring is better, for one row of named features.

        The same number as ``predict_proba``, computed without scikit-learn's input
        checks (the gate asks at every tick outside the band): the booster's raw
        score (log-odds, what scikit-learn calibrates: the classifier's
        ``decision_function``), then the fitted calibrator's map.
        """
        row = np.array([[features[name] for name in self.feature_names]], dtype=np.float64)
        raw = float(self.classifier_.booster_.predict(row, raw_score=True, num_threads=1)[0])
        calibrator = self.calibrated_.calibrated_classifiers_[0].calibrators[0]
        if self.calibration == "isotonic":
            return float(np.interp(raw, calibrator.X_thresholds_, calibrator.y_thresholds_))
        return float(1.0 / (1.0 + math.exp(calibrator.a_ * raw + calibrator.b_)))


@dataclass(frozen=True)
class SavedModel:
    """A fitted ``GateModel`` with its provenance.

    Attributes
    ----------
    model : GateModel, fitted
    features : tuple of str, the model's columns, in order
    training_start_ns, training_end_ns : int, the period its training samples come from
    metrics : mapping from name to value (walk-forward AUC, Brier score, ...)
    versions : mapping from library to version at training time
    settings : mapping, what it was trained with (label kind, horizon, ...)
    """

    model: GateModel
    features: tuple[str, ...]
    training_start_ns: int
    training_end_ns: int
    metrics: Mapping[str, float] = field(default_factory=dict)
    versions: Mapping[str, str] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)


def library_versions() -> dict[str, str]:
    """Return the versions of the libraries a saved model depends on."""
    import lightgbm
    import sklearn

    return {"python": platform.python_version(), "numpy": np.__version__, "lightgbm": lightgbm.__version__,
            "scikit-learn": sklearn.__version__}


def save_model(path: str | Path, saved: SavedModel) -> Path:
    """Write ``saved`` to ``path`` (joblib); return the path."""
    import joblib

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump({"format": FORMAT_VERSION, "saved": saved}, path)
    return path


def load_model(path: str | Path, expected_features: Sequence[str]) -> SavedModel:
    """Return the model saved at ``path``, checking that it reads exactly ``expected_features``.

    Raises
    ------
    ModelMismatch
        If the file is not a saved gate model, or its features differ (names or
        order), naming the missing and unexpected ones.
    FileNotFoundError
        If there is no file.
    """
    import joblib

    content = joblib.load(Path(path))
    if not isinstance(content, dict) or content.get("format") != FORMAT_VERSION:
        raise ModelMismatch(f"{path} is not a gate model of format {FORMAT_VERSION}")
    saved: SavedModel = content["saved"]
    expected = tuple(expected_features)
    if saved.features != expected:
        missing = [name for name in expected if name not in saved.features]
        unexpected = [name for name in saved.features if name not in expected]
        detail = f"missing {missing}, unexpected {unexpected}" if missing or unexpected else "same names, other order"
        raise ModelMismatch(f"model {path} reads features {list(saved.features)}, expected {list(expected)}: {detail}")
    return saved
