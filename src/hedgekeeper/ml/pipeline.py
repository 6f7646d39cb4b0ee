"""``hedgekeeper train`` and ``hedgekeeper evaluate``: the ``[ml]`` file, training, the out-of-sample frontier.

One TOML file names the data, the book, the labels, the model and the policies::

    [ml]
    name = "gate-simulated"
    output_dir = "results/ml"         # report: <output_dir>/<name>/report.html
    model_path = "models/gate-simulated.joblib"
    seed = 7                          # simulated paths and the model's seed
    step_s = 60                       # seconds between decisions

    [ml.data]
    source = "simulated"              # simulated: spiky paths; recorded: a replay scenario
    train_paths = 2                   # simulated: paths to train on
    test_paths = 1                    # simulated: other paths to evaluate on
    days = 20                         # simulated: days per path
    # scenario = "gemini-btcusd-2021-03-16-30d"   # recorded
    # train_fraction = 0.5                         # recorded: the first half trains, the rest tests
    # test_scenarios = ["binance-crash-2020-03-12"] # recorded: test on these instead of the rest

    [ml.book]                         # short 30-day at-the-money calls hedged with a perpetual
    n_options = 25
    vol = 0.6                         # implied vol the book is marked at, annualised
    leverage = 2.0                    # gross notional over collateral at the start

    [ml.labels]
    kind = "persisted"                # persisted: the deviation went away; value: cost + risk penalty
    horizon_steps = 15                # train() alone; `hedgekeeper train` chooses among [ml.selection] horizons_steps
    risk_aversion_per_usd = 1e-4      # value labels only
    counterfactual_steps = 10

    [ml.training]
    n_splits = 4                      # walk-forward folds
    embargo_s = 3600
    n_estimators = 200
    learning_rate = 0.05
    num_leaves = 15
    calibration = "isotonic"

    [ml.policies]
    family = "threshold"              # or whalley_wilmott
    parameters = [0.2, 0.35, 0.5, 0.7, 1.0, 1.4, 2.0]  # band half-widths (coin) or risk aversions (per USD)
    train_parameters = [0.25, 0.5, 1.0]                # the static policies whose decisions train the model
    gated_parameters = [0.2, 0.35, 0.5, 0.7]
    defer_probabilities = [0.6, 0.8]  # the candidates; `hedgekeeper train` chooses one on validation

    [ml.gate]                         # the limits of every gated variant (see policy/ml_gate.py)
    max_deferral_s = 900
    outer_band_multiple = 2.0
    min_liquidation_distance = 0.10
    max_leverage = 8.0

    [ml.hard_limits]                  # HardLimits around every policy
    min_liquidation_distance = 0.05
    max_leverage = 10.0

    [ml.selection]                    # ml/selection.py: choose h and the defer probability inside the training period
    horizons_steps = [5, 15, 30]      # candidate label horizons (steps); the candidate probabilities: defer_probabilities
    n_folds = 3                       # validation blocks after the first part of the training period
    first_fraction = 0.4

Training uses the training period only: ``hedgekeeper train``
(``ml.selection.select_and_train``) chooses the horizon and defer probability on
validation blocks inside it and saves them with the model it then trains.
Evaluation runs every static policy and the gate at that choice on the test period
only (other simulated paths, or the later part of the recording): out of sample.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
import pydantic

from hedgekeeper.config import StrictModel, validate_table
from hedgekeeper.ml.choice import GateChoice, saved_choice, with_choices
from hedgekeeper.ml.evaluation import (
    PolicyPoint,
    calibration_figure,
    dominance,
    evaluate_policies,
    feature_importance_figure,
    figure_html,
    frontier_points,
    savings_at_equal_error,
    table_html,
    write_ml_report,
)
from hedgekeeper.ml.features import FEATURES
from hedgekeeper.ml.model import ModelMismatch, SavedModel, load_model, save_model
from hedgekeeper.ml.simulation import (
    DeferralLimits,
    HedgingTask,
    at_the_money_book,
    market_path,
    recorded_events,
    spiky_events,
)
from hedgekeeper.ml.training import Samples, TrainingResult, gate_samples, train_gate
from hedgekeeper.policy.base import Policy
from hedgekeeper.policy.config import build_policy, load_policy_config
from hedgekeeper.policy.risk_profile import load_risk_profile

NS_PER_SECOND = 1_000_000_000
WIDE_BAND_COIN = 1e6  # Whalley-Wilmott runs: the profile's band is no limit


class DataConfig(StrictModel):
    """``[ml.data]``: simulated paths (``train_paths``, ``test_paths``, ``days``) or a recorded ``scenario``.

    A recorded scenario trains on its first ``train_fraction`` and is tested on the
    rest, or, when ``test_scenarios`` are named, on each of those (whole) instead.
    """

    source: Literal["simulated", "recorded"]
    train_paths: int = pydantic.Field(2, ge=1)
    test_paths: int = pydantic.Field(1, ge=1)
    days: float = pydantic.Field(20.0, gt=0)
    scenario: str | None = None
    train_fraction: float = pydantic.Field(0.5, gt=0, le=1)
    test_scenarios: tuple[str, ...] = ()

    @pydantic.model_validator(mode="after")
    def _something_to_test(self) -> DataConfig:
        if self.source == "recorded" and self.train_fraction == 1.0 and not self.test_scenarios:
            raise ValueError("train_fraction = 1 leaves nothing to test on: name test_scenarios")
        return self

    @pydantic.model_validator(mode="after")
    def _scenario_for_recorded(self) -> DataConfig:
        if (self.source == "recorded") != (self.scenario is not None):
            raise ValueError("scenario is required with source = 'recorded' and refused otherwise")
        return self


class BookConfig(StrictModel):
    """``[ml.book]``: calls sold (coin), implied vol (annualised), leverage at the start."""

    n_options: float = pydantic.Field(25.0, gt=0)
    vol: float = pydantic.Field(0.6, gt=0)
    leverage: float = pydantic.Field(2.0, gt=0)


class LabelConfig(StrictModel):
    """``[ml.labels]`` (see ``ml/labels.py``)."""

    kind: Literal["value", "persisted"] = "persisted"
    horizon_steps: int = pydantic.Field(15, ge=1)
    risk_aversion_per_usd: float = pydantic.Field(1e-4, ge=0)
    counterfactual_steps: int = pydantic.Field(10, ge=0)


class TrainingConfig(StrictModel):
    """``[ml.training]``: walk-forward folds, embargo (s) and ``GateModel`` parameters."""

    n_splits: int = pydantic.Field(4, ge=1)
    embargo_s: float = pydantic.Field(3600.0, ge=0)
    n_estimators: int = pydantic.Field(200, ge=1)
    learning_rate: float = pydantic.Field(0.05, gt=0)
    num_leaves: int = pydantic.Field(15, ge=2)
    min_child_samples: int = pydantic.Field(40, ge=1)
    calibration: Literal["isotonic", "sigmoid"] = "isotonic"


class PoliciesConfig(StrictModel):
    """``[ml.policies]``: the family, its static sweep, the settings that train, the gated sweep."""

    family: Literal["threshold", "whalley_wilmott"]
    parameters: tuple[pydantic.PositiveFloat, ...] = pydantic.Field(min_length=2)
    train_parameters: tuple[pydantic.PositiveFloat, ...] = pydantic.Field(min_length=1)
    gated_parameters: tuple[pydantic.PositiveFloat, ...] = pydantic.Field(min_length=1)
    defer_probabilities: tuple[float, ...] = pydantic.Field(min_length=1)

    @pydantic.field_validator("defer_probabilities")
    @classmethod
    def _probabilities(cls, values: tuple[float, ...]) -> tuple[float, ...]:
        if not all(0.0 < value <= 1.0 for value in values):
            raise ValueError(f"every defer probability must be in (0, 1], got {list(values)}")
        return values


class GateLimitsConfig(StrictModel):
    """``[ml.gate]``: the limits of the gated variants (``[policy.ml_gate]`` less the model and probability)."""

    max_deferral_s: float = pydantic.Field(900.0, gt=0)
    outer_band_multiple: float = pydantic.Field(2.0, ge=1)
    min_liquidation_distance: float = pydantic.Field(0.10, ge=0, lt=1)
    max_leverage: float = pydantic.Field(8.0, gt=0)


class SelectionConfig(StrictModel):
    """``[ml.selection]``: the candidates chosen on validation blocks inside the training period (``ml/selection.py``).

    The candidate defer probabilities are ``[ml.policies] defer_probabilities``; the
    training period's first ``first_fraction`` (of its time) only trains, the rest is
    cut into ``n_folds`` consecutive validation blocks.
    """

    horizons_steps: tuple[pydantic.PositiveInt, ...] = pydantic.Field((5, 15, 30), min_length=1)
    n_folds: int = pydantic.Field(3, ge=1)
    first_fraction: float = pydantic.Field(0.4, gt=0, lt=1)


class HardLimitsTable(StrictModel):
    """``[ml.hard_limits]``: the ``HardLimits`` around every policy."""

    min_liquidation_distance: float = pydantic.Field(0.05, ge=0, lt=1)
    max_leverage: float = pydantic.Field(10.0, gt=0)


class MLConfig(StrictModel):
    """The ``[ml]`` table (see the module docstring)."""

    name: str
    output_dir: Path = Path("results/ml")
    model_path: Path
    seed: int = 7
    step_s: float = pydantic.Field(60.0, gt=0)
    data: DataConfig
    book: BookConfig = BookConfig()
    labels: LabelConfig = LabelConfig()
    training: TrainingConfig = TrainingConfig()
    policies: PoliciesConfig
    gate: GateLimitsConfig = GateLimitsConfig()
    hard_limits: HardLimitsTable = HardLimitsTable()
    selection: SelectionConfig = SelectionConfig()


def load_ml_config(source: str | Path | dict) -> MLConfig:
    """Return the ``[ml]`` table of a TOML file (or the table), validated; ``ConfigError`` names a bad field."""
    return validate_table(MLConfig, source, prefix="ml", what="ML gate settings")


def _task(name: str, events, config: MLConfig, start: int = 0, stop: int | None = None) -> HedgingTask:  # noqa: ANN001
    path = market_path(events, step_s=config.step_s)
    path = path.window(start, len(path.ts_ns) if stop is None else stop)
    book = config.book
    return HedgingTask(name, path, at_the_money_book(path, n_options=book.n_options, vol=book.vol,
                                                     leverage=book.leverage))


def build_tasks(config: MLConfig, progress: Callable[[str], None] | None = None) -> tuple[list[HedgingTask], list[HedgingTask]]:
    """Return the training and the test tasks: separate simulated paths, or the two parts of a recording."""
    data = config.data
    say = progress or (lambda _: None)
    if data.source == "simulated":
        rng = np.random.default_rng(config.seed)
        tasks = []
        for number in range(data.train_paths + data.test_paths):
            tasks.append(_task(f"simulated-{number + 1}", spiky_events(rng, days=data.days, step_s=config.step_s), config))
            say(f"simulated path {number + 1} of {data.train_paths + data.test_paths}: {len(tasks[-1].path.ts_ns):,d} steps")
        return tasks[:data.train_paths], tasks[data.train_paths:]
    assert data.scenario is not None
    whole = market_path(recorded_events(data.scenario), step_s=config.step_s)
    split = int(len(whole.ts_ns) * data.train_fraction)
    say(f"{data.scenario}: {len(whole.ts_ns):,d} steps, training on the first {split:,d}")
    book = config.book

    def part(name: str, start: int, stop: int) -> HedgingTask:
        path = whole.window(start, stop)
        return HedgingTask(name, path, at_the_money_book(path, n_options=book.n_options, vol=book.vol,
                                                         leverage=book.leverage))

    if data.test_scenarios:
        tests = []
        for name in data.test_scenarios:
            path = market_path(recorded_events(name), step_s=config.step_s)
            say(f"{name}: {len(path.ts_ns):,d} steps to test on")
            tests.append(HedgingTask(name, path, at_the_money_book(path, n_options=book.n_options, vol=book.vol,
                                                                   leverage=book.leverage)))
        return [part(f"{data.scenario}:train", 0, split)], tests
    return [part(f"{data.scenario}:train", 0, split)], [part(f"{data.scenario}:test", split, len(whole.ts_ns))]


def _policy_table(config: MLConfig, parameter: float, gate: dict | None) -> dict:
    table: dict = {"kind": config.policies.family, "hedge_to": "edge",
                   "hard_limits": config.hard_limits.model_dump()}
    if config.policies.family == "threshold":
        table["threshold"] = {}
    else:
        table["whalley_wilmott"] = {"risk_aversion_per_usd": parameter}
    if gate is not None:
        table["ml_gate"] = gate
    return table


def make_policy(config: MLConfig, parameter: float, gate: dict | None = None) -> Policy:
    """Return the family's policy at ``parameter`` (in ``HardLimits``; gated with the ``[policy.ml_gate]`` table ``gate``)."""
    width = parameter if config.policies.family == "threshold" else WIDE_BAND_COIN
    profile = load_risk_profile({"BTC": {"delta_coin": {"target": 0.0, "width": width}}})
    return build_policy(load_policy_config(_policy_table(config, parameter, gate)), profile)


