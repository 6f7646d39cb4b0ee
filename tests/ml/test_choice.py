"""The gate's chosen setting: saved with the model, read back, refused when absent."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hedgekeeper.ml.choice import Candidate, GateChoice, ModelWithoutChoice, Sweep, saved_choice, with_choices
from hedgekeeper.ml.features import FEATURES
from hedgekeeper.ml.model import GateModel, ModelMismatch, SavedModel, load_model, save_model

SCORES = {Candidate(5, 0.5): 0.93, Candidate(5, 0.8): 1.0, Candidate(15, 0.5): 0.81, Candidate(15, 0.8): 0.88}
CHOICE = GateChoice(Sweep("threshold", (0.7, 1.4, 2.8), (1.4,)), Candidate(15, 0.5), SCORES,
                    ((1_000, 2_000), (2_000, 3_000)), 0.4, 3600.0, False)


def _saved(settings: dict) -> SavedModel:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, len(FEATURES)))  # noqa: N806
    y = (X[:, 0] > 0).astype(np.int8)
    model = GateModel(FEATURES, n_estimators=5, min_child_samples=5).fit(X, y)
    return SavedModel(model, FEATURES, 100, 200, {"walk_forward_auc": 0.7}, {}, settings)


def test_choice_saved_with_the_model_reads_back_equal(tmp_path: Path) -> None:
    other = GateChoice(Sweep("whalley_wilmott", (1e-5, 1e-4), (1e-5,)), Candidate(5, 0.8),
                       {Candidate(5, 0.8): 1.0}, CHOICE.blocks, 0.4, 3600.0, True)
    path = save_model(tmp_path / "gate.joblib", _saved(with_choices({"label": "persisted"}, [CHOICE, other])))
    loaded = load_model(path, FEATURES)
    assert saved_choice(loaded, "threshold", path) == CHOICE
    assert saved_choice(loaded, "whalley_wilmott", path) == other
    assert loaded.settings["label"] == "persisted"


def test_the_saved_table_is_plain_data_with_every_score_and_setting() -> None:
    table = json.loads(json.dumps(CHOICE.table()))  # no class of ours in the file: it outlives them
    assert (table["horizon_steps"], table["defer_probability"], table["saves"]) == (15, 0.5, True)
    assert [row["score"] for row in table["scores"]] == [0.93, 1.0, 0.81, 0.88]  # sorted by horizon, probability
    assert table["horizons_steps"] == [5, 15] and table["defer_probabilities"] == [0.5, 0.8]
    assert (table["n_folds"], table["first_fraction"], table["embargo_s"]) == (2, 0.4, 3600.0)
    assert table["blocks_ns"] == [[1_000, 2_000], [2_000, 3_000]]


def test_a_choice_where_no_candidate_saves_says_so() -> None:
    flat = GateChoice(CHOICE.sweep, Candidate(5, 0.8), dict.fromkeys(SCORES, 1.0), CHOICE.blocks, 0.4, 3600.0, False)
    assert not flat.saves and not flat.table()["saves"]
    assert "no candidate saves anything" in "\n".join(flat.lines())
    assert CHOICE.saves and "no candidate saves" not in "\n".join(CHOICE.lines())
    assert [line for line in CHOICE.lines() if line.endswith("<- chosen")] == [
        "    horizon  15 steps, defer probability 0.5     0.810   <- chosen"]


def test_a_model_without_a_choice_for_the_family_is_refused(tmp_path: Path) -> None:
    older = save_model(tmp_path / "older.joblib", _saved({"label": "persisted"}))
    with pytest.raises(ModelWithoutChoice, match="no choice of horizon and defer probability.*hedgekeeper train"):
        saved_choice(load_model(older, FEATURES), "threshold", older)
    other = save_model(tmp_path / "other.joblib", _saved(with_choices({}, [CHOICE])))
    with pytest.raises(ModelMismatch, match=r"choices for \['threshold'\] only, none for whalley_wilmott"):
        saved_choice(load_model(other, FEATURES), "whalley_wilmott", other)
