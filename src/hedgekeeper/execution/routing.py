"""Smart order routing: split one parent order across sources at least total cost.

Each source ``i`` fills ``k_i`` lots at ``fixed_i * [k_i > 0] + f_i(k_i * lot)``
USD (``liquidity.py``), with ``f_i`` convex. The route minimises the total over
whole lots with ``sum k_i`` the parent:

- Without fixed costs the problem is separable and convex, so the greedy rule
  (give each next lot to the source whose next lot is cheapest) is exact and
  ends with the marginal costs equalised. It is run on runs of lots rather than
  lot by lot: a source's lots between two kinks of its piecewise-linear cost
  share one marginal cost, so a book of ``L`` levels is at most ``2 L + 1`` runs;
  the runs of all sources are sorted by marginal cost and taken in order. Lots
  whose marginal costs tie are shared evenly between the sources offering them.
- Fixed costs break convexity. The sources that have one are few (on-chain
  pools), so every subset of them is tried with all the sources without one;
  the cheapest route wins.

A route fills as much of the parent as the sources hold; what they cannot is
reported as ``unrouted_coin``. ``route_remainder`` re-plans the rest of a parent
after fills, on refreshed sources.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from numpy.typing import NDArray

from hedgekeeper.errors import BadData
from hedgekeeper.execution.liquidity import CostSegments, LiquiditySource
from hedgekeeper.execution.slicing import whole_lots
from hedgekeeper.portfolio.values import to_decimal
from hedgekeeper.venues.orders import Side

MAX_FIXED_COST_SOURCES = 12
"""The most sources with a fixed cost routed together: their 2**12 subsets are each tried."""

_TIE_TOLERANCE = 1e-12
"""Marginal costs within this relative distance count as equal and share lots evenly."""


@dataclass(frozen=True, slots=True)
class RouteLeg:
    """The part of a route sent to one source.

    Attributes
    ----------
    source : str, the source's name
    venue : str
    size_coin : Decimal, a whole number of lots, > 0
    cost_usd : float, the source's total cost for it against the reference mid, fixed cost included
    """

    source: str
    venue: str
    size_coin: Decimal
    cost_usd: float


@dataclass(frozen=True, slots=True)
class Route:
    """A parent order split across sources.

    Attributes
    ----------
    side : Side
    mid_usd : float, the reference mid the costs are measured against, USD per coin
    legs : tuple of RouteLeg, the sources used, in the order they were given
    unrouted_coin : Decimal, the part of the parent no source could take
    """

    side: Side
    mid_usd: float
    legs: tuple[RouteLeg, ...]
    unrouted_coin: Decimal

    @property
    def routed_coin(self) -> Decimal:
        """Return the size the legs fill, coin."""
        return sum((leg.size_coin for leg in self.legs), Decimal(0))

    @property
    def cost_usd(self) -> float:
        """Return the total cost of the legs, USD."""
        return math.fsum(leg.cost_usd for leg in self.legs)

    @property
    def cost_bps(self) -> float:
        """Return the total cost over the routed notional at the mid, basis points (NaN for an empty route)."""
        notional_usd = float(self.routed_coin) * self.mid_usd
        return self.cost_usd / notional_usd * 1e4 if notional_usd > 0.0 else math.nan

    def size_coin(self, source: str) -> Decimal:
        """Return the size routed to ``source`` (0 if it is not used), coin."""
        return next((leg.size_coin for leg in self.legs if leg.source == source), Decimal(0))


@dataclass(frozen=True, slots=True)
class _Runs:
    """Every source's lot runs, flat: owner index, lots in the run, marginal USD per lot."""

    owner: NDArray[np.int64]
    lots: NDArray[np.int64]
    marginal_usd: NDArray[np.float64]