def training_samples(config: MLConfig, tasks: list[HedgingTask], progress: Callable[[str], None] | None = None) -> Samples:
    """Return the labelled decisions of the training policies along ``tasks`` (``[ml.labels]``), time-ordered."""
    say = progress or (lambda _: None)
    labels = config.labels
    parts = []
    for task in tasks:
        for parameter in config.policies.train_parameters:
            samples = gate_samples(task, make_policy(config, parameter), horizon_steps=labels.horizon_steps,
                                   risk_aversion_per_usd=labels.risk_aversion_per_usd, label_kind=labels.kind,
                                   counterfactual_steps=labels.counterfactual_steps)
            parts.append(samples)
            say(f"{task.name}, {config.policies.family} {parameter:g}: {len(samples):,d} samples, "
                f"{samples.y.mean() if len(samples) else math.nan:.1%} defer")
    return Samples.concatenate(parts)


def model_params(config: MLConfig) -> dict:
    """Return the ``GateModel`` keyword parameters of ``[ml.training]``."""
    training = config.training
    return {"n_estimators": training.n_estimators, "learning_rate": training.learning_rate,
            "num_leaves": training.num_leaves, "min_child_samples": training.min_child_samples,
            "calibration": training.calibration}


def model_settings(config: MLConfig) -> dict:
    """Return what a saved model records of the file it was trained with."""
    return {"name": config.name, "data": config.data.model_dump(mode="json"),
            "labels": config.labels.model_dump(mode="json"), "family": config.policies.family}


