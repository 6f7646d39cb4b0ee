"""From Greeks outside their goal to the trades that bring them in, at least expected cost.

Plain dataclasses in, plain dataclasses out; the planner knows nothing of the
engine, the venues or the clock.

- ``impact``: market impact as a convex piecewise-linear cost (book walk, square-root law).
- ``candidates``: ``Candidate``, an instrument as sensitivities, costs, lots, limits, margin.
- ``request``: ``PlanRequest``, the Greeks now, the goal and how it is widened to lots.
- ``formulation``: the mixed-integer linear program (its docstring states it in full).
- ``rounding``: whole-lot roundings of the linear relaxation, the fast path.
- ``solve``: ``plan_trades``, HiGHS through ``scipy.optimize.milp``, with the fallback.
- ``plan``: ``Plan`` and ``Trade``, the answer and its expected cost.
- ``validation``, ``errors``: the checks, ``MalformedPlanRequest`` and ``PlannerFailed``.

>>> from hedgekeeper.planner import Candidate, PlanRequest, plan_trades
>>> from hedgekeeper.policy.decision import Greek
>>> perpetual = Candidate(instrument_id="BTC-PERPETUAL.DERIBIT",
...     sensitivities={Greek.DELTA_COIN: 1e-4}, price_usd=10.0, cost_fraction=0.0005,
...     lot_size=1.0)
>>> plan = plan_trades(PlanRequest(greeks={Greek.DELTA_COIN: -3.0},
...     goal={Greek.DELTA_COIN: (-1.0, 1.0)}, candidates=[perpetual]))
>>> [(trade.instrument_id, trade.contracts) for trade in plan.trades], plan.cost_usd
([('BTC-PERPETUAL.DERIBIT', 20000.0)], 100.0)
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