def lot_runs(segments: CostSegments, lot_coin: float, max_lots: int) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Return a source's first ``max_lots`` whole lots as runs of equal marginal cost.

    Between two kinks of the piecewise-linear cost every lot costs the same; a lot
    straddling a kink costs a blend of the two segments. Runs are in the order the
    source fills them, so for a convex cost their marginal costs never fall.

    Returns
    -------
    lots : ndarray of int, lots in each run, > 0
    marginal_usd : ndarray of float, USD per lot in each run

    Examples
    --------
    Segments of 1 coin at 2 USD and 2 coin at 5 USD per coin, lots of 0.4 coin:
    lots 1-2 cost 0.8 USD, lot 3 straddles the kink (0.2 at 2, 0.2 at 5), lots 4-7 cost 2 USD.

    >>> lot_runs(CostSegments(np.array([1.0, 2.0]), np.array([2.0, 5.0])), 0.4, 100)
    (array([2, 1, 4]), array([0.8, 1.4, 2. ]))
    """
    bounds = segments.bounds_coin
    capacity_lots = min(max_lots, math.floor(bounds[-1] / lot_coin * (1.0 + 1e-12)))
    in_lots = bounds / lot_coin
    marks = np.concatenate(([0.0, capacity_lots], np.floor(in_lots), np.ceil(in_lots)))
    marks = np.unique(np.clip(marks, 0, capacity_lots)).astype(np.int64)
    costs = np.interp(marks * lot_coin, bounds, segments.bounds_cost_usd)
    lots = np.diff(marks)
    return lots, np.diff(costs) / lots


def _collect_runs(sources: Sequence[LiquiditySource], side: Side, lot_coin: float, parent_lots: int) -> _Runs:
    owners = [np.empty(0, dtype=np.int64)]
    lots = [np.empty(0, dtype=np.int64)]
    marginal = [np.empty(0, dtype=np.float64)]
    for index, source in enumerate(sources):
        segments = source.segments(side, lot_coin, parent_lots * lot_coin)
        if np.any(np.diff(segments.marginal_usd_per_coin) < 0.0):
            raise BadData(f"source {source.name!r}: marginal costs must not fall with size (convex cost)")
        run_lots, run_marginal = lot_runs(segments, lot_coin, parent_lots)
        owners.append(np.full(run_lots.size, index, dtype=np.int64))
        lots.append(run_lots)
        marginal.append(run_marginal)
    return _Runs(np.concatenate(owners), np.concatenate(lots), np.concatenate(marginal))


def _share_evenly(capacities: NDArray[np.int64], total: int) -> NDArray[np.int64]:
    # Water-filling: each run gets an equal share of ``total`` up to its capacity.
    taken = np.zeros(capacities.size, dtype=np.int64)
    remaining = total
    order = np.argsort(capacities, kind="stable")
    for position, index in enumerate(order):
        share = min(int(capacities[index]), -(-remaining // (order.size - position)))
        taken[index] = share
        remaining -= share
    return taken


def _allocate(runs: _Runs, active: NDArray[np.bool_], parent_lots: int, source_count: int) -> NDArray[np.int64]:
    """Return the lots per source of the cheapest convex allocation over the active sources' runs."""
    keep = active[runs.owner]
    owner, lots, marginal = runs.owner[keep], runs.lots[keep], runs.marginal_usd[keep]
    order = np.lexsort((owner, marginal))
    owner, lots, marginal = owner[order], lots[order], marginal[order]
    taken = lots.copy()
    filled = np.cumsum(lots)
    if filled.size and filled[-1] > parent_lots:
        # The run where the parent is reached, and the group of runs tied with it.
        crossing = int(np.searchsorted(filled, parent_lots))
        tolerance = _TIE_TOLERANCE * max(1.0, abs(float(marginal[crossing])))
        tied = np.abs(marginal - marginal[crossing]) <= tolerance
        first = int(np.argmax(tied))
        last = crossing + int(np.argmin(tied[crossing:])) if not tied[-1] else tied.size
        before = int(filled[first - 1]) if first > 0 else 0
        taken[first:last] = _share_evenly(lots[first:last], parent_lots - before)
        taken[last:] = 0
    return np.bincount(owner, weights=taken, minlength=source_count).astype(np.int64)


def _variable_cost_usd(runs: _Runs, lots_by_source: NDArray[np.int64]) -> float:
    # Each source's allocated lots are its cheapest, taken run by run in order.
    total = 0.0
    for index, wanted in enumerate(lots_by_source):
        own = runs.owner == index
        taken = np.minimum(runs.lots[own], np.maximum(wanted - (np.cumsum(runs.lots[own]) - runs.lots[own]), 0))
        total += float(taken @ runs.marginal_usd[own])
    return total


