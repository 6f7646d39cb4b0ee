"""The least-cost hedge as a mixed-integer linear program, for HiGHS (``scipy.optimize.milp``).

Data, for candidate ``i`` (``candidates.py``) and constrained Greek ``g``
(``request.py``): lot size ``L_i``, position ``p_i``, price ``P_i`` (USD per
contract), proportional cost ``c_i`` (per USD traded), impact segments ``k`` of
widths ``w_ik`` (the last unbounded) and marginal costs ``m_ik`` (USD per contract,
non-decreasing in ``k``), sensitivity ``a_ig`` (Greek unit per contract), initial
margin rates ``M⁺_i``, ``M⁻_i`` (USD per contract held long, short), lot range
``[nlo_i, nhi_i]`` and minimum trade ``q_i = L_i * min_lots_i``; current value
``G_g``, effective goal ``[l_g, u_g]``, scale ``S_g``; margin available ``A``,
margin scale ``S_M`` (USD, ``request.py``).

Variables::

    n_i integer in [nlo_i, nhi_i]  lots traded, signed: the trade is x_i = L_i n_i contracts
    b_ik, s_ik in [0, w_ik]        contracts bought, sold on impact segment k
    t_i >= 0                       initial margin after the trade, in units of S_M
                                                                         (margin rows only)
    y⁺_i, y⁻_i in {0, 1}           buy, sell switches                   (min_lots_i > 1 only)
    v⁻_g, v⁺_g >= 0                shortfall below l_g, excess above u_g, in units of S_g

Cost objective (USD)::

    minimise  sum_i sum_k (c_i P_i + m_ik) (b_ik + s_ik)

Rows::

    sum_k b_ik - sum_k s_ik - L_i n_i = 0                           net trade, each i
    (l_g - G_g) / S_g <= sum_i a_ig L_i n_i / S_g + v⁻_g - v⁺_g
                      <= (u_g - G_g) / S_g                          Greek g, each g
    t_i >= M⁺_i (p_i + L_i n_i) / S_M,  t_i >= -M⁻_i (p_i + L_i n_i) / S_M
                                                                    margin epigraph
    sum_i t_i <= (max(A, 0) + sum_i IM_i(p_i)) / S_M                margin, if A < inf
                                                          (sums over i that can trade)
    q_i y⁺_i <= sum_k b_ik <= L_i nhi_i y⁺_i                        minimum size:
    q_i y⁻_i <= sum_k s_ik <= -L_i nlo_i y⁻_i                         one side at a time,
    y⁺_i + y⁻_i <= 1                                                  at least q_i

Why it is exact. The marginal costs rise along the segments, so a cheaper segment
is always filled before a dearer one and ``sum_k m_ik b_ik`` is the impact curve at
``|x_i|``; buying and selling the same candidate at once only adds cost, so
``sum_k (b_ik + s_ik) = |x_i|`` at the optimum (with the switches it holds
everywhere). The initial margin ``IM_i(p) = M⁺_i max(p, 0) + M⁻_i max(-p, 0)`` is
convex, so its epigraph ``S_M t_i`` is exact under an upper bound. The switches make
a non-zero trade at least ``q_i`` and need a finite lot range (big-M).

Two objectives share these rows. The goal problem fixes ``v = 0`` and minimises
the cost. When it is infeasible (no instrument moves gamma, a limit binds, a target
no lattice of lots reaches), the fallback is lexicographic: first minimise
``sum_g (v⁻_g + v⁺_g)``, the shortfall in scales; then, with that sum capped at its
minimum, minimise the cost. Trading nothing satisfies every row but the Greeks'
(a position beyond its limit may stay, a negative margin balance counts as 0), so
the fallback always has a solution.

The impact segments are put on the lot grid first: a breakpoint between two lot
multiples is replaced by both, with the chord between them. The curve stays convex
and unchanged at every whole number of lots (the only sizes a plan trades), and
the linear relaxation gets tighter: at its vertices, only candidates that fill a
binding Greek or margin row trade a fraction of a lot (``rounding.py``).

The Greek rows are divided by ``S_g``, the finest lot step of Greek ``g``, and the
margin rows by ``S_M``, the finest lot's margin (each at least ``MATERIAL_STEP`` of
the largest), so that a material lot's coefficient lies between 1 and 1e6 and rows
in different units (coin, USD per 1%, USD per vol point, decimal, USD) are of
comparable size. HiGHS treats a coefficient of at most 1e-9 as 0 and meets a row
within 1e-7 (1e-6 in branch and bound): a billionth and a millionth of a scale, no
more than the ``INSIDE_SLACK`` a plan is checked against. (Lots within 1e-6 of
whole can still be a scale off once rounded; ``solve.py`` checks them.) Left in
USD, margin rates of 1e-10 USD per contract would drop out of the rows, and HiGHS
would take a trade that raises the margin beyond ``A`` for one that does not. A
candidate that cannot trade keeps its lots at 0 and stays out of the Greek and
margin rows (its margin does not change, whatever its rates against ``S_M``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint
from scipy.sparse import coo_array

from hedgekeeper.planner.candidates import Candidate
from hedgekeeper.planner.request import PlanRequest

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

# A breakpoint within this many lots of a lot multiple is on the grid.
_ON_GRID = 1e-9


@dataclass(frozen=True)
class Formulation:
    """The rows and bounds of a request's program, and its two objectives.

    Attributes
    ----------
    cost_usd : objective coefficient of each variable, USD per unit
    shortfall : objective coefficient of each variable in the fallback: 1 on the
        ``v`` variables, 0 elsewhere
    integrality : 1 for integer variables (lots, switches), 0 for continuous ones
    lower, upper : bounds of each variable, the ``v`` upper bounds infinite
    rows : the linear rows
    lots_index : column of each candidate's ``n_i``
    """

    cost_usd: FloatArray
    shortfall: FloatArray
    integrality: IntArray
    lower: FloatArray
    upper: FloatArray
    rows: LinearConstraint
    lots_index: IntArray

    def bounds(self, *, allow_shortfall: bool) -> Bounds:
        """Return copies of the variables' bounds, ``v`` fixed at 0 unless ``allow_shortfall``."""
        upper = self.upper.copy()
        if not allow_shortfall:
            upper[self.shortfall > 0] = 0.0
        return Bounds(self.lower.copy(), upper)


