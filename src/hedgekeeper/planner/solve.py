"""Solve a plan request: relax and round, branch and bound if needed, else the fallback.

Steps (the program is in ``formulation.py``, the rounding in ``rounding.py``):

1. Every constrained Greek already inside its effective goal: no trade, no solver.
2. The linear relaxation (lots continuous). Infeasible: the goal is unreachable,
   go to 5. Otherwise its cost ``L`` bounds the least cost from below.
3. Its best whole-lot rounding, repaired by a few more relaxations if needed: if
   it reaches the goal at most the accepted gap above ``L``, done. A delta hedge
   ends here, in a few milliseconds.
4. Branch and bound on the goal problem (HiGHS MIP). Infeasible, or stopped by
   the time limit without a solution: go to 5.
5. The lexicographic fallback: least shortfall, then least cost with the
   shortfall capped at its minimum.

HiGHS keeps an integer within 1e-6 of a whole number, and a lot worth up to 1e6
scales of a row (an option's delta beside a perpetual's, a lot's margin beside a
far smaller one) then moves that row by up to a whole scale when it is rounded:
branch and bound can return lots that, rounded, miss the goal or break the
margin, and take them for cheaper than the true least cost. So every branch and
bound result is rounded and checked as a rounding is (``assess_lots``); one that
fails is solved again with HiGHS' tolerance at ``STRICT_MIP_TOLERANCE``.

The accepted gap: a plan may cost more than the least cost by ``relative_gap`` of
its cost or by ``absolute_gap_usd``, whichever is larger (the absolute one lets a
rounded small trade through: one lot of a perpetual can be 0.1% of a small
hedge). HiGHS takes a relative gap only, so branch and bound uses
``relative_gap``. ``plan.cost_lower_bound_usd`` says how close the plan is; with
both gaps 0 it is the least-cost plan. The time limit covers all solves together.

HiGHS runs without presolve: on small programs of this shape its MIP presolve
returned a wrong "optimal" solution (a shortfall of 1.5 where 1.33 is reachable;
HiGHS 1.12 in SciPy 1.17; HiGHS issues #1725 and #3274 report the same kind of
error). That costs about 5 ms on the smallest branch-and-bound runs, nothing on
larger ones.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint, OptimizeResult, milp

from hedgekeeper.planner.errors import MalformedPlanRequest, PlannerFailed
from hedgekeeper.planner.formulation import Formulation, build_formulation
from hedgekeeper.planner.plan import Plan, PlanStatus, build_plan
from hedgekeeper.planner.request import INSIDE_SLACK, PlanRequest
from hedgekeeper.planner.rounding import (
    Rounding,
    assess_lots,
    repair_rounding,
    round_relaxation,
)

FloatArray = NDArray[np.float64]

# scipy.optimize.milp status codes.
_OPTIMAL, _LIMIT_REACHED, _INFEASIBLE = 0, 1, 2

#: Relative cost differences below this are floating-point noise.
_COST_NOISE = 1e-9

#: HiGHS' integrality and row tolerance (``mip_feasibility_tolerance``, 1e-6 by default)
#: for branch and bound again when the rounded lots of a first solve fail their check.
STRICT_MIP_TOLERANCE = 1e-9


def plan_trades(
    request: PlanRequest,
    *,
    relative_gap: float = 1e-3,
    absolute_gap_usd: float = 0.01,
    time_limit_s: float = 1.0,
) -> Plan:
    """Return the least-cost trades that bring every constrained Greek into its goal.

    When no trades within the position limits and margin reach the goal, return the
    trades that leave the least shortfall (each Greek's distance outside its goal in
    units of its scale, summed), and among those the cheapest; ``plan.violations``
    says which Greeks remain outside and by how much.

    Parameters
    ----------
    request : PlanRequest
    relative_gap, absolute_gap_usd : float, >= 0: the plan may cost more than the
        least cost by ``relative_gap`` of its cost (0.001 is 0.1%) or by
        ``absolute_gap_usd``, whichever is larger; both 0 ask for the least cost
    time_limit_s : float, > 0: wall-clock seconds HiGHS may spend on all solves

    Returns
    -------
    Plan

    Raises
    ------
    MalformedPlanRequest
        If a gap is negative or the time limit is not positive.
    PlannerFailed
        If HiGHS returns no usable solution (time limit hit in the fallback before
        any solution, numerical failure, whole lots that break a limit or miss the
        goal even at ``STRICT_MIP_TOLERANCE``). Infeasibility alone never raises.

    Examples
    --------
    A BTC delta of 3.4 coin against a band of ±2.5, hedged with Deribit's perpetual
    (10 USD of face per contract, 1e-4 BTC of delta at 100,000 USD, 5 bps to trade):
    sell the 9,000 contracts that reach the band's upper edge.

    >>> from hedgekeeper.planner.candidates import Candidate
    >>> from hedgekeeper.policy.decision import Greek
    >>> perpetual = Candidate(instrument_id="BTC-PERPETUAL.DERIBIT",
    ...     sensitivities={Greek.DELTA_COIN: 1e-4}, price_usd=10.0, cost_fraction=0.0005,
    ...     lot_size=1.0)
    >>> request = PlanRequest(greeks={Greek.DELTA_COIN: 3.4},
    ...     goal={Greek.DELTA_COIN: (-2.5, 2.5)}, candidates=[perpetual])
    >>> plan = plan_trades(request)
    >>> plan.status.value, [(t.instrument_id, t.contracts) for t in plan.trades], plan.cost_usd
    ('optimal', [('BTC-PERPETUAL.DERIBIT', -9000.0)], 45.0)
    >>> round(plan.resulting_greeks[Greek.DELTA_COIN], 12)
    2.5
    """
    for name, gap in (("relative_gap", relative_gap), ("absolute_gap_usd", absolute_gap_usd)):
        if not (math.isfinite(gap) and gap >= 0):
            raise MalformedPlanRequest(f"{name} must be a finite number >= 0, got {gap}")
    if not time_limit_s > 0:
        raise MalformedPlanRequest(f"time_limit_s must be > 0, got {time_limit_s}")
    started = time.perf_counter()

    def plan(lots: FloatArray, status: PlanStatus, cost_lower_bound_usd: float) -> Plan:
        elapsed_s = time.perf_counter() - started
        return build_plan(request, lots, status, cost_lower_bound_usd, elapsed_s)

    if all(request.excess(g, request.greeks[g]) == 0.0 for g in request.constrained_greeks):
        return plan(np.zeros(len(request.candidates)), PlanStatus.INSIDE_GOAL, 0.0)

    formulation = build_formulation(request)
    solver = _Solver(request, formulation, relative_gap, absolute_gap_usd, started + time_limit_s)
    goal_bounds = formulation.bounds(allow_shortfall=False)
    relaxation = solver.solve(formulation.cost_usd, goal_bounds, integral=False)
    if relaxation.status != _INFEASIBLE:
        # Only a relaxation solved to optimality bounds the least cost from below.
        rounded = solver.round(relaxation) if relaxation.status == _OPTIMAL else None
        if rounded is not None:
            return plan(rounded, PlanStatus.OPTIMAL, relaxation.fun)
        goal = solver.branch_and_bound(formulation.cost_usd, goal_bounds, reach_goal=True)
        if goal.x is not None:
            status = PlanStatus.OPTIMAL if goal.status == _OPTIMAL else PlanStatus.TIME_LIMITED
            return plan(solver.lots(goal), status, goal.mip_dual_bound)
        if goal.status not in (_INFEASIBLE, _LIMIT_REACHED):
            raise PlannerFailed(f"HiGHS failed on the goal problem: {goal.message}")
    return plan(*solver.fallback())


@dataclass(frozen=True)
class _Solver:
    """One request's program and the settings every HiGHS call shares."""

    request: PlanRequest
    formulation: Formulation
    relative_gap: float
    absolute_gap_usd: float
    deadline_s: float  # time.perf_counter() value

    def solve(self, objective: FloatArray, bounds: Bounds, *, integral: bool = True,
              cap: LinearConstraint | None = None,
              mip_tolerance: float | None = None) -> OptimizeResult:
        """Return HiGHS' result for ``objective`` under ``bounds`` and ``cap``."""
        options: dict[str, object] = {
            "mip_rel_gap": self.relative_gap,
            "time_limit": max(self.deadline_s - time.perf_counter(), 1e-3),
            "presolve": False,
        }
        with warnings.catch_warnings():
            if mip_tolerance is not None:
                # milp passes options it does not know to HiGHS as they are, with a warning.
                options["mip_feasibility_tolerance"] = mip_tolerance
                warnings.filterwarnings("ignore", "Unrecognized options", RuntimeWarning)
            return milp(
                objective,
                integrality=self.formulation.integrality if integral else None,
                bounds=bounds,
                constraints=(
                    [self.formulation.rows] if cap is None else [self.formulation.rows, cap]
                ),
                options=options,
            )

    def branch_and_bound(self, objective: FloatArray, bounds: Bounds, *, reach_goal: bool,
                         cap: LinearConstraint | None = None) -> OptimizeResult:
        """Return HiGHS' branch and bound result, its lots checked once rounded (module docstring).

        The rounded lots must be admissible and, if ``reach_goal``, reach the goal;
        failing that at HiGHS' default tolerance, the program is solved again at
        ``STRICT_MIP_TOLERANCE``. A result without a solution is returned as it is.

        Raises
        ------
        PlannerFailed
            If the rounded lots fail their check at ``STRICT_MIP_TOLERANCE`` too.
        """
        result = self.solve(objective, bounds, cap=cap)
        if self._whole_lots_hold(result, reach_goal=reach_goal):
            return result
        result = self.solve(objective, bounds, cap=cap, mip_tolerance=STRICT_MIP_TOLERANCE)
        if self._whole_lots_hold(result, reach_goal=reach_goal):
            return result
        lots = np.rint(self.lots(result))
        raise PlannerFailed(
            f"HiGHS' lots {lots.tolist()}, rounded, break a limit or the margin"
            f"{' or miss the goal' if reach_goal else ''}, even with its tolerance at"
            f" {STRICT_MIP_TOLERANCE}"
        )

    def _whole_lots_hold(self, result: OptimizeResult, *, reach_goal: bool) -> bool:
        if result.x is None:
            return True
        assessment = assess_lots(self.request, np.rint(self.lots(result)))
        return bool(assessment.admissible[0]) and not (
            reach_goal and assessment.shortfall[0] > 0.0
        )

    def lots(self, result: OptimizeResult) -> FloatArray:
        """Return each candidate's lots in ``result``."""
        return result.x[self.formulation.lots_index]

    def round(self, relaxation: OptimizeResult) -> FloatArray | None:
        """Return whole lots reaching the goal within the accepted gap, or None."""

        def acceptable(rounding: Rounding | None) -> bool:
            if rounding is None or rounding.shortfall != 0.0:
                return False
            cost_usd = rounding.cost_usd
            accepted_usd = max(self.relative_gap * cost_usd, self.absolute_gap_usd)
            return cost_usd - relaxation.fun <= accepted_usd + _COST_NOISE * max(cost_usd, 1.0)

        def relax_with_fixed(indices: NDArray[np.int64], lots: FloatArray) -> FloatArray | None:
            bounds = self.formulation.bounds(allow_shortfall=False)
            columns = self.formulation.lots_index[indices]
            bounds.lb[columns] = bounds.ub[columns] = lots
            result = self.solve(self.formulation.cost_usd, bounds, integral=False)
            return None if result.x is None else self.lots(result)

        rounding = round_relaxation(self.request, self.lots(relaxation))
        if not acceptable(rounding):
            rounding = repair_rounding(self.request, self.lots(relaxation), relax_with_fixed)
        return rounding.lots if acceptable(rounding) else None

    def fallback(self) -> tuple[FloatArray, PlanStatus, float]:
        """Return the lots, status and cost bound of the least shortfall, then least cost."""
        bounds = self.formulation.bounds(allow_shortfall=True)
        least_shortfall = self.branch_and_bound(self.formulation.shortfall, bounds,
                                                reach_goal=False)
        if least_shortfall.x is None:
            raise PlannerFailed(
                f"HiGHS found no solution to the fallback problem: {least_shortfall.message}"
            )
        shortfall = float(self.formulation.shortfall @ least_shortfall.x)
        cap = LinearConstraint(
            self.formulation.shortfall, -np.inf, shortfall + INSIDE_SLACK * max(1.0, shortfall)
        )
        cheapest = self.branch_and_bound(self.formulation.cost_usd, bounds, cap=cap,
                                         reach_goal=False)
        if shortfall > INSIDE_SLACK:
            status = PlanStatus.GOAL_UNREACHABLE
        elif cheapest.status == _OPTIMAL:  # the goal was infeasible only within HiGHS' tolerances
            status = PlanStatus.OPTIMAL
        else:
            status = PlanStatus.TIME_LIMITED
        if cheapest.x is None:
            return self.lots(least_shortfall), status, 0.0
        return self.lots(cheapest), status, cheapest.mip_dual_bound