def train(config: MLConfig, progress: Callable[[str], None] | None = None,
          tasks: list[HedgingTask] | None = None, choices: Sequence[GateChoice] = ()) -> TrainingResult:
    """Build the training samples, score the model walk-forward, fit it, save it to ``model_path``.

    The model trains with ``[ml.labels] horizon_steps``; ``choices`` (the gate's
    settings chosen on validation for this horizon, ``ml/selection.py``) are saved
    with it, and ``evaluate`` reads them back.
    """
    say = progress or (lambda _: None)
    train_tasks = build_tasks(config, say)[0] if tasks is None else tasks
    samples = training_samples(config, train_tasks, say)
    result = train_gate(samples, n_splits=config.training.n_splits, embargo_ns=embargo_ns(config),
                        random_state=config.seed, progress=say, model_params=model_params(config),
                        settings=model_settings(config))
    # the walk-forward out-of-fold labels and probabilities travel with the model, for the calibration curve
    settings = with_choices({**result.saved.settings, "out_of_fold": {
        "label": samples.y[result.oof_index].astype(np.int8), "probability": result.oof_probability}}, choices)
    saved = replace(result.saved, settings=settings)
    save_model(config.model_path, saved)
    return replace(result, saved=saved)


def embargo_ns(config: MLConfig) -> int:
    """Return ``[ml.training] embargo_s`` in ns."""
    return int(config.training.embargo_s * NS_PER_SECOND)