class _Builder:
    """Columns and sparse rows, appended one at a time."""

    def __init__(self) -> None:
        self.cost: list[float] = []
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.integer: list[int] = []
        self.entries: list[tuple[int, int, float]] = []
        self.row_lower: list[float] = []
        self.row_upper: list[float] = []

    def column(
        self, lower: float, upper: float, *, cost: float = 0.0, integer: bool = False
    ) -> int:
        self.cost.append(cost)
        self.lower.append(lower)
        self.upper.append(upper)
        self.integer.append(int(integer))
        return len(self.cost) - 1

    def row(self, coefficients: dict[int, float], lower: float, upper: float) -> None:
        index = len(self.row_lower)
        self.entries.extend(
            (index, column, value) for column, value in coefficients.items() if value != 0.0
        )
        self.row_lower.append(lower)
        self.row_upper.append(upper)

    def matrix(self) -> coo_array:
        rows, columns, values = zip(*self.entries, strict=True) if self.entries else ((), (), ())
        return coo_array((values, (rows, columns)), shape=(len(self.row_lower), len(self.cost)))


def lot_grid_segments(candidate: Candidate) -> list[tuple[float, float]]:
    """Return (width in contracts, marginal cost USD per contract) of the impact on the lot grid.

    Each breakpoint between two lot multiples is replaced by those two multiples,
    and the curve by its chords between them: still convex, equal to the curve at
    every whole number of lots, and with every segment a whole number of lots wide.
    """
    impact, lot = candidate.impact, candidate.lot_size
    tail = (math.inf, impact.marginal_cost_usd[-1])
    if not impact.breakpoints_contracts:
        return [tail]
    in_lots = np.asarray(impact.breakpoints_contracts) / lot
    grid = np.unique(np.concatenate((np.floor(in_lots + _ON_GRID), np.ceil(in_lots - _ON_GRID))))
    grid = grid[grid > 0] if grid.max() > 0 else np.array([1.0])  # breakpoints all below a lot
    points = np.concatenate(([0.0], grid * lot))
    chords = np.diff(impact.cost_usd(points)) / np.diff(points)
    return [*zip(np.diff(points).tolist(), chords.tolist(), strict=True), tail]


