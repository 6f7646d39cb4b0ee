"""Quiet regions: where a policy provably stays silent, so the engine may skip asking it.

Most ticks change nothing: the spot moves a few dollars, every measure stays inside
its band, and the policy says "no" without firing any rule. The engine reads risk
from a ladder (``engine/risk_cache.py``) that is piecewise polynomial in spot
between the nodes of a grid, so every measure a policy looks at can be bounded over
each cell of the grid. ``RiskCells`` carries those bounds; from them a policy states
its ``Quiet`` region: the cells in which no rule of it can fire, a time before which
none can, and the cost fractions for which this holds. The engine then skips the
policy for ticks inside the run of quiet cells around the spot, before the deadline
(``engine/loop.py``), and the decisions are exactly those of asking the policy at
every tick (``tests/engine/test_quiet_path.py`` compares the two).

Bounds are rigorous, not sampled: the cubic Hermite interpolants of delta and equity
lie in the convex hull of their Bernstein control points, linear interpolants
between their end values, and the measures derived from them (weight, USD delta,
leverage, gamma per 1%) follow by interval arithmetic. Every bound is widened by
far more than the rounding of the engine's own arithmetic (``RELATIVE_SLACK`` of the
magnitudes involved), so a cell is called quiet only when no tick in it can tip.

Shapes: every array has shape ``(n_cells,)``, cell ``i`` spanning
``[spot_low_usd[i], spot_high_usd[i]]``; an interval of arrays is a ``(low, high)``
pair. Units are those of ``RiskSnapshot`` and ``RiskProfile``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
Bounds = tuple[FloatArray, FloatArray]

FOREVER_NS = 2**63 - 1
"""A deadline that never comes, ns since the epoch."""

RELATIVE_SLACK = 1e-12
"""Bounds are widened by this fraction of the magnitudes summed to compute them."""


def _size(x: FloatArray) -> FloatArray:
    """Return ``|x|``, 0 where ``x`` is infinite (an infinite end needs no slack)."""
    return np.where(np.isfinite(x), np.abs(x), 0.0)


def widen(low: FloatArray, high: FloatArray, scale: FloatArray | None = None) -> Bounds:
    """Return ``[low, high]`` widened by ``RELATIVE_SLACK`` of ``scale`` (default: each end's own size)."""
    if scale is None:
        return low - RELATIVE_SLACK * _size(low), high + RELATIVE_SLACK * _size(high)
    slack = RELATIVE_SLACK * scale
    return low - slack, high + slack


def narrow(lower: FloatArray | float, upper: FloatArray | float) -> Bounds:
    """Return ``[lower, upper]`` narrowed by ``RELATIVE_SLACK`` of each end's size (infinite ends stay).

    For band edges computed here rather than read from the profile.

    >>> narrow(np.array([-np.inf, 1.0]), np.array([2.0, np.inf]))
    (array([-inf,   1.]), array([ 2., inf]))
    """
    lower, upper = np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)
    return lower + RELATIVE_SLACK * _size(lower), upper - RELATIVE_SLACK * _size(upper)


def hermite_bounds(y0: FloatArray, y1: FloatArray, slope0: FloatArray, slope1: FloatArray,
                   width: FloatArray) -> Bounds:
    """Return bounds of the cubic Hermite interpolant over each cell.

    On a cell of ``width`` with end values ``y0, y1`` and end slopes ``slope0,
    slope1``, the cubic's Bernstein control points are ``y0, y0 + width * slope0 / 3,
    y1 - width * slope1 / 3, y1``; the curve lies in their convex hull.

    >>> low, high = hermite_bounds(np.array([0.0]), np.array([1.0]), np.array([0.0]), np.array([0.0]),
    ...                            np.array([1.0]))
    >>> float(low[0]) <= 0.0 and 1.0 <= float(high[0]) < 1.0 + 1e-9
    True
    """
    inner0 = y0 + width * slope0 / 3.0
    inner1 = y1 - width * slope1 / 3.0
    points = np.stack([y0, inner0, inner1, y1])
    scale = np.abs(y0) + np.abs(y1) + width * (np.abs(slope0) + np.abs(slope1))
    return widen(points.min(axis=0), points.max(axis=0), scale)


def linear_bounds(v0: FloatArray, v1: FloatArray) -> Bounds:
    """Return bounds of the linear interpolant between ``v0`` and ``v1`` over each cell."""
    return widen(np.minimum(v0, v1), np.maximum(v0, v1), np.abs(v0) + np.abs(v1))