def gate_table(config: MLConfig, model_path: str | Path, defer_probability: float) -> dict:
    """Return the ``[policy.ml_gate]`` table of a gated variant: the model, its probability, ``[ml.gate]``'s limits."""
    return {"model_path": str(model_path), "defer_probability": defer_probability, **config.gate.model_dump()}


def deferral_limits(config: MLConfig) -> DeferralLimits:
    """Return ``[ml.gate]``'s limits, against which every deferral is checked independently of the gate."""
    gate = config.gate
    return DeferralLimits(gate.max_deferral_s, gate.outer_band_multiple, gate.min_liquidation_distance,
                          gate.max_leverage)


def for_family(config: MLConfig, family: Literal["threshold", "whalley_wilmott"]) -> MLConfig:
    """Return ``config`` whose policies are of ``family`` (``make_policy`` builds that family)."""
    return config.model_copy(update={"policies": config.policies.model_copy(update={"family": family})})


def horizon_config(config: MLConfig, horizon_steps: int, model_path: str | Path) -> MLConfig:
    """Return ``config`` training with labels of ``horizon_steps`` into ``model_path`` (``train``)."""
    return config.model_copy(update={"model_path": Path(model_path),
                                     "labels": config.labels.model_copy(update={"horizon_steps": horizon_steps})})