def build_formulation(request: PlanRequest) -> Formulation:
    """Return the mixed-integer program of ``request`` (module docstring).

    Examples
    --------
    >>> from hedgekeeper.planner.candidates import Candidate
    >>> from hedgekeeper.policy.decision import Greek
    >>> perpetual = Candidate(instrument_id="BTC-PERPETUAL.DERIBIT",
    ...     sensitivities={Greek.DELTA_COIN: 1e-4}, price_usd=10.0, cost_fraction=0.0005,
    ...     lot_size=1.0)
    >>> request = PlanRequest(greeks={Greek.DELTA_COIN: 3.4},
    ...     goal={Greek.DELTA_COIN: (-2.5, 2.5)}, candidates=[perpetual])
    >>> formulation = build_formulation(request)
    >>> formulation.cost_usd, formulation.rows.A.shape
    (array([0.   , 0.005, 0.005, 0.   , 0.   ]), (2, 5))
    """
    builder = _Builder()
    margin_limited = math.isfinite(request.margin_available_usd)
    margin_scale = request.margin_scale_usd
    lots_index, margin_terms = [], []
    for candidate in request.candidates:
        lowest, highest = candidate.lot_range
        lots = builder.column(lowest, highest, integer=True)
        lots_index.append(lots)
        proportional_usd = candidate.cost_fraction * candidate.price_usd
        segments = lot_grid_segments(candidate)

        def segment_columns() -> list[int]:
            return [builder.column(0.0, width, cost=proportional_usd + marginal)
                    for width, marginal in segments]

        bought, sold = segment_columns(), segment_columns()
        net_trade = {**dict.fromkeys(bought, 1.0), **dict.fromkeys(sold, -1.0)}
        builder.row({**net_trade, lots: -candidate.lot_size}, 0.0, 0.0)

        rates = (candidate.initial_margin_long_usd, candidate.initial_margin_short_usd)
        # The margin of a candidate that cannot trade stays as it is: no rows.
        if margin_limited and any(rates) and candidate.lot_range != (0, 0):
            held = builder.column(0.0, math.inf)
            long_rate, short_rate = rates
            for rate in (long_rate / margin_scale, -short_rate / margin_scale):
                # t_i >= rate * (p_i + L_i n_i), in margin scales
                builder.row({held: 1.0, lots: -rate * candidate.lot_size},
                            rate * candidate.position, math.inf)
            margin_terms.append((held, float(candidate.initial_margin_usd(candidate.position))))

        if candidate.min_lots > 1:
            smallest = candidate.min_lots * candidate.lot_size
            switches = []
            for side, largest in ((bought, highest), (sold, -lowest)):
                switch = builder.column(0.0, 1.0, integer=True)
                switches.append(switch)
                total = dict.fromkeys(side, 1.0)
                builder.row({**total, switch: -largest * candidate.lot_size}, -math.inf, 0.0)
                builder.row({**total, switch: -smallest}, 0.0, math.inf)
            builder.row(dict.fromkeys(switches, 1.0), -math.inf, 1.0)

    if margin_terms:
        held_now = sum(margin for _, margin in margin_terms)
        builder.row(
            dict.fromkeys((held for held, _ in margin_terms), 1.0),
            -math.inf,
            (max(request.margin_available_usd, 0.0) + held_now) / margin_scale,
        )

    greeks = request.constrained_greeks
    sensitivities = request.sensitivity_matrix(greeks)
    # The lots of a candidate that cannot trade are fixed at 0: leave out its coefficients.
    lot_sizes = np.array([0.0 if c.lot_range == (0, 0) else c.lot_size for c in request.candidates])
    shortfall_columns = []
    for row, greek in zip(sensitivities, greeks, strict=True):
        scale = request.scale[greek]
        lower, upper = request.effective_goal[greek]
        below = builder.column(0.0, math.inf)
        above = builder.column(0.0, math.inf)
        shortfall_columns += [below, above]
        coefficients = dict(zip(lots_index, row * lot_sizes / scale, strict=True))
        current = request.greeks[greek]
        builder.row({**coefficients, below: 1.0, above: -1.0},
                    (lower - current) / scale, (upper - current) / scale)

    shortfall = np.zeros(len(builder.cost))
    shortfall[shortfall_columns] = 1.0
    return Formulation(
        cost_usd=np.array(builder.cost),
        shortfall=shortfall,
        integrality=np.array(builder.integer, dtype=np.int64),
        lower=np.array(builder.lower),
        upper=np.array(builder.upper),
        rows=LinearConstraint(
            builder.matrix(), np.array(builder.row_lower), np.array(builder.row_upper)
        ),
        lots_index=np.array(lots_index, dtype=np.int64),
    )