def route_order(
    sources: Sequence[LiquiditySource],
    side: Side,
    size_coin: Decimal | float | str,
    lot_coin: Decimal | float | str,
    mid_usd: float,
) -> Route:
    """Return the cheapest split of a parent order of ``size_coin`` across ``sources``.

    Parameters
    ----------
    sources : the liquidity sources, costed against the same reference mid, names unique
    side : Side of the parent order
    size_coin : parent size, coin, >= 0, a whole number of lots
    lot_coin : the lot, coin, > 0, common to all sources
    mid_usd : float, USD per coin, the reference mid, for ``cost_bps``

    Returns
    -------
    Route, with ``unrouted_coin`` what the sources together cannot hold

    Raises
    ------
    BadData
        If a size is not whole lots, a name repeats, a source's cost is not convex,
        or more than ``MAX_FIXED_COST_SOURCES`` sources have a fixed cost.

    Examples
    --------
    Two books with asks of 1 coin at 100.5 and 1 at 101.5, one with a fee of 0.05%:
    a parent of 2 coin takes the best level of each.

    >>> from hedgekeeper.execution.liquidity import BookSource
    >>> asks = ((100.5, 1.0), (101.5, 1.0))
    >>> books = [BookSource("a", "x", (), asks, 0.0, 100.0), BookSource("b", "y", (), asks, 0.0005, 100.0)]
    >>> route = route_order(books, Side.BUY, "2", "0.1", 100.0)
    >>> [(leg.source, str(leg.size_coin)) for leg in route.legs], round(route.cost_usd, 5)
    ([('a', '1.0'), ('b', '1.0')], 1.05025)
    """
    parent_lots, lot = whole_lots(size_coin, lot_coin)
    names = [source.name for source in sources]
    if len(set(names)) != len(names):
        raise BadData(f"source names must be unique, got {names}")
    fixed = [index for index, source in enumerate(sources) if source.fixed_cost_usd > 0.0]
    if len(fixed) > MAX_FIXED_COST_SOURCES:
        raise BadData(
            f"{len(fixed)} sources have a fixed cost; routing tries every subset of them"
            f" and takes at most {MAX_FIXED_COST_SOURCES}"
        )
    runs = _collect_runs(sources, side, float(lot), parent_lots)
    fixed_usd = np.array([source.fixed_cost_usd for source in sources])
    best: tuple[int, float, NDArray[np.int64]] | None = None
    for count in range(len(fixed) + 1):
        for subset in itertools.combinations(fixed, count):
            active = fixed_usd <= 0.0
            active[list(subset)] = True
            allocation = _allocate(runs, active, parent_lots, len(sources))
            cost = _variable_cost_usd(runs, allocation) + float(fixed_usd[allocation > 0].sum())
            candidate = (parent_lots - int(allocation.sum()), cost, allocation)
            if best is None or candidate[:2] < best[:2]:
                best = candidate
    assert best is not None  # the empty subset is always tried
    unrouted_lots, _, allocation = best
    legs = tuple(
        RouteLeg(source.name, source.venue, lots * lot, source.cost_usd(float(lots * lot), side))
        for source, lots in zip(sources, allocation.tolist())
        if lots > 0
    )
    return Route(side, mid_usd, legs, unrouted_lots * lot)


def route_remainder(
    sources: Sequence[LiquiditySource],
    side: Side,
    parent_size_coin: Decimal | float | str,
    filled_coin: Mapping[str, Decimal | float | str],
    lot_coin: Decimal | float | str,
    mid_usd: float,
) -> Route:
    """Return the route of what is left of a parent order after the fills so far, on refreshed sources.

    Parameters
    ----------
    sources : the sources as they stand now (books after the fills, pools after the swaps)
    side : Side of the parent order
    parent_size_coin : the parent's whole size, coin
    filled_coin : size filled so far per source name, coin, >= 0 (sources no longer routed may appear)
    lot_coin, mid_usd : as for ``route_order``

    Raises
    ------
    BadData
        If a fill is negative or the fills exceed the parent.

    Examples
    --------
    A parent of 3 coin of which 1 was filled on ``a``: the 2 left go where it is cheapest now.

    >>> from hedgekeeper.execution.liquidity import BookSource
    >>> book = BookSource("a", "x", (), ((100.5, 5.0),), 0.0, 100.0)
    >>> str(route_remainder([book], Side.BUY, "3", {"a": "1"}, "1", 100.0).size_coin("a"))
    '2'
    """
    parent = to_decimal(parent_size_coin, "parent_size_coin")
    fills = {name: to_decimal(size, f"fill on {name!r}") for name, size in filled_coin.items()}
    negative = {name: str(size) for name, size in fills.items() if size < 0}
    if negative:
        raise BadData(f"fills must be >= 0 coin, got {negative}")
    done = sum(fills.values(), Decimal(0))
    if done > parent:
        raise BadData(f"fills of {done} coin exceed the parent of {parent} coin")
    return route_order(sources, side, parent - done, lot_coin, mid_usd)
