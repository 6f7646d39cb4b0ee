"""What the planner answers: the trades, their expected cost, and where they leave the Greeks.

A plan is evaluated from its lot counts alone, with the candidates' own cost,
margin and sensitivity formulas, so that what it reports does not depend on how
the solver got there.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike

from hedgekeeper.planner.request import PlanRequest
from hedgekeeper.policy.decision import Greek


class PlanStatus(StrEnum):
    """How the plan was reached."""

    INSIDE_GOAL = "inside_goal"  # every Greek already inside its goal: nothing to trade
    OPTIMAL = "optimal"  # the goal is reached at the least cost, within the accepted gap
    TIME_LIMITED = "time_limited"  # the goal is reached; the time limit cut the proof of least cost
    GOAL_UNREACHABLE = "goal_unreachable"  # no trades reach the goal: least shortfall, then cost


@dataclass(frozen=True)
class Trade:
    """One order to send: a whole number of lots of one candidate.

    Attributes
    ----------
    instrument_id : str
    lots : int, signed, > 0 buys
    contracts : float, ``lots * lot_size``, signed
    fees_and_spread_usd : float, expected fee plus half-spread, USD
    impact_usd : float, expected market impact, USD
    """

    instrument_id: str
    lots: int
    contracts: float
    fees_and_spread_usd: float
    impact_usd: float

    @property
    def cost_usd(self) -> float:
        """Return the expected cost of the trade, USD."""
        return self.fees_and_spread_usd + self.impact_usd


@dataclass(frozen=True)
class Plan:
    """The trades that bring the Greeks into the goal at least expected cost.

    Attributes
    ----------
    status : PlanStatus
    trades : tuple of Trade, non-zero trades only, in the order of the candidates
    resulting_greeks : mapping from each Greek of the request to its value after the trades
    effective_goal : the intervals the plan aimed at (the goal widened by the tolerance)
    violations : mapping from each Greek left outside its effective goal to how
        far, signed (> 0 above the upper edge), in its unit; empty when the goal is reached
    initial_margin_change_usd : float, initial margin after the trades minus before, USD
    cost_lower_bound_usd : float, a proven lower bound on the least cost of reaching the
        goal (of reaching the least shortfall when the goal is unreachable), USD:
        ``cost_usd - cost_lower_bound_usd`` is the most the plan may overpay
    solve_time_s : float, seconds from the request to the plan
    message : str, the status in words, with each violation and its numbers
    """

    status: PlanStatus
    trades: tuple[Trade, ...]
    resulting_greeks: dict[Greek, float]
    effective_goal: dict[Greek, tuple[float, float]]
    violations: dict[Greek, float]
    initial_margin_change_usd: float
    cost_lower_bound_usd: float
    solve_time_s: float
    message: str

    @property
    def fees_and_spread_usd(self) -> float:
        """Return the expected fees and half-spreads of all trades, USD."""
        return sum(trade.fees_and_spread_usd for trade in self.trades)

    @property
    def impact_usd(self) -> float:
        """Return the expected market impact of all trades, USD."""
        return sum(trade.impact_usd for trade in self.trades)

    @property
    def cost_usd(self) -> float:
        """Return the expected cost of all trades, USD."""
        return self.fees_and_spread_usd + self.impact_usd

    @property
    def reaches_goal(self) -> bool:
        """Return whether every constrained Greek ends inside its effective goal."""
        return not self.violations


_STATUS_WORDS = {
    PlanStatus.INSIDE_GOAL: "already inside the goal",
    PlanStatus.OPTIMAL: "goal reached at least cost (within the accepted gap)",
    PlanStatus.TIME_LIMITED: "goal reached (time limit hit before least cost was proven)",
    PlanStatus.GOAL_UNREACHABLE: "goal unreachable within the limits (least shortfall, then cost)",
}


def build_plan(
    request: PlanRequest,
    lots: ArrayLike,
    status: PlanStatus,
    cost_lower_bound_usd: float,
    solve_time_s: float,
) -> Plan:
    """Return the plan of trading ``lots`` (one signed integer per candidate) for ``request``.

    Examples
    --------
    >>> from hedgekeeper.planner.candidates import Candidate
    >>> perpetual = Candidate(instrument_id="BTC-PERPETUAL.DERIBIT",
    ...     sensitivities={Greek.DELTA_COIN: 1e-4}, price_usd=10.0, cost_fraction=0.0005,
    ...     lot_size=1.0)
    >>> request = PlanRequest(greeks={Greek.DELTA_COIN: 3.4},
    ...     goal={Greek.DELTA_COIN: (-2.5, 2.5)}, candidates=[perpetual])
    >>> plan = build_plan(request, [-8000], PlanStatus.GOAL_UNREACHABLE, 40.0, 0.0)
    >>> plan.cost_usd, round(plan.violations[Greek.DELTA_COIN], 12)
    (40.0, 0.1)
    >>> plan.message.split("; ")[1]
    'delta_coin 2.6 above goal upper 2.5 by 0.1'
    """
    lot_counts = np.rint(np.asarray(lots, dtype=np.float64)).astype(np.int64)
    # Lots times the lot size in decimal: 3 lots of 0.1 are 0.3 contracts, not 0.30000000000000004.
    contracts = np.array([
        float(Decimal(repr(candidate.lot_size)) * int(count))
        for candidate, count in zip(request.candidates, lot_counts, strict=True)
    ])
    greeks = tuple(request.greeks)
    current = np.array([request.greeks[greek] for greek in greeks])
    resulting = current + request.sensitivity_matrix(greeks) @ contracts
    resulting_greeks = dict(zip(greeks, resulting.tolist(), strict=True))

    trades = []
    margin_change_usd = 0.0
    for candidate, count, size in zip(request.candidates, lot_counts, contracts, strict=True):
        if count == 0:
            continue
        fees_usd, impact_usd = candidate.trade_cost_usd(size)
        trades.append(Trade(
            candidate.instrument_id, int(count), float(size), float(fees_usd), float(impact_usd)
        ))
        held = candidate.position
        before_usd, after_usd = candidate.initial_margin_usd([held, held + size])
        margin_change_usd += float(after_usd - before_usd)

    violations = {}
    words = [_STATUS_WORDS[status]]
    for greek, (lower, upper) in request.effective_goal.items():
        excess = float(request.excess(greek, resulting_greeks[greek]))
        if excess != 0.0:
            violations[greek] = excess
            edge, side = (upper, "above goal upper") if excess > 0 else (lower, "below goal lower")
            value = resulting_greeks[greek]
            words.append(f"{greek.value} {value:.6g} {side} {edge:.6g} by {abs(excess):.6g}")
    return Plan(
        status=status,
        trades=tuple(trades),
        resulting_greeks=resulting_greeks,
        effective_goal=dict(request.effective_goal),
        violations=violations,
        initial_margin_change_usd=margin_change_usd,
        cost_lower_bound_usd=cost_lower_bound_usd,
        solve_time_s=solve_time_s,
        message="; ".join(words),
    )
