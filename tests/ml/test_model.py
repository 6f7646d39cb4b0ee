"""The gate's model: calibrated, reproducible, saved with its provenance, refused when its features differ."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hedgekeeper.ml.model import GateModel, ModelMismatch, SavedModel, library_versions, load_model, save_model

NAMES = ("signal", "noise_a", "noise_b")


def _data(rng: np.random.Generator, n: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    X = rng.normal(size=(n, len(NAMES)))  # noqa: N806
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-2.0 * X[:, 0]))).astype(np.int8)
    return X, y


def _fitted(seed: int = 0, calibration: str = "isotonic") -> tuple[GateModel, np.ndarray]:
    X, y = _data(np.random.default_rng(seed))  # noqa: N806
    return GateModel(NAMES, n_estimators=60, calibration=calibration, random_state=seed).fit(X, y), X


def test_model_learns_the_informative_feature_and_calibrates() -> None:
    model, _ = _fitted()
    X, y = _data(np.random.default_rng(99))  # noqa: N806
    probability = model.predict_proba(X)[:, 1]
    assert model.feature_importances_.argmax() == 0
    # calibrated: mean predicted close to the observed rate, in each half of the probability range
    for mask in (probability < 0.5, probability >= 0.5):
        assert abs(probability[mask].mean() - y[mask].mean()) < 0.05


@pytest.mark.parametrize("calibration", ["isotonic", "sigmoid"])
def test_single_row_probability_equals_predict_proba(calibration: str) -> None:
    model, X = _fitted(calibration=calibration)  # noqa: N806
    batch = model.predict_proba(X[:40])[:, 1]
    single = [model.defer_probability(dict(zip(NAMES, row, strict=True))) for row in X[:40]]
    np.testing.assert_allclose(single, batch, rtol=0, atol=1e-12)


def test_fitting_twice_with_one_seed_gives_the_same_model() -> None:
    first, X = _fitted(seed=5)  # noqa: N806
    second, _ = _fitted(seed=5)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))


def _saved(model: GateModel) -> SavedModel:
    return SavedModel(model, NAMES, 100, 200, {"walk_forward_auc": 0.7}, library_versions(), {"label": "persisted"})


def test_save_and_load_round_trip_keeps_predictions_and_provenance(tmp_path: Path) -> None:
    model, X = _fitted()  # noqa: N806
    path = save_model(tmp_path / "gate.joblib", _saved(model))
    loaded = load_model(path, NAMES)
    np.testing.assert_array_equal(loaded.model.predict_proba(X), model.predict_proba(X))
    assert (loaded.training_start_ns, loaded.training_end_ns) == (100, 200)
    assert loaded.metrics == {"walk_forward_auc": 0.7}
    assert loaded.versions["lightgbm"] == library_versions()["lightgbm"]
    assert loaded.settings == {"label": "persisted"}


def test_loading_a_model_with_other_features_is_refused(tmp_path: Path) -> None:
    model, _ = _fitted()
    path = save_model(tmp_path / "gate.joblib", _saved(model))
    with pytest.raises(ModelMismatch, match=r"missing \['spread_bps'\], unexpected \['noise_b'\]"):
        load_model(path, ("signal", "noise_a", "spread_bps"))
    with pytest.raises(ModelMismatch, match="other order"):
        load_model(path, ("noise_a", "signal", "noise_b"))


def test_loading_a_file_that_is_not_a_gate_model_is_refused(tmp_path: Path) -> None:
    import joblib

    joblib.dump({"weights": [1, 2]}, tmp_path / "other.joblib")
    with pytest.raises(ModelMismatch, match="not a gate model"):
        load_model(tmp_path / "other.joblib", NAMES)
