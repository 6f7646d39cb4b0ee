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
                    TimeElapsedColumn(), disable=quiet, transient=False, console=Console(soft_wrap=True))


def train(
    config: Path = typer.Argument(..., help=CONFIG_HELP),
    quiet: bool = typer.Option(False, "--quiet", help="Hide the progress."),
) -> None:
    """Choose the gate's horizon and defer probability on the training period, then train and save its model.

    The candidates ([ml.selection] horizons_steps x [ml.policies] defer_probabilities)
    are scored on validation blocks inside the training period (ml/selection.py); the
    chosen horizon's model then trains on the whole training period. The model goes to
    [ml] model_path with its features, training period, metrics, library versions and
    the choice (every candidate's score and the selection's settings); `hedgekeeper
    evaluate` then judges the gate at that choice out of sample.
    """
    from hedgekeeper.ml.pipeline import load_ml_config
    from hedgekeeper.ml.selection import select_and_train

    console = Console(soft_wrap=True)  # table rows stay whole in a narrow terminal
    try:
        settings = load_ml_config(config)
        selection = settings.selection
        train_tasks = settings.data.train_paths if settings.data.source == "simulated" else 1
        steps = (selection.n_folds * (len(selection.horizons_steps) + 1)
                 + len(settings.policies.train_parameters) * train_tasks + settings.training.n_splits)
        with _progress(quiet) as bar:
            task = bar.add_task("choosing on validation, training", total=steps)

            def say(line: str) -> None:  # a line per block's model and block; per data set labelled and fold
                bar.console.print(line)
                if line.startswith(("block", "fold")) or "samples" in line:
                    bar.advance(task)

            choice, result = select_and_train(settings, say)
    except (HedgekeeperError, OSError, ValueError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    for line in choice.lines():
        console.print(line)
    for name, value in result.saved.metrics.items():
        console.print(f"{name:<32} {value:.4f}")
    console.print(f"model: {settings.model_path} (horizon {choice.chosen.horizon_steps} steps, "
                  f"defer probability {choice.chosen.defer_probability:g})")


def evaluate(
    config: Path = typer.Argument(..., help=CONFIG_HELP),
    quiet: bool = typer.Option(False, "--quiet", help="Hide the progress."),
) -> None:
    """Run the static policies and the gate at its chosen setting on the test period; print the savings, write the report.

    The gate runs at the horizon and defer probability `hedgekeeper train` chose on
    validation and saved with the model (nothing is tuned on the test period). Prints
    the choice with every candidate's validation score, the gated frontier against the
    static one (cost at equal hedging error, and the cheapest gated setting at no more
    hedging error than each efficient static setting) and the deferrals past a hard
    limit (must be 0); the HTML report (frontier, choice, feature importance, model) goes to
    OUTPUT_DIR/NAME/report.html.
    """
    from hedgekeeper.ml.evaluation import comparison_lines
    from hedgekeeper.ml.pipeline import evaluate as run_evaluation
    from hedgekeeper.ml.pipeline import load_ml_config, write_report

    console = Console(soft_wrap=True)  # table rows stay whole in a narrow terminal
    try:
        settings = load_ml_config(config)
        policies = settings.policies
        runs = len(policies.parameters) + len(policies.gated_parameters)  # the gated ones at the chosen probability
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
    for choice in evaluation.choices:
        for line in choice.lines():
            console.print(line)
        title = (f"{settings.name}: {choice.family} gated at {choice.chosen.label} against the static "
                 f"{choice.family} policies, on the test period")
        for line in comparison_lines(title, evaluation.gated, evaluation.static):
            console.print(line)
    console.print(f"deferrals past a hard limit: {evaluation.breaches}")
    console.print(f"report: {report}")
    if evaluation.breaches:
        raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    """Add ``train`` and ``evaluate`` to the ``hedgekeeper`` command line."""
    app.command("train")(train)
    app.command("evaluate")(evaluate)
