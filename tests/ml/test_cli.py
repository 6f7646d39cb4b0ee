"""``hedgekeeper train`` and ``hedgekeeper evaluate`` on a small simulated task: a model, figures, a report."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from hedgekeeper.cli import app

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
defer_probabilities = [0.5]
"""


def test_train_then_evaluate_write_a_model_and_a_self_contained_report(tmp_path: Path) -> None:
    config = tmp_path / "ml.toml"
    config.write_text(CONFIG.format(out=tmp_path.as_posix()))
    runner = CliRunner()
    trained = runner.invoke(app, ["train", str(config), "--quiet"])
    assert trained.exit_code == 0, trained.output
    assert "walk_forward_auc" in trained.output and (tmp_path / "tiny.joblib").exists()
    evaluated = runner.invoke(app, ["evaluate", str(config), "--quiet"])
    assert evaluated.exit_code == 0, evaluated.output
    assert "deferrals past a hard limit: 0" in evaluated.output
    page = (tmp_path / "tiny" / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 3  # frontier, feature importance, calibration
    assert "http" not in page.replace("data:image", "")  # nothing loaded from the internet


def test_a_bad_field_ends_with_one_line_naming_it(tmp_path: Path) -> None:
    config = tmp_path / "ml.toml"
    config.write_text(CONFIG.format(out=tmp_path.as_posix()).replace("days = 2.5", "days = -1"))
    result = CliRunner().invoke(app, ["train", str(config)])
    assert result.exit_code == 1
    assert "ml.data.days" in result.output
