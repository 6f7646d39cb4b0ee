"""What the planner is asked: the Greeks now, the goal, the candidates and the margin.

The goal is an interval per Greek (``Decision.goal``): the band itself to hedge to
its nearest edge, or ``(target, target)`` to hedge to the target. Trades come in
lots, so a degenerate interval is rarely reachable exactly; each interval is
therefore widened to the *effective goal*::

    [lower - e_g, upper + e_g],   e_g = tolerance[g]                      if given
                                  e_g = max(0, (step_g - (upper - lower)) / 2)   otherwise

where ``step_g`` is the smallest change one lot of any tradable candidate makes to
Greek ``g`` (changes below ``MATERIAL_STEP`` of the largest one, numerical noise such
as a perpetual's 1e-15 of gamma, are left out). Left to its default, the widening
only makes an interval at least one lot step wide (a target becomes
``target ± step_g / 2``) and leaves a wider band as it is, so that a hedge to a band
edge ends inside the band, not half a lot outside.

Each Greek also has a *scale*, the unit its shortfall is measured in: ``step_g`` if
positive, else the effective interval's width if finite and positive, else 1 (in
the Greek's unit). When the goal cannot be reached, the planner minimises the sum
of the Greeks' shortfalls in these units: how many of the finest lots each Greek
stays away from its goal. A shortfall below ``INSIDE_SLACK`` scales (a millionth of
a lot) is floating-point round-off and counts as inside.

The margin has a scale of its own, ``margin_scale_usd``: the smallest non-zero
change of initial margin by one lot of a tradable candidate (``M⁺_i L_i`` or
``M⁻_i L_i``), but at least ``MATERIAL_STEP`` of the largest (so that no margin
coefficient of the program exceeds 1e6, ``formulation.py``), else 1 USD. A rise
of the initial margin beyond ``margin_available_usd`` by less than
``INSIDE_SLACK`` of this scale is round-off and counts as within it: a millionth
of a lot's margin, however small the rates are in USD.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hedgekeeper.planner.candidates import Candidate
from hedgekeeper.planner.errors import MalformedPlanRequest
from hedgekeeper.planner.validation import as_greek, require_number
from hedgekeeper.policy.decision import Decision, Greek, RiskSnapshot

FloatArray = NDArray[np.float64]

#: Shortfalls smaller than this many scales (module docstring) are round-off: inside.
INSIDE_SLACK = 1e-6

#: One lot's change of a Greek counts toward its step if at least this fraction of the largest.
MATERIAL_STEP = 1e-6


@dataclass(frozen=True, kw_only=True)
class PlanRequest:
    """The Greeks now, the goal intervals, the candidates, the margin available.

    Parameters
    ----------
    greeks : mapping from Greek to its current value, in its unit; every Greek of
        the goal must be here, others are reported but not constrained
    goal : mapping from Greek to the ``(lower, upper)`` interval to bring it into
        (infinite edges allowed: one-sided goals)
    candidates : sequence of Candidate, ids unique
    margin_available_usd : float, >= 0 or inf: how much the trades may raise the
        initial margin, USD (a negative balance counts as 0: the planner never
        has to trade to free margin)
    tolerance : mapping from Greek to the widening of its interval on each side,
        in its unit, >= 0; a Greek left out gets the default (module docstring)

    Raises
    ------
    MalformedPlanRequest
        Naming the field: NaN, an unknown Greek, ``lower > upper``, a goal Greek
        without a current value, a duplicated candidate id.

    Examples
    --------
    >>> perpetual = Candidate(instrument_id="BTC-PERPETUAL.DERIBIT",
    ...     sensitivities={Greek.DELTA_COIN: 1e-4}, price_usd=10.0, cost_fraction=0.0005,
    ...     lot_size=1.0)
    >>> request = PlanRequest(greeks={Greek.DELTA_COIN: 3.4},
    ...     goal={Greek.DELTA_COIN: (0.0, 0.0)}, candidates=[perpetual])
    >>> request.effective_goal
    {<Greek.DELTA_COIN: 'delta_coin'>: (-5e-05, 5e-05)}
    """

    greeks: Mapping[Greek, float]
    goal: Mapping[Greek, tuple[float, float]]
    candidates: Sequence[Candidate]
    margin_available_usd: float = math.inf
    tolerance: Mapping[Greek, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = "plan request"
        for name in ("greeks", "goal", "tolerance"):
            if not isinstance(getattr(self, name), Mapping):
                raise MalformedPlanRequest(f"{where}: {name} must be a mapping keyed by Greek")
        greeks = {
            as_greek(greek, f"{where} greeks"): require_number(value, f"{where}: current {greek}")
            for greek, value in self.greeks.items()
        }
        goal = {
            as_greek(greek, f"{where} goal"): _interval(edges, f"{where}: goal of {greek}")
            for greek, edges in self.goal.items()
        }
        missing = ", ".join(greek.value for greek in goal if greek not in greeks)
        if missing:
            raise MalformedPlanRequest(
                f"{where}: the goal constrains {missing} but greeks has no value"
            )
        tolerance = {
            as_greek(greek, f"{where} tolerance"): require_number(
                value, f"{where}: tolerance of {greek}", minimum=0.0
            )
            for greek, value in self.tolerance.items()
        }
        candidates = tuple(self.candidates)
        for candidate in candidates:
            if not isinstance(candidate, Candidate):
                raise MalformedPlanRequest(
                    f"{where}: candidates must be Candidate, got {candidate!r}"
                )
        ids = [candidate.instrument_id for candidate in candidates]
        duplicated = sorted({i for i in ids if ids.count(i) > 1})
        if duplicated:
            raise MalformedPlanRequest(f"{where}: candidate {duplicated[0]!r} is listed twice")
        margin = require_number(
            self.margin_available_usd, f"{where}: margin_available_usd", allow_infinite=True
        )
        if margin == -math.inf:
            raise MalformedPlanRequest(f"{where}: margin_available_usd must not be -inf")
        checked = {"greeks": greeks, "goal": goal, "tolerance": tolerance, "candidates": candidates,
                   "margin_available_usd": margin}
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    @classmethod
    def from_decision(
        cls,
        decision: Decision,
        risk: RiskSnapshot,
        candidates: Sequence[Candidate],
        *,
        margin_available_usd: float = math.inf,
        tolerance: Mapping[Greek, float] | None = None,
    ) -> PlanRequest:
        """Return the request that brings ``risk`` into ``decision.goal``.

        Raises
        ------
        MalformedPlanRequest
            If the decision and the risk are of different underlyings.
        """
        if decision.underlying != risk.underlying:
            raise MalformedPlanRequest(
                f"plan request: the decision is for {decision.underlying},"
                f" the risk for {risk.underlying}"
            )
        return cls(
            greeks={greek: risk.value(greek) for greek in Greek},
            goal=decision.goal,
            candidates=candidates,
            margin_available_usd=margin_available_usd,
            tolerance={} if tolerance is None else tolerance,
        )

    @property
    def constrained_greeks(self) -> tuple[Greek, ...]:
        """Return the Greeks of the goal, in the order of ``Greek``."""
        return tuple(greek for greek in Greek if greek in self.goal)

    def sensitivity_matrix(self, greeks: Sequence[Greek]) -> FloatArray:
        """Return the change of each of ``greeks`` (rows) per contract of each candidate."""
        return np.array(
            [[candidate.sensitivity(greek) for candidate in self.candidates] for greek in greeks],
            dtype=np.float64,
        ).reshape(len(greeks), len(self.candidates))

    def lot_step(self, greek: Greek) -> float:
        """Return the smallest material change of ``greek`` by one lot of a tradable candidate.

        0 if no tradable candidate moves ``greek``.
        """
        steps = [
            abs(candidate.sensitivity(greek)) * candidate.lot_size
            for candidate in self.candidates
            if candidate.lot_range != (0, 0)
        ]
        floor = MATERIAL_STEP * max(steps, default=0.0)
        return min((step for step in steps if step >= floor and step > 0), default=0.0)

    @cached_property
    def margin_scale_usd(self) -> float:
        """Return the smallest change of initial margin by one lot, USD (module docstring).

        Over the tradable candidates, long and short, at least ``MATERIAL_STEP`` of
        the largest; 1 USD if no tradable candidate is charged margin.
        """
        steps = [
            rate * candidate.lot_size
            for candidate in self.candidates
            if candidate.lot_range != (0, 0)
            for rate in (candidate.initial_margin_long_usd, candidate.initial_margin_short_usd)
        ]
        steps = [step for step in steps if step > 0]  # a rate of 5e-324 a lot of 0.1 is 0
        if not steps:
            return 1.0
        return max(min(steps), MATERIAL_STEP * max(steps))

    def margin_exceeded(self, change_usd: ArrayLike) -> NDArray[np.bool_]:
        """Return whether raising the initial margin by ``change_usd`` exceeds what is available.

        An excess below ``INSIDE_SLACK`` of ``margin_scale_usd`` is round-off and
        does not count; a negative balance counts as 0; broadcasts over ``change_usd``.
        """
        changes = np.asarray(change_usd, dtype=np.float64)
        available_usd = max(self.margin_available_usd, 0.0)
        return changes - available_usd > INSIDE_SLACK * self.margin_scale_usd

    @cached_property
    def effective_goal(self) -> dict[Greek, tuple[float, float]]:
        """Return each constrained Greek's interval widened by its tolerance (module docstring)."""
        goal = {}
        for greek in self.constrained_greeks:
            lower, upper = self.goal[greek]
            widening = self.tolerance.get(greek)
            if widening is None:
                widening = max(0.0, (self.lot_step(greek) - (upper - lower)) / 2.0)
            goal[greek] = (lower - widening, upper + widening)
        return goal

    @cached_property
    def scale(self) -> dict[Greek, float]:
        """Return each constrained Greek's unit of shortfall (module docstring), in its unit."""
        scales = {}
        for greek, (lower, upper) in self.effective_goal.items():
            width = upper - lower
            step = self.lot_step(greek)
            if step > 0:
                scales[greek] = step
            else:
                scales[greek] = width if math.isfinite(width) and width > 0 else 1.0
        return scales

    def excess(self, greek: Greek, value: ArrayLike) -> FloatArray:
        """Return how far ``value`` of ``greek`` lies outside its effective goal (> 0 above).

        Excesses within ``INSIDE_SLACK`` of the Greek's scale count as 0; broadcasts
        over ``value``.
        """
        lower, upper = self.effective_goal[greek]
        values = np.asarray(value, dtype=np.float64)
        excess = np.where(values > upper, values - upper, 0.0) + np.where(
            values < lower, values - lower, 0.0
        )
        return np.where(np.abs(excess) <= INSIDE_SLACK * self.scale[greek], 0.0, excess)


def _interval(edges: object, where: str) -> tuple[float, float]:
    if not isinstance(edges, Sequence) or len(edges) != 2:
        raise MalformedPlanRequest(f"{where} must be a (lower, upper) pair, got {edges!r}")
    lower, upper = (require_number(edge, where, allow_infinite=True) for edge in edges)
    if not lower <= upper:
        raise MalformedPlanRequest(f"{where}: lower {lower} is above upper {upper}")
    if lower == math.inf or upper == -math.inf:
        raise MalformedPlanRequest(f"{where}: ({lower}, {upper}) contains no number")
    return lower, upper