def interval_product(a: Bounds, b: Bounds) -> Bounds:
    """Return bounds of ``x * y`` for ``x`` in ``a`` and ``y`` in ``b``, elementwise.

    >>> low, high = interval_product((np.array([-1.0]), np.array([2.0])), (np.array([3.0]), np.array([4.0])))
    >>> float(low[0]) < -4.0 + 1e-9, float(high[0]) > 8.0 - 1e-9
    (True, True)
    """
    corners = np.stack([a[0] * b[0], a[0] * b[1], a[1] * b[0], a[1] * b[1]])
    return widen(corners.min(axis=0), corners.max(axis=0))


def interval_over_positive(a: Bounds, b: Bounds) -> Bounds:
    """Return bounds of ``x / y`` for ``x`` in ``a`` and ``y`` in ``b``; unbounded where ``b`` reaches 0 or below."""
    positive = b[0] > 0.0
    safe = (np.where(positive, b[0], 1.0), np.where(positive, b[1], 1.0))
    low, high = interval_product(a, (1.0 / safe[1], 1.0 / safe[0]))
    return np.where(positive, low, -np.inf), np.where(positive, high, np.inf)


def inside(bounds: Bounds, lower: float | FloatArray, upper: float | FloatArray) -> BoolArray:
    """Return, per cell, whether the whole interval ``bounds`` lies in ``[lower, upper]``."""
    low, high = bounds
    return (low >= lower) & (high <= upper)


@dataclass(frozen=True, slots=True)
class RiskCells:
    """Bounds of one underlying's risk over each cell of the engine's spot grid.

    Attributes
    ----------
    spot_low_usd, spot_high_usd : (n_cells,) arrays, each cell's spot range, USD per coin
    delta_coin : bounds of the delta, coin
    equity_usd : bounds of the whole portfolio's equity, USD
    gamma_coin_per_usd : bounds of the gamma, coin per USD
    vega_usd_per_vol : bounds of the vega, USD per unit of vol (1.0 = 100 vol points)
    gross_notional_usd : bounds of the portfolio's gross notional, USD
    liquidation_spots_usd : (down, up) spots of liquidation, ``None`` for a side without one
    """

    spot_low_usd: FloatArray
    spot_high_usd: FloatArray
    delta_coin: Bounds
    equity_usd: Bounds
    gamma_coin_per_usd: Bounds
    vega_usd_per_vol: Bounds
    gross_notional_usd: Bounds
    liquidation_spots_usd: tuple[float | None, float | None]
    _measures: dict[str, Bounds] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def size(self) -> int:
        """Return the number of cells."""
        return len(self.spot_low_usd)

    def everywhere(self) -> BoolArray:
        """Return a mask with every cell set."""
        return np.ones(self.size, dtype=bool)

    def spot_usd(self) -> Bounds:
        """Return the bounds of the spot itself, USD per coin."""
        return self.spot_low_usd, self.spot_high_usd

    def reciprocal_spot(self, numerator: float) -> Bounds:
        """Return bounds of ``numerator / spot`` (a USD amount in coin), exact to ``RELATIVE_SLACK``."""
        ends = numerator / self.spot_low_usd, numerator / self.spot_high_usd
        return widen(np.minimum(*ends), np.maximum(*ends))

    def measure(self, name: str) -> Bounds:
        """Return bounds of a ``RiskSnapshot`` or ``RiskProfile`` measure, in the unit its name says.

        ``name`` is one of "delta_coin", "delta_usd", "gamma_usd_per_pct",
        "vega_usd_per_vol_pt", "weight", "leverage", "liquidation_distance". A ratio
        over equity is unbounded in a cell where equity may reach 0, as the engine
        then reports ``inf``.

        Bounds are computed once per name.

        Raises
        ------
        KeyError
            For any other name.
        """
        bounds = self._measures.get(name)
        if bounds is None:
            bounds = self._measures[name] = self._bounds(name)
        return bounds

    def _bounds(self, name: str) -> Bounds:
        match name:
            case "delta_coin":
                return self.delta_coin
            case "delta_usd":
                return interval_product(self.delta_coin, self.spot_usd())
            case "gamma_usd_per_pct":
                squared = (self.spot_low_usd**2 * 0.01, self.spot_high_usd**2 * 0.01)
                return interval_product(self.gamma_coin_per_usd, squared)
            case "vega_usd_per_vol_pt":
                return widen(self.vega_usd_per_vol[0] * 0.01, self.vega_usd_per_vol[1] * 0.01)
            case "weight":
                return interval_over_positive(self.measure("delta_usd"), self.equity_usd)
            case "leverage":
                return interval_over_positive(self.gross_notional_usd, self.equity_usd)
            case "liquidation_distance":
                return self._liquidation_distance()
        raise KeyError(f"no bounds for measure {name!r}")

    def _liquidation_distance(self) -> Bounds:
        # The engine's distance is min(spot / down - 1, up / spot - 1), each clipped at 0;
        # it rises with spot on the down side and falls on the up side.
        low = np.full(self.size, math.inf)
        high = np.full(self.size, math.inf)
        down, up = self.liquidation_spots_usd
        if down is not None:
            low = np.minimum(low, np.maximum(self.spot_low_usd / down - 1.0, 0.0))
            high = np.minimum(high, np.maximum(self.spot_high_usd / down - 1.0, 0.0))
        if up is not None:
            low = np.minimum(low, np.maximum(up / self.spot_high_usd - 1.0, 0.0))
            high = np.minimum(high, np.maximum(up / self.spot_low_usd - 1.0, 0.0))
        return widen(low, high)