def judged_config(config: MLConfig, choice: GateChoice, model_path: str | Path) -> MLConfig:
    """Return ``config`` judging ``choice`` on the test period (``evaluate``).

    Its policies are the choice's family and settings, gated at the chosen defer
    probability alone, by the model at ``model_path`` (trained with the chosen horizon).
    """
    sweep = choice.sweep
    policies = config.policies.model_copy(update={
        "family": sweep.family, "parameters": sweep.static_parameters, "gated_parameters": sweep.gated_parameters,
        "defer_probabilities": (choice.chosen.defer_probability,)})
    return horizon_config(config, choice.chosen.horizon_steps, model_path).model_copy(update={"policies": policies})


@dataclass(frozen=True)
class Evaluation:
    """The out-of-sample frontier: static and gated points, savings at equal error, breaches.

    ``choices``: the gate's settings judged, as chosen on validation inside the training period.
    """

    static: list[PolicyPoint]
    gated: list[PolicyPoint]
    saved: SavedModel
    choices: tuple[GateChoice, ...]

    @property
    def breaches(self) -> int:
        """Return deferrals past a hard limit, every gated run together (must be 0)."""
        return sum(point.breaches for point in self.gated)


def evaluate(config: MLConfig, progress: Callable[[str], None] | None = None,
             tasks: list[HedgingTask] | None = None) -> Evaluation:
    """Run the static policies and the gate at its chosen setting on the test tasks (out of sample).

    The model at ``model_path`` carries the horizon and defer probability chosen on
    validation for ``[ml.policies] family`` (``ml.choice``); the file's static and gated
    settings must be those it was chosen for. Nothing here is tuned: the gated runs use
    the chosen probability alone, even where no candidate saved anything on validation.

    Raises
    ------
    ModelWithoutChoice
        If the model carries no choice for the family (an older file: train again).
    ModelMismatch
        If its features differ, or the file's settings are not those the choice was made for.
    """
    say = progress or (lambda _: None)
    saved = load_model(config.model_path, FEATURES)
    choice = saved_choice(saved, config.policies.family, config.model_path)
    policies = config.policies
    if (tuple(policies.parameters), tuple(policies.gated_parameters)) != (choice.sweep.static_parameters,
                                                                         choice.sweep.gated_parameters):
        raise ModelMismatch(
            f"model {config.model_path} was chosen for {choice.family} parameters {list(choice.sweep.static_parameters)}"
            f" gated {list(choice.sweep.gated_parameters)}; [ml.policies] now has {list(policies.parameters)} gated "
            f"{list(policies.gated_parameters)}: run `hedgekeeper train FILE` again")
    judged = judged_config(config, choice, config.model_path)
    say(f"judging {choice.family} gated at {choice.chosen.label}, chosen on validation "
        f"(score {choice.scores[choice.chosen]:.3f}{'' if choice.saves else ', no candidate saved'})")
    test_tasks = build_tasks(judged, say)[1] if tasks is None else tasks
    limits = deferral_limits(judged)
    family, horizon = judged.policies.family, judged.labels.horizon_steps
    static_variants = [(f"{family}-{p:g}", family, p, lambda p=p: make_policy(judged, p))
                       for p in judged.policies.parameters]
    gated_variants = [
        (f"gated-{family}-{p:g}-h{horizon}-p{q:g}", f"gated {family} h{horizon} p>={q:g}", p,
         lambda p=p, q=q: make_policy(judged, p, gate_table(judged, judged.model_path, q)))
        for q in judged.policies.defer_probabilities for p in judged.policies.gated_parameters
    ]
    hard = judged.hard_limits
    common = {"limits": limits, "hard_min_liquidation_distance": hard.min_liquidation_distance,
              "hard_max_leverage": hard.max_leverage, "progress": say}
    static = evaluate_policies(test_tasks, static_variants, **common)
    gated = evaluate_policies(test_tasks, gated_variants, **common)
    return Evaluation(static, gated, saved, (choice,))


