"""``hedgekeeper train`` and ``hedgekeeper evaluate`` on a small simulated task: a choice, a model, a report."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from hedgekeeper.cli import app
from hedgekeeper.market.events import MarketEvent, TopOfBook, Trade
from hedgekeeper.ml import pipeline
from hedgekeeper.ml.choice import Candidate, saved_choice
from hedgekeeper.ml.features import FEATURES
from hedgekeeper.ml.model import GateModel, SavedModel, load_model, save_model
from hedgekeeper.ml.simulation import spiky_events

CONFIG = """
[ml]
name = "tiny"
output_dir = "{out}"
model_path = "{out}/tiny.joblib"
seed = 3

[ml.data]
source = "simulated"
train_paths = 1
test_paths = 1
days = 2.5

[ml.training]
n_splits = 2
n_estimators = 40
min_child_samples = 10

[ml.policies]
family = "threshold"
parameters = [0.7, 1.4, 2.8]
train_parameters = [0.7, 1.4]
gated_parameters = [1.4]
defer_probabilities = [0.5, 0.8]

[ml.selection]
horizons_steps = [5, 15]
n_folds = 2
first_fraction = 0.5
"""


def test_train_then_evaluate_record_the_choice_and_judge_it_alone(tmp_path: Path) -> None:
    config = tmp_path / "ml.toml"
    config.write_text(CONFIG.format(out=tmp_path.as_posix()))
    runner = CliRunner()
    trained = runner.invoke(app, ["train", str(config), "--quiet"])
    assert trained.exit_code == 0, trained.output
    assert "walk_forward_auc" in trained.output

    # the saved model carries the choice: every candidate scored, the lowest chosen, blocks in the training period
    model_path = tmp_path / "tiny.joblib"
    saved = load_model(model_path, FEATURES)
    choice = saved_choice(saved, "threshold", model_path)
    assert set(choice.scores) == {Candidate(h, q) for h in (5, 15) for q in (0.5, 0.8)}
    assert choice.scores[choice.chosen] == min(choice.scores.values())
    assert saved.settings["labels"]["horizon_steps"] == choice.chosen.horizon_steps  # the model trained at the chosen horizon
    train_path = pipeline.build_tasks(pipeline.load_ml_config(config))[0][0].path
    start, stop = int(train_path.ts_ns[0]), int(train_path.ts_ns[-1]) + 1
    assert len(choice.blocks) == 2 and choice.blocks[-1][1] == stop
    assert choice.blocks[0][0] == pytest.approx(start + 0.5 * (stop - start), abs=1)
    h, q, score = choice.chosen.horizon_steps, choice.chosen.defer_probability, choice.scores[choice.chosen]
    chosen_line = f"horizon {h:>3d} steps, defer probability {q:<5g} {score:>7.3f}   <- chosen"
    assert chosen_line in trained.output
    # on this tiny task no candidate saves on validation: the choice says so, and the documented rule still
    # names one (the highest defer probability, then the shortest horizon), which is judged
    assert set(choice.scores.values()) == {1.0} and not choice.saves
    assert choice.chosen == Candidate(5, 0.8)
    assert "no candidate saves anything on validation" in trained.output

    evaluated = runner.invoke(app, ["evaluate", str(config), "--quiet"])
    assert evaluated.exit_code == 0, evaluated.output
    assert chosen_line in evaluated.output
    assert "cheapest gated setting at equal or lower hedging error" in evaluated.output
    assert "deferrals past a hard limit: 0" in evaluated.output
    page = (tmp_path / "tiny" / "report.html").read_text()
    # the gate runs at the chosen horizon and probability only, beside every static setting
    assert set(re.findall(r"gated-threshold-[0-9.]+-h[0-9]+-p[0-9.]+", page)) == {f"gated-threshold-1.4-h{h}-p{q:g}"}
    assert all(f"threshold-{width}" in page for width in ("0.7", "1.4", "2.8"))
    assert "chosen on validation inside the training period" in page
    assert "Cheapest gated setting at no more hedging error" in page
    assert "No candidate saves anything on validation" in page
    assert all(f"{value:.3f}" in page for value in choice.scores.values())
    assert page.count("data:image/png;base64,") == 3  # frontier, feature importance, calibration
    assert "http" not in page.replace("data:image", "")  # nothing loaded from the internet

    # the file's settings changed after training: the choice no longer applies
    config.write_text(CONFIG.format(out=tmp_path.as_posix()).replace("gated_parameters = [1.4]",
                                                                     "gated_parameters = [0.7]"))
    changed = runner.invoke(app, ["evaluate", str(config), "--quiet"])
    assert changed.exit_code == 1
    assert "gated [1.4]" in changed.output and "hedgekeeper train FILE" in changed.output


def test_evaluate_refuses_a_model_saved_without_a_choice(tmp_path: Path) -> None:
    config = tmp_path / "ml.toml"
    config.write_text(CONFIG.format(out=tmp_path.as_posix()))
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, len(FEATURES)))  # noqa: N806
    model = GateModel(FEATURES, n_estimators=5, min_child_samples=5).fit(X, (X[:, 0] > 0).astype(np.int8))
    save_model(tmp_path / "tiny.joblib", SavedModel(model, FEATURES, 100, 200))  # as written before choices were saved
    result = CliRunner().invoke(app, ["evaluate", str(config), "--quiet"])
    assert result.exit_code == 1
    assert "no choice of horizon and defer probability" in result.output
    assert "Traceback" not in result.output


RECORDED = CONFIG.replace("""source = "simulated"
train_paths = 1
test_paths = 1
days = 2.5""", """source = "recorded"
scenario = "spiky-five-days"
train_fraction = 0.5""")


def _moved_after(events: list[MarketEvent], start_ns: int) -> list[MarketEvent]:
    """Return ``events`` with every price from ``start_ns`` on moved by up to 3% (another later market)."""
    def factor(ts_ns: int) -> float:
        return 1.0 + 0.03 * math.sin((ts_ns - start_ns) / 3.6e12)

    moved = []
    for event in events:
        if event.ts_ns >= start_ns and isinstance(event, Trade):
            event = replace(event, price_usd=event.price_usd * factor(event.ts_ns))
        elif event.ts_ns >= start_ns and isinstance(event, TopOfBook):
            event = replace(event, bid_usd=event.bid_usd * factor(event.ts_ns),
                            ask_usd=event.ask_usd * factor(event.ts_ns))
        moved.append(event)
    return moved


def test_the_choice_never_reads_the_test_period(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "ml.toml"
    config.write_text(RECORDED.format(out=tmp_path.as_posix()))
    settings = pipeline.load_ml_config(config)
    events = spiky_events(np.random.default_rng(11), days=5.0)
    monkeypatch.setattr(pipeline, "recorded_events", lambda name: events)
    train, test = pipeline.build_tasks(settings)
    runner = CliRunner()
    assert runner.invoke(app, ["train", str(config), "--quiet"]).exit_code == 0
    first = load_model(tmp_path / "tiny.joblib", FEATURES)

    # the same recording with other prices in its test period (the later half) only
    moved = _moved_after(events, int(test[0].path.ts_ns[0]))
    monkeypatch.setattr(pipeline, "recorded_events", lambda name: moved)
    moved_train, moved_test = pipeline.build_tasks(settings)
    np.testing.assert_array_equal(moved_train[0].path.spot_usd, train[0].path.spot_usd)
    assert not np.allclose(moved_test[0].path.spot_usd, test[0].path.spot_usd, rtol=1e-3)
    trained = runner.invoke(app, ["train", str(config), "--quiet"])
    assert trained.exit_code == 0, trained.output
    second = load_model(tmp_path / "tiny.joblib", FEATURES)
    assert second.settings["choices"] == first.settings["choices"]
    assert saved_choice(second, "threshold", "second") == saved_choice(first, "threshold", "first")


def test_a_bad_field_ends_with_one_line_naming_it(tmp_path: Path) -> None:
    config = tmp_path / "ml.toml"
    config.write_text(CONFIG.format(out=tmp_path.as_posix()).replace("days = 2.5", "days = -1"))
    result = CliRunner().invoke(app, ["train", str(config)])
    assert result.exit_code == 1
    assert "ml.data.days" in result.output
