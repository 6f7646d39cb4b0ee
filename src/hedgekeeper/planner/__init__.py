"""From Greeks outside their goal to the trades that bring them in, at least expected cost.

Plain dataclasses in, plain dataclasses out; the planner knows nothing of the
engine, the venues or the clock.

- ``impact``: market impact as a convex piecewise-linear cost (book walk, square-root law).
- ``candidates``: ``Candidate``, an instrument as sensitivities, costs, lots, limits, margin.
- ``request``: ``PlanRequest``, the Greeks now, the goal and how it is widened to lots.
- ``formulation``: the mixed-integer linear program (its docstring states it in full).
- ``solve``: ``plan_trades``, HiGHS through ``scipy.optimize.milp``, with the fallback.
- ``plan``: ``Plan`` and ``Trade``, the answer and its expected cost.
- ``errors``: ``MalformedPlanRequest``, ``PlannerFailed``.
"""

from hedgekeeper.planner.candidates import Candidate
from hedgekeeper.planner.errors import MalformedPlanRequest, PlannerFailed
from hedgekeeper.planner.impact import ImpactCurve, square_root_impact
from hedgekeeper.planner.plan import Plan, PlanStatus, Trade
from hedgekeeper.planner.request import PlanRequest
from hedgekeeper.planner.solve import plan_trades

__all__ = [
    "Candidate",
    "ImpactCurve",
    "MalformedPlanRequest",
    "Plan",
    "PlanRequest",
    "PlanStatus",
    "PlannerFailed",
    "Trade",
    "plan_trades",
    "square_root_impact",
]
