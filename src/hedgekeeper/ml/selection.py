"""Choosing the gate's defer probability and label horizon on validation blocks inside the training period.

The test period is judged once, with settings chosen without it. The training
period (the training tasks' common clock) is cut in time: its first
``first_fraction`` only trains, the rest is cut into ``n_folds`` consecutive
validation blocks. For each block and each candidate label horizon ``h`` a model
is fitted on the training samples (labels of horizon ``h``) that lie before the
block and whose label is known more than the embargo before it starts (purged and
embargoed, ``training.known_before``); then every static setting and every gated
setting (each candidate defer probability ``q``) runs on the block's part of each
training task. A setting's cost and hedging error are averaged over the blocks
(``pool_points``), and each candidate ``(h, q)`` is scored by ``relative_cost``
against the static frontier; the lowest score wins (``choose``).

The criterion is the issue's: least cost at hedging error no worse than the best
static policy. For each Pareto-efficient static setting, the cheapest gated
setting at equal or lower hedging error, its cost as a fraction of the static
setting's (1 where no gated setting reaches that error, or where it costs more:
one would keep the static policy there), averaged over the efficient static
settings. Ties go to the higher defer probability (fewer deferrals), then the
shorter horizon.

``select_gates`` reads the training tasks only; it never sees the test period.
What it chose (``ml.choice.GateChoice``) is saved with the model the chosen horizon
trains (``train_chosen``), and ``ml.pipeline.evaluate`` judges the gate at that
setting on the test period. ``select_and_train`` is ``hedgekeeper train``: the
file's one family through these same steps, as ``bench/bench_ml_gate*.py`` run
them for two.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hedgekeeper.ml.choice import Candidate, GateChoice, Sweep
from hedgekeeper.ml.evaluation import PolicyPoint, dominance, evaluate_policies
from hedgekeeper.ml.model import save_model
from hedgekeeper.ml.pipeline import (
    MLConfig,
    build_tasks,
    deferral_limits,
    embargo_ns,
    for_family,
    gate_table,
    horizon_config,
    judged_config,
    make_policy,
    model_params,
    model_settings,
    train,
    training_samples,
)
from hedgekeeper.ml.simulation import HedgingTask, at_the_money_book
from hedgekeeper.ml.training import Samples, TrainingResult, fit_saved_model, known_before


@dataclass(frozen=True)
class ValidationBlock:
    """One validation block: its time range and, per horizon, the last label its training samples read.

    Attributes
    ----------
    start_ns, stop_ns : int, the block is ``[start_ns, stop_ns)``, ns since the epoch
    training_end_ns : mapping from horizon (steps) to the latest label end of the block's training samples, ns
    """

    start_ns: int
    stop_ns: int
    training_end_ns: Mapping[int, int]


@dataclass(frozen=True)
class Selection:
    """What the validation blocks chose for one family, and the points it was chosen on.

    Attributes
    ----------
    choice : GateChoice, the chosen candidate, every candidate's score and the settings (saved with the model)
    static : the static settings' points, pooled over the blocks
    gated : mapping from candidate to its gated settings' points, pooled over the blocks
    """

    choice: GateChoice
    static: list[PolicyPoint]
    gated: Mapping[Candidate, list[PolicyPoint]]

    @property
    def family(self) -> str:
        """Return the policy family chosen for."""
        return self.choice.family


def validation_blocks(start_ns: int, stop_ns: int, n_folds: int, first_fraction: float) -> list[tuple[int, int]]:
    """Return the ``n_folds`` consecutive validation blocks ``[start, stop)`` after the first part of a period (ns).

    >>> validation_blocks(0, 100, 2, 0.4)
    [(40, 70), (70, 100)]
    """
    first = start_ns + round(first_fraction * (stop_ns - start_ns))
    edges = [first + (stop_ns - first) * number // n_folds for number in range(n_folds + 1)]  # exact in ns
    return list(zip(edges[:-1], edges[1:], strict=True))


def relative_cost(gated: Sequence[PolicyPoint], static: Sequence[PolicyPoint]) -> float:
    """Return the gated settings' cost relative to the static frontier at equal or lower hedging error.

    For each Pareto-efficient static setting, the cost of the cheapest gated setting
    whose hedging error is no higher, over the static setting's cost, capped at 1
    (1 also where no gated setting reaches that error); the mean over the efficient
    static settings. 1 means the gate saves nothing; 0.8 saves 20% on average.
    NaN without static settings.

    >>> def point(error, cost):
    ...     return PolicyPoint("", "", 0.0, cost, error, 0, 0, 0)
    >>> relative_cost([point(9.0, 80.0)], [point(10.0, 100.0), point(20.0, 50.0)])  # (0.8 + 1) / 2: 80 > 50
    0.9
    """
    rows = dominance(gated, static)
    if not rows:
        return math.nan
    return float(np.mean([1.0 if best is None or reference.cost_usd <= 0.0
                          else min(1.0, best.cost_usd / reference.cost_usd) for reference, best in rows]))


def choose(static: Sequence[PolicyPoint],
           gated: Mapping[Candidate, Sequence[PolicyPoint]]) -> tuple[Candidate, dict[Candidate, float]]:
    """Return the candidate of lowest ``relative_cost`` against ``static``, and every candidate's score.

    Ties go to the higher defer probability, then the shorter horizon.

    >>> def point(error, cost):
    ...     return PolicyPoint("", "", 0.0, cost, error, 0, 0, 0)
    >>> static = [point(10.0, 100.0)]
    >>> eager, wary = Candidate(15, 0.5), Candidate(15, 0.8)
    >>> choose(static, {eager: [point(12.0, 40.0)], wary: [point(10.0, 70.0)]})[0]  # eager's error is too high
    Candidate(horizon_steps=15, defer_probability=0.8)
    """
    scores = {candidate: relative_cost(points, static) for candidate, points in gated.items()}
    chosen = min(scores, key=lambda c: (math.inf if math.isnan(scores[c]) else scores[c], -c.defer_probability,
                                        c.horizon_steps))
    return chosen, scores


def pool_points(blocks: Sequence[Sequence[PolicyPoint]]) -> list[PolicyPoint]:
    """Return each setting's cost and hedging error averaged over blocks (USD), its counts summed (matched by label).

    >>> pool_points([[PolicyPoint("a", "f", 1.0, 10.0, 2.0, 1, 0, 0)],
    ...              [PolicyPoint("a", "f", 1.0, 30.0, 4.0, 2, 0, 0)]])
    [PolicyPoint(label='a', family='f', parameter=1.0, cost_usd=20.0, hedging_error_usd=3.0,
                 rebalances=3, deferrals=0, breaches=0)]
    """
    pooled = []
    for first in blocks[0]:
        same = [next(p for p in block if p.label == first.label) for block in blocks]
        pooled.append(PolicyPoint(first.label, first.family, first.parameter,
                                  float(np.mean([p.cost_usd for p in same])),
                                  float(np.mean([p.hedging_error_usd for p in same])),
                                  sum(p.rebalances for p in same), sum(p.deferrals for p in same),
                                  sum(p.breaches for p in same)))
    return pooled


def window_task(config: MLConfig, task: HedgingTask, start_ns: int, stop_ns: int) -> HedgingTask | None:
    """Return the part of ``task`` in ``[start_ns, stop_ns)`` (ns), its book at the money at its start.

    None when fewer than 2 steps of the task lie in the block.
    """
    ts = task.path.ts_ns
    lo, hi = int(np.searchsorted(ts, start_ns)), int(np.searchsorted(ts, stop_ns))
    if hi - lo < 2:
        return None
    path = task.path.window(lo, hi)
    book = config.book
    return HedgingTask(f"{task.name}[{lo}:{hi}]", path, at_the_money_book(path, n_options=book.n_options,
                                                                             vol=book.vol, leverage=book.leverage))


@dataclass(frozen=True)
class SelectionRun:
    """The validation blocks and, per family, what they chose."""

    blocks: list[ValidationBlock]
    selections: dict[str, Selection]

    @property
    def choices(self) -> dict[str, GateChoice]:
        """Return, per family, the choice (what a model saves)."""
        return {family: selection.choice for family, selection in self.selections.items()}


def select_gates(config: MLConfig, tasks: Sequence[HedgingTask], sweeps: Sequence[Sweep], *,
                 start_hedged: bool = False, model_dir: str | Path | None = None,
                 progress: Callable[[str], None] | None = None) -> SelectionRun:
    """Choose, for each sweep's family, the label horizon and defer probability on validation blocks of ``tasks``.

    Parameters
    ----------
    config : MLConfig; candidates ``[ml.selection] horizons_steps`` x ``[ml.policies] defer_probabilities``,
        the model trained on ``[ml.policies] train_parameters`` as ``ml.pipeline.train`` does
    tasks : the training tasks only (every policy runs on their validation blocks)
    sweeps : the families to choose for, with their static and gated settings
    start_hedged : each validation run starts holding the book's hedge (as the judging runs do)
    model_dir : where the blocks' models are saved (default ``<output_dir>/selection``)
    progress : called with a line per model and per block

    Returns
    -------
    SelectionRun
    """
    say = progress or (lambda _: None)
    selection = config.selection
    directory = Path(model_dir) if model_dir is not None else config.output_dir / "selection"
    start = min(int(task.path.ts_ns[0]) for task in tasks)
    stop = max(int(task.path.ts_ns[-1]) for task in tasks) + 1
    spans = validation_blocks(start, stop, selection.n_folds, selection.first_fraction)
    samples = {h: training_samples(horizon_config(config, h, config.model_path), list(tasks))
               for h in selection.horizons_steps}
    candidates = [Candidate(h, q) for h in selection.horizons_steps for q in config.policies.defer_probabilities]
    blocks, static_points, gated_points = [], {s.family: [] for s in sweeps}, {s.family: [] for s in sweeps}
    for number, (lo, hi) in enumerate(spans, start=1):
        models, block = _block_models(config, samples, lo, hi, directory, number, say)
        blocks.append(block)
        windows = [w for w in (window_task(config, task, lo, hi) for task in tasks) if w is not None]
        for sweep in sweeps:
            static, gated = _block_points(config, sweep, candidates, models, windows, start_hedged)
            static_points[sweep.family].append(static)
            gated_points[sweep.family].append(gated)
        say(f"block {number} of {len(spans)}: every setting run on {len(windows)} windows")
    selections = {}
    for sweep in sweeps:
        static = pool_points(static_points[sweep.family])
        pooled = pool_points(gated_points[sweep.family])
        gated = {c: [p for p in pooled if p.family == _gated_family(sweep, c)] for c in candidates}
        chosen, scores = choose(static, gated)
        choice = GateChoice(sweep, chosen, scores, tuple(spans), selection.first_fraction,
                            config.training.embargo_s, start_hedged)
        selections[sweep.family] = Selection(choice, static, gated)
    return SelectionRun(blocks, selections)


def _block_models(config: MLConfig, samples: Mapping[int, Samples], start_ns: int, stop_ns: int, directory: Path,
                  number: int, say: Callable[[str], None]) -> tuple[dict[int, Path], ValidationBlock]:
    # One model per horizon on the samples known an embargo before the block starts.
    models, ends = {}, {}
    for h, every in samples.items():
        fold = every.take(known_before(every.ts_ns, every.label_end_ns, start_ns, embargo_ns(config)))
        saved = fit_saved_model(fold, model_params=model_params(config), random_state=config.seed,
                                settings=model_settings(config) | {"validation_block": [start_ns, stop_ns]})
        models[h] = save_model(directory / f"{config.name}-h{h}-block{number}.joblib", saved)
        ends[h] = saved.training_end_ns
        say(f"block {number}, h = {h}: model on {len(fold):,d} samples, {fold.y.mean():.1%} defer")
    return models, ValidationBlock(start_ns, stop_ns, ends)


def _block_points(config: MLConfig, sweep: Sweep, candidates: Sequence[Candidate], models: Mapping[int, Path],
                  windows: Sequence[HedgingTask], start_hedged: bool) -> tuple[list[PolicyPoint], list[PolicyPoint]]:
    # The sweep's static settings, then its gated settings for every candidate, run on the block's windows.
    family = for_family(config, sweep.family)
    hard = config.hard_limits
    common = {"limits": deferral_limits(config), "hard_min_liquidation_distance": hard.min_liquidation_distance,
              "hard_max_leverage": hard.max_leverage, "start_hedged": start_hedged}
    static = evaluate_policies(windows, [(f"{sweep.family}-{p:g}", sweep.family, p, lambda p=p: make_policy(family, p))
                                         for p in sweep.static_parameters], **common)
    gated = evaluate_policies(windows, [
        (f"gated-{sweep.family}-{p:g}-{c.label}", _gated_family(sweep, c), p,
         lambda p=p, c=c: make_policy(family, p, gate_table(config, models[c.horizon_steps], c.defer_probability)))
        for c in candidates for p in sweep.gated_parameters], **common)
    return static, gated


def train_chosen(config: MLConfig, tasks: Sequence[HedgingTask], choices: Mapping[str, GateChoice],
                 model_dir: str | Path | None = None, progress: Callable[[str], None] | None = None,
                 ) -> dict[str, tuple[MLConfig, TrainingResult]]:
    """Train one model per chosen horizon on the whole training period, saved with the choices made for it.

    Return, per family, the config judging its choice (``ml.pipeline.judged_config``)
    and the training result.

    Parameters
    ----------
    config : MLConfig, the file the selection ran with (its training policies train every model)
    tasks : the training tasks
    choices : per family, what the validation blocks chose (``SelectionRun.choices``)
    model_dir : where the models go, ``<name>-h<steps>.joblib``; None: ``[ml] model_path``, which
        then holds the one model (every family chose the same horizon, as with one family)
    progress : called with training's lines

    Raises
    ------
    ValueError
        If ``model_dir`` is None and the families chose different horizons.
    """
    horizons = sorted({choice.chosen.horizon_steps for choice in choices.values()})
    if model_dir is None and len(horizons) > 1:
        raise ValueError(f"the families chose horizons {horizons}: one model_path cannot hold them all")
    paths = {h: config.model_path if model_dir is None else Path(model_dir) / f"{config.name}-h{h}.joblib"
             for h in horizons}
    trained = {h: train(horizon_config(config, h, path), progress, tasks=list(tasks),
                        choices=[c for c in choices.values() if c.chosen.horizon_steps == h])
               for h, path in paths.items()}
    return {family: (judged_config(config, choice, paths[choice.chosen.horizon_steps]),
                     trained[choice.chosen.horizon_steps]) for family, choice in choices.items()}


def select_and_train(config: MLConfig, progress: Callable[[str], None] | None = None,
                     ) -> tuple[GateChoice, TrainingResult]:
    """Run ``hedgekeeper train``: choose the file's gate on its training period, train it, save it.

    The file's family and settings (``[ml.policies]``) are one ``Sweep``; its horizon
    and defer probability are chosen on validation blocks of the training tasks
    (``select_gates``, block models under ``<output_dir>/selection``), then the
    chosen horizon's model is trained on the whole training period and saved at
    ``[ml] model_path`` with the choice (``train_chosen``). The test tasks are never
    built into the choice: only ``build_tasks``'s training part is read.

    Returns
    -------
    the choice, and the training result of the model saved
    """
    train_tasks = build_tasks(config, progress)[0]
    policies = config.policies
    run = select_gates(config, train_tasks, [Sweep(policies.family, policies.parameters, policies.gated_parameters)],
                       progress=progress)
    _, result = train_chosen(config, train_tasks, run.choices, progress=progress)[policies.family]
    return run.choices[policies.family], result


def _gated_family(sweep: Sweep, candidate: Candidate) -> str:
    return f"gated {sweep.family} {candidate.label}"
