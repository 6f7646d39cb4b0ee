"""Solve a plan request: the goal problem, and the lexicographic fallback when it is infeasible.

Steps (the program is in ``formulation.py``):

1. Every constrained Greek already inside its effective goal: no trade, no solver.
2. The goal problem: least cost with every Greek inside its goal.
3. If HiGHS proves it infeasible, or stops at the time limit without a solution:
   least shortfall, then least cost with the shortfall capped at its minimum.

The time limit covers all solves together. HiGHS runs with a relative MIP gap of
0, so an ``optimal`` plan is the least-cost one, not one within 0.01% of it.
"""

from __future__ import annotations

import time

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import LinearConstraint, OptimizeResult, milp

from hedgekeeper.planner.errors import MalformedPlanRequest, PlannerFailed
from hedgekeeper.planner.formulation import Formulation, build_formulation
from hedgekeeper.planner.plan import Plan, PlanStatus, build_plan
from hedgekeeper.planner.request import INSIDE_SLACK, PlanRequest

FloatArray = NDArray[np.float64]

# scipy.optimize.milp status codes.
_OPTIMAL, _LIMIT_REACHED, _INFEASIBLE = 0, 1, 2


def plan_trades(request: PlanRequest, *, time_limit_s: float = 1.0) -> Plan:
    """Return the least-cost trades that bring every constrained Greek into its goal.

    When no trades within the position limits and margin reach the goal, return the
    trades that leave the least shortfall (each Greek's distance outside its goal in
    units of its scale, summed), and among those the cheapest; ``plan.violations``
    says which Greeks remain outside and by how much.

    Parameters
    ----------
    request : PlanRequest
    time_limit_s : float, wall-clock seconds HiGHS may spend on all solves, > 0

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
    if not time_limit_s > 0:
        raise MalformedPlanRequest(f"time_limit_s must be > 0, got {time_limit_s}")
    started = time.perf_counter()
    no_trade = np.zeros(len(request.candidates))
    if all(request.excess(greek, request.greeks[greek]) == 0.0 for greek in request.constrained_greeks):
        return build_plan(request, no_trade, PlanStatus.INSIDE_GOAL, time.perf_counter() - started)

    formulation = build_formulation(request)

    def solve(objective: FloatArray, allow_shortfall: bool, *extra: LinearConstraint) -> OptimizeResult:
        remaining_s = max(time_limit_s - (time.perf_counter() - started), 1e-3)
        return milp(
            objective,
            integrality=formulation.integrality,
            bounds=formulation.bounds(allow_shortfall=allow_shortfall),
            constraints=[formulation.rows, *extra],
            options={"mip_rel_gap": 0.0, "time_limit": remaining_s},
        )

    goal = solve(formulation.cost_usd, False)
    if goal.x is not None:
        status = PlanStatus.OPTIMAL if goal.status == _OPTIMAL else PlanStatus.TIME_LIMITED
        return _plan(request, formulation, goal, status, started)
    if goal.status not in (_INFEASIBLE, _LIMIT_REACHED):
        raise PlannerFailed(f"HiGHS failed on the goal problem: {goal.message}")

    least_shortfall = solve(formulation.shortfall, True)
    if least_shortfall.x is None:
        raise PlannerFailed(f"HiGHS found no solution to the fallback problem: {least_shortfall.message}")
    shortfall = float(formulation.shortfall @ least_shortfall.x)
    cap = LinearConstraint(formulation.shortfall, -np.inf, shortfall + INSIDE_SLACK * max(1.0, shortfall))
    cheapest = solve(formulation.cost_usd, True, cap)
    if shortfall > INSIDE_SLACK:
        status = PlanStatus.GOAL_UNREACHABLE
    elif goal.status == _INFEASIBLE and cheapest.status == _OPTIMAL:  # infeasible only within HiGHS' tolerances
        status = PlanStatus.OPTIMAL
    else:
        status = PlanStatus.TIME_LIMITED
    return _plan(request, formulation, least_shortfall if cheapest.x is None else cheapest, status, started)


def _plan(
    request: PlanRequest, formulation: Formulation, result: OptimizeResult, status: PlanStatus, started: float
) -> Plan:
    return build_plan(request, result.x[formulation.lots_index], status, time.perf_counter() - started)
