"""``hedgekeeper train CONFIG`` and ``hedgekeeper evaluate CONFIG``: the ML gate's commands.

Both read the ``[ml]`` table (``ml/pipeline.py``), show progress, and end with
status 1 and one line on stderr on a bad input, never a traceback.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from hedgekeeper.errors import HedgekeeperError

CONFIG_HELP = "The ML gate file (TOML): [ml] with [ml.data], [ml.labels], [ml.training], [ml.policies], [ml.gate]."


def _progress(quiet: bool) -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description:<40}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), disable=quiet, transient=False)


def train(
    config: Path = typer.Argument(..., help=CONFIG_HELP),
    quiet: bool = typer.Option(False, "--quiet", help="Hide the progress."),
) -> None:
    """Train the gate's model on the training period: samples, walk-forward scores, the saved model.

    The model (with its features, training period, metrics and library versions)
    goes to [ml] model_path; `hedgekeeper evaluate` then judges it out of sample.
    """
    from hedgekeeper.ml.pipeline import load_ml_config
    from hedgekeeper.ml.pipeline import train as run_training

    console = Console()
    try:
        settings = load_ml_config(config)
        policies = settings.policies
        steps = len(policies.train_parameters) * (
            settings.data.train_paths if settings.data.source == "simulated" else 1) + settings.training.n_splits
        with _progress(quiet) as bar:
            task = bar.add_task("training", total=steps)

            def say(line: str) -> None:  # one line per data set labelled and per walk-forward fold
                bar.console.print(line)
                if "samples" in line or line.startswith("fold"):
                    bar.advance(task)

            result = run_training(settings, say)
    except (HedgekeeperError, OSError, ValueError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    for name, value in result.saved.metrics.items():
        console.print(f"{name:<32} {value:.4f}")
    console.print(f"model: {settings.model_path}")


def evaluate(
    config: Path = typer.Argument(..., help=CONFIG_HELP),
    quiet: bool = typer.Option(False, "--quiet", help="Hide the progress."),
) -> None:
    """Run the static and the gated policies on the test period; print the savings and write the report.

    Prints the cost of the gated frontier against the static one at equal hedging
    error and the deferrals past a hard limit (must be 0); the HTML report (frontier,
    feature importance, model) goes to OUTPUT_DIR/NAME/report.html.
    """
    from hedgekeeper.ml.pipeline import evaluate as run_evaluation
    from hedgekeeper.ml.pipeline import load_ml_config, savings_lines, write_report

    console = Console()
    try:
        settings = load_ml_config(config)
        policies = settings.policies
        runs = len(policies.parameters) + len(policies.gated_parameters) * len(policies.defer_probabilities)
        with _progress(quiet) as bar:
            task = bar.add_task("evaluating policies out of sample", total=runs)

            def say(line: str) -> None:  # one line per data set built and per policy run
                bar.console.print(line)
                if "hedging error" in line:
                    bar.advance(task)

            evaluation = run_evaluation(settings, say)
        report = write_report(settings, evaluation)
    except (HedgekeeperError, OSError, ValueError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    for line in savings_lines(evaluation):
        console.print(line)
    console.print(f"deferrals past a hard limit: {evaluation.breaches}")
    console.print(f"report: {report}")
    if evaluation.breaches:
        raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    """Add ``train`` and ``evaluate`` to the ``hedgekeeper`` command line."""
    app.command("train")(train)
    app.command("evaluate")(evaluate)
