"""Round the linear relaxation to whole lots: the fast path to a plan, with a bound on its overpayment.

The relaxation of the program (``formulation.py`` with the lots continuous) is a
linear program HiGHS solves in a few milliseconds, and its cost ``L`` is a lower
bound on the least cost of any plan. At a vertex of the relaxation, few candidates
trade a fraction of a lot (about one per binding Greek or margin row: the impact
segments lie on the lot grid, so the others sit on whole lots). Rounding each of
them down or up, every combination tried, gives whole-lot plans; the cheapest one
that reaches the goal within the limits, at cost ``U``, overpays by at most
``U - L``. When that is within the accepted gap, branch and bound is not needed.

When it is not, ``solve.py`` dives: it fixes the rounded candidates at the rounding
that comes closest to the goal, solves the relaxation of the others again, and
rounds anew, a few times at most.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hedgekeeper.planner.request import INSIDE_SLACK, PlanRequest

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

#: Lots within this distance of a whole number are whole (HiGHS' integrality tolerance is 1e-6).
WHOLE_LOT_SLACK = 1e-6

#: Relaxations with more fractional candidates than this go to branch and bound (2^10 roundings).
MAX_FRACTIONAL = 10


@dataclass(frozen=True)
class Assessment:
    """What each of several lot vectors does: admissible, its shortfall, its cost.

    Attributes
    ----------
    admissible : within the position limits, the minimum sizes and the margin
    shortfall : sum over the constrained Greeks of ``|excess| / scale`` (0 reaches the goal)
    cost_usd : expected cost of the trades, USD
    """

    admissible: BoolArray
    shortfall: FloatArray
    cost_usd: FloatArray


def assess_lots(request: PlanRequest, lots: FloatArray) -> Assessment:
    """Return the assessment of each row of ``lots`` (lot vectors, one column per candidate)."""
    lots = np.atleast_2d(np.asarray(lots, dtype=np.float64))
    sizes = np.array([candidate.lot_size for candidate in request.candidates])
    contracts = lots * sizes
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
        after = candidate.position + contracts[:, column]
        margin_change_usd += candidate.initial_margin_usd(after) - candidate.initial_margin_usd(candidate.position)
    if math.isfinite(request.margin_available_usd):
        available_usd = max(request.margin_available_usd, 0.0)
        admissible &= margin_change_usd <= available_usd + INSIDE_SLACK * max(1.0, available_usd)
    shortfall = np.zeros(len(lots))
    for greek in request.constrained_greeks:
        values = request.greeks[greek] + contracts @ request.sensitivity_matrix([greek])[0]
        shortfall += np.abs(request.excess(greek, values)) / request.scale[greek]
    return Assessment(admissible, shortfall, cost_usd)


@dataclass(frozen=True)
class Rounding:
    """The best whole-lot rounding of a relaxation and which candidates it rounded.

    Attributes
    ----------
    lots : the rounded lot vector
    rounded : indices of the candidates whose relaxed lots were fractional
    shortfall : its shortfall (0 reaches the goal), in scales
    cost_usd : its expected cost, USD
    """

    lots: FloatArray
    rounded: NDArray[np.int64]
    shortfall: float
    cost_usd: float


def round_relaxation(request: PlanRequest, relaxed_lots: FloatArray) -> Rounding | None:
    """Return the best admissible whole-lot rounding of ``relaxed_lots``: least shortfall, then cost.

    Every candidate with a fractional number of lots is rounded down and up, in all
    combinations, the others kept; a rounding must respect the limits, minimum sizes
    and margin. None when no rounding does, or more than ``MAX_FRACTIONAL`` are
    fractional.

    Examples
    --------
    >>> from hedgekeeper.planner.candidates import Candidate
    >>> from hedgekeeper.policy.decision import Greek
    >>> perpetual = Candidate(instrument_id="BTC-PERPETUAL.DERIBIT",
    ...     sensitivities={Greek.DELTA_COIN: 1e-4}, price_usd=10.0, cost_fraction=0.0005, lot_size=1.0)
    >>> request = PlanRequest(greeks={Greek.DELTA_COIN: 3.40005}, goal={Greek.DELTA_COIN: (-2.5, 2.5)},
    ...     candidates=[perpetual])
    >>> rounding = round_relaxation(request, np.array([-9000.5]))
    >>> rounding.lots, rounding.shortfall, round(rounding.cost_usd, 6)
    (array([-9001.]), 0.0, 45.005)
    """
    relaxed = np.asarray(relaxed_lots, dtype=np.float64)
    nearest = np.rint(relaxed)
    fractional = np.flatnonzero(np.abs(relaxed - nearest) > WHOLE_LOT_SLACK)
    if fractional.size > MAX_FRACTIONAL:
        return None
    roundings = np.tile(nearest, (2 ** fractional.size, 1))
    floors = np.floor(relaxed[fractional])
    roundings[:, fractional] = floors + np.array(list(itertools.product((0.0, 1.0), repeat=fractional.size)))
    assessment = assess_lots(request, roundings)
    if not assessment.admissible.any():
        return None
    candidates = np.flatnonzero(assessment.admissible)
    best = candidates[np.lexsort((assessment.cost_usd[candidates], assessment.shortfall[candidates]))[0]]
    return Rounding(roundings[best], fractional, float(assessment.shortfall[best]), float(assessment.cost_usd[best]))
