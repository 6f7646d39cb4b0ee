"""Solve a plan request: relaxation and rounding first, branch and bound when needed, then the fallback.

Steps (the program is in ``formulation.py``, the rounding in ``rounding.py``):

1. Every constrained Greek already inside its effective goal: no trade, no solver.
2. The linear relaxation (lots continuous). Infeasible: the goal is unreachable,
   go to 5. Otherwise its cost ``L`` bounds the least cost from below.
3. Its cheapest whole-lot rounding that reaches the goal, if one costs at most
   ``L`` plus the accepted gap: done (a delta hedge with perpetuals ends here).
4. Branch and bound on the goal problem (HiGHS MIP, same gap). Infeasible, or
   stopped by the time limit without a solution: go to 5.
5. The lexicographic fallback: least shortfall, then least cost with the
   shortfall capped at its minimum.

The accepted gap is relative: a plan costs at most ``(1 + relative_gap)`` times the
least cost, and ``plan.cost_lower_bound_usd`` says how close it is. With
``relative_gap=0`` the plan is the least-cost one. The time limit covers all
solves together.

HiGHS runs without presolve: on small programs of this shape its MIP presolve
returned a wrong "optimal" solution (a shortfall of 1.5 where 1.33 is reachable;
HiGHS 1.12 in SciPy 1.17; see HiGHS issues #1725, #3274), and without it the
solves are as fast.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint, OptimizeResult, milp

from hedgekeeper.planner.errors import MalformedPlanRequest, PlannerFailed
from hedgekeeper.planner.formulation import Formulation, build_formulation
from hedgekeeper.planner.plan import Plan, PlanStatus, build_plan
from hedgekeeper.planner.request import INSIDE_SLACK, PlanRequest
from hedgekeeper.planner.rounding import round_relaxation

FloatArray = NDArray[np.float64]

# scipy.optimize.milp status codes.
_OPTIMAL, _LIMIT_REACHED, _INFEASIBLE = 0, 1, 2

#: Relative cost differences below this are floating-point noise.
_COST_NOISE = 1e-9

#: Rounds of fixing and solving the relaxation again before branch and bound.
MAX_DIVES = 1


def plan_trades(request: PlanRequest, *, relative_gap: float = 1e-3, time_limit_s: float = 1.0) -> Plan:
    """Return the least-cost trades that bring every constrained Greek into its goal.

    When no trades within the position limits and margin reach the goal, return the
    trades that leave the least shortfall (each Greek's distance outside its goal in
    units of its scale, summed), and among those the cheapest; ``plan.violations``
    says which Greeks remain outside and by how much.

    Parameters
    ----------
    request : PlanRequest
    relative_gap : float, >= 0: the plan may cost up to ``(1 + relative_gap)`` times
        the least cost (0.001 is 0.1%); 0 asks for the least cost itself
    time_limit_s : float, > 0: wall-clock seconds HiGHS may spend on all solves

    Returns
    -------
    Plan

    Raises
    ------
    PlannerFailed
        If HiGHS returns no usable solution (time limit hit in the fallback before
        any solution, numerical failure). Infeasibility alone never raises.

    Examples
    --------
    A BTC delta of 3.4 coin against a band of ±2.5, hedged with Deribit's perpetual
    (10 USD of face per contract, 1e-4 BTC of delta at 100,000 USD, 5 bps to trade):
    sell the 9,000 contracts that reach the band's upper edge.

    >>> from hedgekeeper.planner.candidates import Candidate
    >>> from hedgekeeper.policy.decision import Greek
    >>> perpetual = Candidate(instrument_id="BTC-PERPETUAL.DERIBIT",
    ...     sensitivities={Greek.DELTA_COIN: 1e-4}, price_usd=10.0, cost_fraction=0.0005, lot_size=1.0)
    >>> request = PlanRequest(greeks={Greek.DELTA_COIN: 3.4}, goal={Greek.DELTA_COIN: (-2.5, 2.5)},
    ...     candidates=[perpetual])
    >>> plan = plan_trades(request)
    >>> plan.status.value, [(t.instrument_id, t.contracts) for t in plan.trades], plan.cost_usd
    ('optimal', [('BTC-PERPETUAL.DERIBIT', -9000.0)], 45.0)
    >>> round(plan.resulting_greeks[Greek.DELTA_COIN], 12)
    2.5
    """
    if not relative_gap >= 0:
        raise MalformedPlanRequest(f"relative_gap must be >= 0, got {relative_gap}")
    if not time_limit_s > 0:
        raise MalformedPlanRequest(f"time_limit_s must be > 0, got {time_limit_s}")
    started = time.perf_counter()

    def plan(lots: FloatArray, status: PlanStatus, cost_lower_bound_usd: float) -> Plan:
        return build_plan(request, lots, status, cost_lower_bound_usd, time.perf_counter() - started)

    if all(request.excess(greek, request.greeks[greek]) == 0.0 for greek in request.constrained_greeks):
        return plan(np.zeros(len(request.candidates)), PlanStatus.INSIDE_GOAL, 0.0)

    formulation = build_formulation(request)

    def solve(objective: FloatArray, bounds: Bounds, *, integral: bool = True,
              cap: LinearConstraint | None = None) -> OptimizeResult:
        remaining_s = max(time_limit_s - (time.perf_counter() - started), 1e-3)
        return milp(
            objective,
            integrality=formulation.integrality if integral else None,
            bounds=bounds,
            constraints=[formulation.rows] if cap is None else [formulation.rows, cap],
            options={"mip_rel_gap": relative_gap, "time_limit": remaining_s, "presolve": False},
        )

    goal_bounds = formulation.bounds(allow_shortfall=False)
    relaxation = solve(formulation.cost_usd, goal_bounds, integral=False)
    if relaxation.status != _INFEASIBLE:
        if relaxation.x is not None:
            dive = _dive(request, formulation, relaxation, relative_gap, lambda b: solve(formulation.cost_usd, b,
                                                                                          integral=False))
            if dive is not None:
                return plan(dive, PlanStatus.OPTIMAL, relaxation.fun)
        goal = solve(formulation.cost_usd, goal_bounds)
        if goal.x is not None:
            status = PlanStatus.OPTIMAL if goal.status == _OPTIMAL else PlanStatus.TIME_LIMITED
            return plan(goal.x[formulation.lots_index], status, goal.mip_dual_bound)
        if goal.status not in (_INFEASIBLE, _LIMIT_REACHED):
            raise PlannerFailed(f"HiGHS failed on the goal problem: {goal.message}")

    fallback_bounds = formulation.bounds(allow_shortfall=True)
    least_shortfall = solve(formulation.shortfall, fallback_bounds)
    if least_shortfall.x is None:
        raise PlannerFailed(f"HiGHS found no solution to the fallback problem: {least_shortfall.message}")
    shortfall = float(formulation.shortfall @ least_shortfall.x)
    cap = LinearConstraint(formulation.shortfall, -np.inf, shortfall + INSIDE_SLACK * max(1.0, shortfall))
    cheapest = solve(formulation.cost_usd, fallback_bounds, cap=cap)
    best = least_shortfall if cheapest.x is None else cheapest
    if shortfall > INSIDE_SLACK:
        status = PlanStatus.GOAL_UNREACHABLE
    elif cheapest.status == _OPTIMAL:  # the goal problem was infeasible only within HiGHS' tolerances
        status = PlanStatus.OPTIMAL
    else:
        status = PlanStatus.TIME_LIMITED
    lower_bound_usd = cheapest.mip_dual_bound if cheapest.x is not None else 0.0
    return plan(best.x[formulation.lots_index], status, lower_bound_usd)


def _dive(
    request: PlanRequest,
    formulation: Formulation,
    relaxation: OptimizeResult,
    relative_gap: float,
    relax: Callable[[Bounds], OptimizeResult],
) -> FloatArray | None:
    """Return whole lots reaching the goal within the gap of the relaxation's cost, or None.

    Round the relaxation; if the best rounding reaches the goal cheaply enough, done.
    Otherwise fix the rounded candidates where that rounding put them, solve the
    relaxation of the others again and repeat, ``MAX_DIVES`` times at most.
    """
    lower_bound_usd = relaxation.fun
    bounds = formulation.bounds(allow_shortfall=False)
    for _ in range(MAX_DIVES):
        rounding = round_relaxation(request, relaxation.x[formulation.lots_index])
        if rounding is None:
            return None
        excess_usd = rounding.cost_usd - lower_bound_usd
        if rounding.shortfall == 0.0 and excess_usd <= (relative_gap + _COST_NOISE) * max(rounding.cost_usd,
                                                                                             _COST_NOISE):
            return rounding.lots
        if rounding.rounded.size == 0:
            return None
        fixed = formulation.lots_index[rounding.rounded]
        bounds.lb[fixed] = bounds.ub[fixed] = rounding.lots[rounding.rounded]
        relaxation = relax(bounds)
        if relaxation.x is None:
            return None
    return None
