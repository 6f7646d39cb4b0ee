"""Judging the gate: cost-versus-hedging-error frontiers, savings at equal risk, and the report.

A frontier point is one policy setting's cost and hedging error, averaged over the
tasks it ran on. A family's frontier is its Pareto-efficient points joined by straight
lines (``backtest.metrics.pareto_efficient``); ``cost_at_error`` reads it at a given
hedging error, so two families compare at equal risk, setting for setting, the way
``bench/bench_frontier.py`` compares policies. The HTML report reuses
``backtest/report.py``: its frontier figure, page, tables and inline PNG images
(nothing loaded from the internet).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from numpy.typing import NDArray

from hedgekeeper.backtest.metrics import cost_at_risk, pareto_efficient
from hedgekeeper.ml.simulation import DeferralLimits, HedgingTask, run_policy
from hedgekeeper.policy.base import Policy


@dataclass(frozen=True)
class PolicyPoint:
    """One policy setting's result, averaged over tasks.

    Attributes
    ----------
    label, family : str
    parameter : float, the swept parameter
    cost_usd : float, mean cost per task, USD
    hedging_error_usd : float, mean hedging error per task, USD
    rebalances, deferrals, breaches : int, totals over the tasks
    """

    label: str
    family: str
    parameter: float
    cost_usd: float
    hedging_error_usd: float
    rebalances: int
    deferrals: int
    breaches: int


def evaluate_policies(
    tasks: Sequence[HedgingTask],
    variants: Sequence[tuple[str, str, float, Callable[[], Policy]]],
    *,
    limits: DeferralLimits | None = None,
    hard_min_liquidation_distance: float = 0.0,
    hard_max_leverage: float = math.inf,
    progress: Callable[[str], None] | None = None,
    start_hedged: bool = False,
) -> list[PolicyPoint]:
    """Run every (label, family, parameter, make_policy) variant on every task; return its mean figures.

    ``start_hedged``: each run starts holding the hedge of the book's delta at its first step
    (to the lot of 0.001 coin), so the first trade is not counted; otherwise it starts unhedged.
    """
    points = []
    for label, family, parameter, make in variants:
        runs = [run_policy(task, make(), label, limits=limits, hard_min_liquidation_distance=hard_min_liquidation_distance,
                           hard_max_leverage=hard_max_leverage,
                           initial_hedge_coin=round(-float(task.delta_coin[0]), 3) if start_hedged else 0.0)
                for task in tasks]
        point = PolicyPoint(label, family, parameter, float(np.mean([r.cost_usd for r in runs])),
                            float(np.mean([r.hedging_error_usd for r in runs])), sum(r.rebalances for r in runs),
                            sum(r.deferrals for r in runs), sum(r.breaches for r in runs))
        points.append(point)
        if progress is not None:
            progress(f"{label:<28} hedging error {point.hedging_error_usd:>9,.0f} USD   cost {point.cost_usd:>9,.0f} USD"
                     f"   rebalances {point.rebalances:>6,d}   deferrals {point.deferrals:>6,d}   breaches {point.breaches}")
    return points


def cost_at_error(points: Sequence[PolicyPoint], error_usd: float) -> float:
    """Return the lowest cost the points reach at hedging error ``error_usd``, along their efficient frontier.

    Linear between efficient points; NaN outside their range of hedging errors.

    >>> points = [PolicyPoint("a", "f", 1, 100.0, 10.0, 0, 0, 0), PolicyPoint("b", "f", 2, 50.0, 20.0, 0, 0, 0)]
    >>> cost_at_error(points, 15.0), math.isnan(cost_at_error(points, 25.0))
    (75.0, True)
    """
    return cost_at_risk([(p.hedging_error_usd, p.cost_usd) for p in points], error_usd)


@dataclass(frozen=True)
class Saving:
    """The gated frontier against the static one at one hedging error."""

    error_usd: float
    gated_cost_usd: float
    static_cost_usd: float

    @property
    def saving(self) -> float:
        """Return the cost saved, a fraction of the static cost (> 0: the gate is cheaper)."""
        return 1.0 - self.gated_cost_usd / self.static_cost_usd


def savings_at_equal_error(gated: Sequence[PolicyPoint], static: Sequence[PolicyPoint]) -> list[Saving]:
    """Return, at each efficient gated point's hedging error within the static range, both frontiers' costs."""
    if not gated:
        return []
    errors = np.array([p.hedging_error_usd for p in gated])
    costs = np.array([p.cost_usd for p in gated])
    rows = []
    for index in np.flatnonzero(pareto_efficient(costs, errors)):
        static_cost = cost_at_error(static, float(errors[index]))
        if not math.isnan(static_cost):
            rows.append(Saving(float(errors[index]), float(costs[index]), static_cost))
    return sorted(rows, key=lambda row: row.error_usd)


def frontier_points(points: Sequence[PolicyPoint]) -> list[tuple[str, str, float, SimpleNamespace]]:
    """Return the points as ``backtest.report.frontier_figure`` reads them."""
    return [(p.label, p.family, p.parameter,
             SimpleNamespace(costs=SimpleNamespace(total_cost_usd=p.cost_usd), hedging_error_usd=p.hedging_error_usd))
            for p in points]


def dominance(gated: Sequence[PolicyPoint], static: Sequence[PolicyPoint]) -> list[tuple[PolicyPoint, PolicyPoint | None]]:
    """Return, for each efficient static point, the cheapest gated point at equal or lower hedging error (or None)."""
    costs = np.array([p.cost_usd for p in static])
    errors = np.array([p.hedging_error_usd for p in static])
    rows = []
    for index in np.flatnonzero(pareto_efficient(costs, errors)):
        reference = static[index]
        candidates = [g for g in gated if g.hedging_error_usd <= reference.hedging_error_usd]
        rows.append((reference, min(candidates, key=lambda g: g.cost_usd) if candidates else None))
    return sorted(rows, key=lambda row: row[0].hedging_error_usd)


def comparison_lines(title: str, gated: Sequence[PolicyPoint], static: Sequence[PolicyPoint]) -> list[str]:
    """Return the gated frontier against the static one as text: costs at equal hedging error, then dominance."""
    lines = [title, "  at equal hedging error (both frontiers interpolated):",
             f"  {'hedging error USD':>18}{'gated cost':>12}{'static cost':>13}{'saved':>8}"]
    rows = savings_at_equal_error(gated, static)
    lines += [f"  {r.error_usd:>18,.0f}{r.gated_cost_usd:>12,.0f}{r.static_cost_usd:>13,.0f}{r.saving:>8.1%}"
              for r in rows]
    if not rows:
        lines.append("  (no efficient gated point inside the static range of hedging error)")
    lines.append("  the gated frontier read at each efficient static setting's hedging error:")
    for reference, _ in dominance(gated, static):
        gated_cost = cost_at_error(gated, reference.hedging_error_usd)
        head = f"  {reference.label:<24} {reference.hedging_error_usd:>7,.0f} USD {reference.cost_usd:>9,.0f} USD"
        lines.append(head + ("   outside the gated frontier's range of hedging error" if math.isnan(gated_cost) else
                             f"   gated {gated_cost:>9,.0f} USD   saved {1.0 - gated_cost / reference.cost_usd:>6.1%}"))
    lines.append("  cheapest gated setting at equal or lower hedging error than each efficient static setting:")
    for reference, best in dominance(gated, static):
        head = f"  {reference.label:<24} {reference.hedging_error_usd:>7,.0f} USD {reference.cost_usd:>9,.0f} USD"
        if best is None:
            lines.append(head + "   no gated setting reaches this hedging error")
            continue
        saving = 1.0 - best.cost_usd / reference.cost_usd
        lines.append(head + f"   {best.label:<30} {best.hedging_error_usd:>7,.0f} USD {best.cost_usd:>9,.0f} USD"
                     f"   saved {saving:>6.1%}")
    return lines


def target_line(gated: Sequence[PolicyPoint], static: Sequence[PolicyPoint], target: float) -> str:
    """Return at how many efficient static settings the target is met, as a line of text.

    The target is met at a static setting when a gated setting of no more hedging error
    costs at least ``target`` (a fraction) less.

    >>> static = [PolicyPoint("s1", "f", 1, 100.0, 10.0, 0, 0, 0), PolicyPoint("s2", "f", 2, 50.0, 20.0, 0, 0, 0)]
    >>> target_line([PolicyPoint("g", "f", 1, 80.0, 9.0, 0, 0, 0)], static, 0.15)
    'target (>= 15% less cost at equal or lower hedging error): met at 1 of 2 efficient static settings (s1 20.0%)'
    """
    rows = dominance(gated, static)
    met = [(reference, 1.0 - best.cost_usd / reference.cost_usd) for reference, best in rows
           if best is not None and reference.cost_usd > 0.0 and 1.0 - best.cost_usd / reference.cost_usd >= target]
    detail = ", ".join(f"{reference.label} {saving:.1%}" for reference, saving in met)
    return (f"target (>= {target:.0%} less cost at equal or lower hedging error): met at {len(met)} of {len(rows)} "
            f"efficient static settings" + (f" ({detail})" if met else ""))


def feature_importance_figure(names: Sequence[str], importances: NDArray[np.float64]):  # noqa: ANN201 (Figure)
    """Return a bar chart of the model's gain importance per feature (fractions of the total)."""
    from hedgekeeper.backtest.report import _new_figure

    order = np.argsort(importances)
    figure = _new_figure(7.0, 5.5)
    axes = figure.subplots()
    axes.barh([names[i] for i in order], importances[order], color="tab:blue")
    axes.set_xlabel("share of total split gain")
    axes.set_title("Feature importance")
    axes.grid(True, axis="x", alpha=0.3)
    return figure