@dataclass(frozen=True, slots=True)
class Quiet:
    """Where a policy's verdict stays silent: no rule fires and nothing is recorded.

    A policy's ``quiet(state, cells)`` promises that ``decide`` returns ``act=False``
    with an empty ``trigger`` for every input equal to ``state`` but for the spot
    (anywhere in a cell set in ``cells``, the risk there within ``RiskCells``' bounds),
    the time (before ``until_ns``), the cost fraction (inside ``cost_fraction``) and
    the snapshot's ``vol`` (any: option marks move it at every quote, so a policy
    whose silence depends on it returns None).

    Attributes
    ----------
    cells : (n_cells,) bool array
    until_ns : int, exclusive deadline, ns since the epoch; ``FOREVER_NS`` for none
    cost_fraction : (low, high), the cost fractions (decimal) for which it holds
    """

    cells: BoolArray
    until_ns: int = FOREVER_NS
    cost_fraction: tuple[float, float] = (-math.inf, math.inf)

    def run_around(self, cell: int) -> tuple[int, int] | None:
        """Return the first and last cell of the run of set cells containing ``cell``, or None if unset.

        >>> Quiet(np.array([True, False, True, True, True, False])).run_around(3)
        (2, 4)
        """
        cells = self.cells
        if not cells[cell]:
            return None
        unset_below = np.flatnonzero(~cells[:cell])
        unset_above = np.flatnonzero(~cells[cell + 1:])
        first = int(unset_below[-1]) + 1 if unset_below.size else 0
        last = cell + int(unset_above[0]) if unset_above.size else len(cells) - 1
        return first, last


def all_quiet(regions: Iterable[Quiet | None]) -> Quiet | None:
    """Return where every one of ``regions`` is quiet (None if one of them never is).

    For rules that must all stay silent: the members of ``AnyOf``, a wrapped policy
    and its hard limits.

    >>> a = Quiet(np.array([True, True, False]), until_ns=10, cost_fraction=(0.0001, math.inf))
    >>> b = Quiet(np.array([False, True, True]), until_ns=20)
    >>> merged = all_quiet([a, b])
    >>> merged.cells.tolist(), merged.until_ns, merged.cost_fraction
    ([False, True, False], 10, (0.0001, inf))
    """
    merged: Quiet | None = None
    for region in regions:
        if region is None:
            return None
        merged = region if merged is None else Quiet(
            merged.cells & region.cells,
            min(merged.until_ns, region.until_ns),
            (max(merged.cost_fraction[0], region.cost_fraction[0]),
             min(merged.cost_fraction[1], region.cost_fraction[1])),
        )
    return merged


def any_quiet(regions: Iterable[Quiet | None]) -> Quiet | None:
    """Return where at least one of ``regions`` is quiet (None if none of them ever is).

    For ``AllOf``, silent as soon as one member is. Deadlines and cost ranges are
    those of every member together, which keeps the promise for each cell.

    >>> a = Quiet(np.array([True, False, False]), until_ns=10)
    >>> merged = any_quiet([a, None, Quiet(np.array([False, True, False]), until_ns=20)])
    >>> merged.cells.tolist(), merged.until_ns
    ([True, True, False], 10)
    """
    present = [region for region in regions if region is not None]
    if not present:
        return None
    return Quiet(
        np.logical_or.reduce([region.cells for region in present]),
        min(region.until_ns for region in present),
        (max(region.cost_fraction[0] for region in present), min(region.cost_fraction[1] for region in present)),
    )
