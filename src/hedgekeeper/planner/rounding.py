"""Round the linear relaxation to whole lots: a fast plan, with a bound on what it overpays.

The relaxation of the program (``formulation.py`` with the lots continuous) is a
linear program HiGHS solves in a few milliseconds, and its cost ``L`` is a lower
bound on the least cost of any plan. At a vertex of the relaxation, few candidates
trade a fraction of a lot (about one per binding Greek or margin row: the impact
segments lie on the lot grid, so the others sit on whole lots). Rounding each of
them down or up, every combination tried, gives whole-lot plans; the cheapest one
that reaches the goal within the limits, at cost ``U``, overpays by at most
``U - L``. When that is within the accepted gap, branch and bound is not needed.

Rounding a coarse candidate (an option, 0.05 BTC of delta a lot) moves the Greeks
by more than the fine ones (a perpetual, 1e-4 BTC) held at their relaxed values can
make up for. ``repair_rounding`` therefore fixes the fractional candidates at each
of their roundings in turn, solves the relaxation of the others again, and rounds
that: a few more linear programs, still far cheaper than branch and bound.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hedgekeeper.planner.request import PlanRequest

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

#: Lots within this distance of a whole number are whole (HiGHS' integrality tolerance is 1e-6).
WHOLE_LOT_SLACK = 1e-6

#: Relaxations with more fractional candidates than this are not rounded (2^10 roundings).
MAX_FRACTIONAL = 10

#: Relaxations with more fractional candidates than this are not repaired (2^2 new relaxations).
MAX_REPAIRED = 2


@dataclass(frozen=True)
class Assessment:
    """What each of several lot vectors does: admissible, its shortfall, its cost.

    Attributes
    ----------
    admissible : within the position limits, the minimum sizes and the margin
        (``PlanRequest.margin_exceeded``)
    shortfall : sum over the constrained Greeks of ``|excess| / scale`` (0 reaches the goal)
    cost_usd : expected cost of the trades, USD
    """

    admissible: BoolArray
    shortfall: FloatArray
    cost_usd: FloatArray


def assess_lots(request: PlanRequest, lots: FloatArray) -> Assessment:
    """Return the assessment of each row of ``lots`` (lot vectors, a column per candidate)."""
    lots = np.atleast_2d(np.asarray(lots, dtype=np.float64))
    contracts = lots * np.array([candidate.lot_size for candidate in request.candidates])
    admissible = np.ones(len(lots), dtype=bool)
    cost_usd = np.zeros(len(lots))
    margin_change_usd = np.zeros(len(lots))
    for column, candidate in enumerate(request.candidates):
        lowest, highest = candidate.lot_range
        count = lots[:, column]
        admissible &= (count >= lowest) & (count <= highest)
        admissible &= (count == 0) | (np.abs(count) >= candidate.min_lots)
        fees_usd, impact_usd = candidate.trade_cost_usd(contracts[:, column])
        cost_usd += fees_usd + impact_usd
        after_usd = candidate.initial_margin_usd(candidate.position + contracts[:, column])
        margin_change_usd += after_usd - candidate.initial_margin_usd(candidate.position)
    admissible &= ~request.margin_exceeded(margin_change_usd)
    shortfall = np.zeros(len(lots))
    for greek in request.constrained_greeks:
        values = request.greeks[greek] + contracts @ request.sensitivity_matrix([greek])[0]
        shortfall += np.abs(request.excess(greek, values)) / request.scale[greek]
    return Assessment(admissible, shortfall, cost_usd)


@dataclass(frozen=True)
class Rounding:
    """A whole-lot plan found from a relaxation: its lots, shortfall and cost.

    Attributes
    ----------
    lots : the rounded lot vector
    shortfall : its shortfall (0 reaches the goal), in scales
    cost_usd : its expected cost, USD
    """

    lots: FloatArray
    shortfall: float
    cost_usd: float


def round_relaxation(request: PlanRequest, relaxed_lots: FloatArray) -> Rounding | None:
    """Return the best admissible rounding of ``relaxed_lots``: least shortfall, then cost.

    Every candidate with a fractional number of lots is rounded down and up, in all
    combinations, the others kept; a rounding must respect the limits, minimum sizes
    and margin. None when no rounding does, or more than ``MAX_FRACTIONAL`` are
    fractional.

    Examples
    --------
    >>> from hedgekeeper.planner.candidates import Candidate
    >>> from hedgekeeper.policy.decision import Greek
    >>> perpetual = Candidate(instrument_id="BTC-PERPETUAL.DERIBIT",
    ...     sensitivities={Greek.DELTA_COIN: 1e-4}, price_usd=10.0, cost_fraction=0.0005,
    ...     lot_size=1.0)
    >>> request = PlanRequest(greeks={Greek.DELTA_COIN: 3.40005},
    ...     goal={Greek.DELTA_COIN: (-2.5, 2.5)}, candidates=[perpetual])
    >>> rounding = round_relaxation(request, np.array([-9000.5]))
    >>> rounding.lots, rounding.shortfall, round(rounding.cost_usd, 6)
    (array([-9001.]), 0.0, 45.005)
    """
    relaxed = np.asarray(relaxed_lots, dtype=np.float64)
    fractional = _fractional(relaxed)
    if fractional.size > MAX_FRACTIONAL:
        return None
    roundings = np.tile(np.rint(relaxed), (2**fractional.size, 1))
    roundings[:, fractional] = np.floor(relaxed[fractional]) + _up_or_down(fractional.size)
    assessment = assess_lots(request, roundings)
    admissible = np.flatnonzero(assessment.admissible)
    if admissible.size == 0:
        return None
    order = np.lexsort((assessment.cost_usd[admissible], assessment.shortfall[admissible]))
    best = admissible[order[0]]
    return Rounding(
        roundings[best], float(assessment.shortfall[best]), float(assessment.cost_usd[best])
    )


def repair_rounding(
    request: PlanRequest,
    relaxed_lots: FloatArray,
    relax_with_fixed: Callable[[NDArray[np.int64], FloatArray], FloatArray | None],
) -> Rounding | None:
    """Return the cheapest repaired rounding of ``relaxed_lots`` that reaches the goal, or None.

    For each rounding of the fractional candidates (at most ``MAX_REPAIRED`` of
    them), ``relax_with_fixed(indices, lots)`` solves the relaxation with those
    candidates fixed there (None if infeasible), and that relaxation is rounded.
    """
    relaxed = np.asarray(relaxed_lots, dtype=np.float64)
    fractional = _fractional(relaxed)
    if fractional.size == 0 or fractional.size > MAX_REPAIRED:
        return None
    best = None
    for fixed_lots in np.floor(relaxed[fractional]) + _up_or_down(fractional.size):
        relaxed_again = relax_with_fixed(fractional, fixed_lots)
        if relaxed_again is None:
            continue
        rounding = round_relaxation(request, relaxed_again)
        if rounding is None or rounding.shortfall != 0.0:
            continue
        if best is None or rounding.cost_usd < best.cost_usd:
            best = rounding
    return best


def _fractional(relaxed: FloatArray) -> NDArray[np.int64]:
    return np.flatnonzero(np.abs(relaxed - np.rint(relaxed)) > WHOLE_LOT_SLACK)


def _up_or_down(count: int) -> FloatArray:
    """Return the 2^count rows of 0 (round down) and 1 (round up) for ``count`` candidates."""
    return np.array(list(itertools.product((0.0, 1.0), repeat=count))).reshape(2**count, count)