def calibration_figure(y: NDArray[np.int8], probability: NDArray[np.float64], bins: int = 10):  # noqa: ANN201
    """Return the reliability curve of out-of-fold probabilities against observed frequencies."""
    from sklearn.calibration import calibration_curve

    from hedgekeeper.backtest.report import _new_figure

    figure = _new_figure(5.5, 5.0)
    axes = figure.subplots()
    axes.plot([0, 1], [0, 1], "--", color="0.5", label="perfectly calibrated")
    if len(y) and len(np.unique(y)) == 2:
        observed, predicted = calibration_curve(y, probability, n_bins=bins, strategy="quantile")
        axes.plot(predicted, observed, "o-", color="tab:blue", label="walk-forward, out of fold")
    axes.set_xlabel("predicted probability that deferring is better")
    axes.set_ylabel("observed frequency")
    axes.set_title("Calibration")
    axes.legend(fontsize=8)
    axes.grid(True, alpha=0.3)
    return figure


def write_ml_report(path: str | Path, title: str, summary: str,
                    sections: Sequence[tuple[str, str, str]]) -> Path:
    """Write an HTML page of ``(anchor, heading, html)`` sections with the backtest report's style."""
    from hedgekeeper.backtest.report import _page

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_page(title, summary, sections), encoding="utf-8")
    return path


def figure_html(figure, alternative: str) -> str:  # noqa: ANN001 (Figure)
    """Return the figure as an inline PNG ``<img>``."""
    from hedgekeeper.backtest.report import _image

    return _image(figure, alternative)


def table_html(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Return an HTML table in the report's style."""
    from hedgekeeper.backtest.report import _html_table

    return _html_table(header, rows, text_columns=(0,))