def choice_html(choices: Sequence[GateChoice]) -> str:
    """Return the choices as HTML: every candidate's validation score, the chosen one marked, the settings."""
    parts = []
    for choice in choices:
        parts.append(table_html(
            [f"{choice.family}: horizon (steps)", "defer probability", "validation score (1 = no saving)", "chosen"],
            [[str(c.horizon_steps), f"{c.defer_probability:g}", f"{score:.3f}", "chosen" if c == choice.chosen else ""]
             for c, score in sorted(choice.scores.items())]))
        verdict = ("" if choice.saves else "No candidate saves anything on validation: the gate would stay off; "
                   "it is judged at the tie-break (highest defer probability, then shortest horizon). ")
        parts.append(f"<p>{verdict}{len(choice.blocks)} validation blocks after the first "
                     f"{choice.first_fraction:.0%} of the training period, embargo {choice.embargo_s:g} s; "
                     "score: cost relative to the static frontier at equal or lower hedging error.</p>")
    return "".join(parts)


def _dominance_rows(evaluation: Evaluation) -> list[list[str]]:
    rows = []
    for reference, best in dominance(evaluation.gated, evaluation.static):
        head = [reference.label, f"{reference.hedging_error_usd:,.0f}", f"{reference.cost_usd:,.0f}"]
        if best is None:
            rows.append(head + ["none reaches this hedging error", "", "", ""])
            continue
        saved = f"{1.0 - best.cost_usd / reference.cost_usd:.1%}" if reference.cost_usd > 0.0 else ""
        rows.append(head + [best.label, f"{best.hedging_error_usd:,.0f}", f"{best.cost_usd:,.0f}", saved])
    return rows


def write_report(config: MLConfig, evaluation: Evaluation, extra_points: list[PolicyPoint] | None = None) -> Path:
    """Write ``<output_dir>/<name>/report.html``: frontier, savings, feature importance, calibration, provenance."""
    from hedgekeeper.backtest.report import frontier_figure

    points = evaluation.static + evaluation.gated + list(extra_points or [])
    saved = evaluation.saved
    sections = [("frontier", "Cost versus hedging error, out of sample",
                 figure_html(frontier_figure(frontier_points(points)), "frontier")
                 + table_html(["policy", "hedging error USD", "cost USD", "rebalances", "deferrals", "breaches"],
                              [[p.label, f"{p.hedging_error_usd:,.0f}", f"{p.cost_usd:,.0f}", f"{p.rebalances:,d}",
                                f"{p.deferrals:,d}", str(p.breaches)] for p in points]))]
    rows = savings_at_equal_error(evaluation.gated, evaluation.static)
    sections.append(("savings", "Cost at equal hedging error", table_html(
        ["hedging error USD", "gated cost USD", "static cost USD", "saved"],
        [[f"{r.error_usd:,.0f}", f"{r.gated_cost_usd:,.0f}", f"{r.static_cost_usd:,.0f}", f"{r.saving:.1%}"]
         for r in rows])))
    sections.append(("dominance", "Cheapest gated setting at no more hedging error than each efficient static setting",
                     table_html(["static setting", "hedging error USD", "cost USD", "gated setting",
                                 "hedging error USD", "cost USD", "saved"], _dominance_rows(evaluation))))
    if evaluation.choices:
        sections.append(("choice", "Horizon and defer probability, chosen on validation inside the training period",
                         choice_html(evaluation.choices)))
    model = saved.model
    sections.append(("importance", "Feature importance",
                     figure_html(feature_importance_figure(list(saved.features), model.feature_importances_),
                                 "feature importance")))
    out_of_fold = saved.settings.get("out_of_fold")
    if out_of_fold is not None and len(out_of_fold["label"]):
        sections.append(("calibration", "Calibration (walk-forward, out of fold)", figure_html(
            calibration_figure(out_of_fold["label"], out_of_fold["probability"]), "calibration")))
    sections.append(("model", "Model", table_html(
        ["field", "value"],
        [["features", ", ".join(saved.features)],
         ["training period (ns)", f"{saved.training_start_ns} .. {saved.training_end_ns}"],
         *[[name, f"{value:.4g}"] for name, value in saved.metrics.items()],
         *[[name, version] for name, version in saved.versions.items()]])))
    chosen = "; ".join(f"{c.family} gated at {c.chosen.label} (validation {c.scores[c.chosen]:.3f}"
                       f"{'' if c.saves else ', no candidate saved'})" for c in evaluation.choices)
    summary = (f"{config.name}: {len(evaluation.static)} static and {len(evaluation.gated)} gated settings, "
               f"{evaluation.breaches} deferrals past a hard limit. {chosen}.")
    return write_ml_report(config.output_dir / config.name / "report.html", f"ML gate: {config.name}", summary,
                           sections)
