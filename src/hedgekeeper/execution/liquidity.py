"""Liquidity sources: anything that can fill part of an order at a known cost.

A source quotes what taking ``q`` coin from it costs, in USD, against a reference
mid ``m`` that every source routed together shares (so that a venue whose whole
book sits higher than another's is seen to be dearer, not just its spread)::

    cost_usd(q) = fixed_cost_usd * [q > 0] + variable_usd(q)

The fixed cost (gas for an on-chain swap, a transfer) is paid once if the source
is used at all. The variable cost (fees plus slippage against ``m``) is convex in
``q``: each further coin costs at least as much as the one before. Each source
describes it, for the router, as convex piecewise-linear ``CostSegments``: exact
for an order book, secants between sampled sizes for any other curve.

The protocol is what ``routing.py`` needs and nothing more: a name unique among
the sources routed together, the venue, the fixed cost, the capacity per side,
``cost_usd`` and ``segments``. Two implementations:

- ``BookSource``: an order book snapshot's levels and a taker fee rate; capacity is
  the visible depth.
- ``CurveSource``: any callable cost curve (an AMM pool's quote, the square-root law
  of ``impact_calibration.py``) with a capacity and an optional fixed cost.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from hedgekeeper.errors import BadData
from hedgekeeper.market.order_book import OrderBook
from hedgekeeper.venues.orders import Side

FloatArray = NDArray[np.float64]

_CONVEXITY_TOLERANCE = 1e-9
"""Relative tolerance on a sampled curve's marginal costs before it is called non-convex."""


@dataclass(frozen=True, slots=True)
class CostSegments:
    """A source's variable cost as convex piecewise-linear segments, filled in order.

    ``variable_usd(q) = sum_k marginal_k * clip(q - start_k, 0, width_k)``, with
    ``start_k`` the sum of the widths before segment ``k``.

    Attributes
    ----------
    widths_coin : ndarray of float > 0, coin each segment holds
    marginal_usd_per_coin : ndarray of float, non-decreasing, USD per coin on each
        segment against the reference mid (negative where a venue sells below it)

    Examples
    --------
    >>> segments = CostSegments(np.array([1.0, 2.0]), np.array([0.5, 1.5]))
    >>> segments.capacity_coin, segments.variable_usd(np.array([0.5, 2.0]))
    (3.0, array([0.25, 2.  ]))
    """

    widths_coin: FloatArray
    marginal_usd_per_coin: FloatArray

    @property
    def capacity_coin(self) -> float:
        """Return the size the segments hold, coin."""
        return float(self.widths_coin.sum())

    @property
    def bounds_coin(self) -> FloatArray:
        """Return the cumulative sizes at the segments' ends, starting with 0, coin."""
        return np.concatenate(([0.0], np.cumsum(self.widths_coin)))

    @property
    def bounds_cost_usd(self) -> FloatArray:
        """Return the variable cost at ``bounds_coin``, USD."""
        return np.concatenate(([0.0], np.cumsum(self.widths_coin * self.marginal_usd_per_coin)))

    def variable_usd(self, size_coin: FloatArray | float) -> FloatArray:
        """Return the variable cost of ``size_coin`` (>= 0, within capacity), USD."""
        return np.interp(size_coin, self.bounds_coin, self.bounds_cost_usd)


class LiquiditySource(Protocol):
    """Something that fills part of an order at a known cost against the shared reference mid."""

    @property
    def name(self) -> str:
        """Return the source's name, unique among the sources routed together."""
        ...

    @property
    def venue(self) -> str:
        """Return the venue the source trades on."""
        ...

    @property
    def fixed_cost_usd(self) -> float:
        """Return the cost paid once if the source is used at all (gas), USD, >= 0."""
        ...

    def capacity_coin(self, side: Side) -> float:
        """Return the largest size the source fills on ``side``, coin."""
        ...

    def cost_usd(self, size_coin: float, side: Side) -> float:
        """Return the total cost of taking ``size_coin`` (>= 0) on ``side``, fixed cost included, USD."""
        ...

    def segments(self, side: Side, lot_coin: float, max_coin: float) -> CostSegments:
        """Return the variable cost on ``side`` up to ``max_coin`` as convex segments.

        Sources that are piecewise linear already ignore ``lot_coin``; others sample
        their curve at multiples of it, so that routing in lots is exact.
        """
        ...


def _check_size(source: LiquiditySource, size_coin: float, side: Side) -> None:
    capacity = source.capacity_coin(side)
    if not 0.0 <= size_coin <= capacity * (1.0 + 1e-12):
        raise BadData(
            f"source {source.name!r}: size {size_coin:g} coin to {side.value} is outside"
            f" [0, {capacity:g}], its capacity"
        )


@dataclass(frozen=True, slots=True)
class BookSource:
    """Take an order book snapshot's levels, paying a taker fee on the notional.

    A buy walks the asks, a sell the bids. Each coin taken at price ``p`` costs
    ``side * (p - m) + fee_rate * p`` USD against the reference mid ``m``.

    Parameters
    ----------
    name : str, unique among the sources routed together
    venue : str
    bids, asks : tuples of (price_usd, size_coin), best first
    taker_fee_rate : float, decimal of the notional (0.0005 is 5 bps), >= 0
    reference_mid_usd : float, USD per coin, > 0, the mid every routed source is costed against
    fixed_cost_usd : float, USD paid once if the book is used, >= 0

    Examples
    --------
    Asks of 1 coin at 100.5 and 2 at 101 against a mid of 100, 10 bps of fee:
    2 coin cost ``0.5 + 1 + 0.001 * (100.5 + 101)``.

    >>> book = BookSource("a", "x", bids=((99.5, 3.0),), asks=((100.5, 1.0), (101.0, 2.0)),
    ...                   taker_fee_rate=0.001, reference_mid_usd=100.0)
    >>> round(book.cost_usd(2.0, Side.BUY), 4), book.capacity_coin(Side.SELL)
    (1.7015, 3.0)
    """

    name: str
    venue: str
    bids: tuple[tuple[float, float], ...]
    asks: tuple[tuple[float, float], ...]
    taker_fee_rate: float
    reference_mid_usd: float
    fixed_cost_usd: float = 0.0

    def __post_init__(self) -> None:
        problem = self._problem()
        if problem is not None:
            raise BadData(f"book source {self.name!r}: {problem}")

    def _problem(self) -> str | None:
        if not (math.isfinite(self.taker_fee_rate) and self.taker_fee_rate >= 0.0):
            return f"taker_fee_rate must be a number >= 0, got {self.taker_fee_rate}"
        if not (math.isfinite(self.reference_mid_usd) and self.reference_mid_usd > 0.0):
            return f"reference_mid_usd must be > 0, got {self.reference_mid_usd}"
        if not (math.isfinite(self.fixed_cost_usd) and self.fixed_cost_usd >= 0.0):
            return f"fixed_cost_usd must be a number >= 0, got {self.fixed_cost_usd}"
        for label, levels, sign in (("bids", self.bids, -1.0), ("asks", self.asks, 1.0)):
            prices = np.array([price for price, _ in levels], dtype=np.float64)
            sizes = np.array([size for _, size in levels], dtype=np.float64)
            if not (np.all(np.isfinite(prices)) and np.all(prices > 0.0)):
                return f"{label} prices must be finite and > 0"
            if not (np.all(np.isfinite(sizes)) and np.all(sizes > 0.0)):
                return f"{label} sizes must be finite and > 0"
            if np.any(sign * np.diff(prices) <= 0.0):
                return f"{label} must be best first, one level per price"
        return None

    @classmethod
    def from_book(
        cls,
        name: str,
        venue: str,
        book: OrderBook,
        taker_fee_rate: float,
        *,
        reference_mid_usd: float | None = None,
        fixed_cost_usd: float = 0.0,
    ) -> BookSource:
        """Return a source on a snapshot of ``book``'s levels, costed against its own mid by default.

        Raises
        ------
        BadData
            If the book has no mid and none is given.
        """
        mid_usd = book.mid_usd if reference_mid_usd is None else reference_mid_usd
        if mid_usd is None:
            raise BadData(f"book source {name!r}: the book has an empty side, so no mid to cost against")
        return cls(
            name, venue, tuple(book.levels(-1)), tuple(book.levels(1)),
            taker_fee_rate, mid_usd, fixed_cost_usd,
        )

    def _levels(self, side: Side) -> tuple[tuple[float, float], ...]:
        return self.asks if side is Side.BUY else self.bids

    def capacity_coin(self, side: Side) -> float:
        """Return the visible depth on the side taken: the asks for a buy, the bids for a sell, coin."""
        return float(sum(size for _, size in self._levels(side)))

    def segments(self, side: Side, lot_coin: float = 0.0, max_coin: float = math.inf) -> CostSegments:
        """Return one segment per level: its size, and ``side * (p - m) + fee_rate * p`` per coin."""
        levels = self._levels(side)
        prices = np.array([price for price, _ in levels], dtype=np.float64)
        sizes = np.array([size for _, size in levels], dtype=np.float64)
        marginal = side.sign * (prices - self.reference_mid_usd) + self.taker_fee_rate * prices
        return CostSegments(sizes, marginal)

    def cost_usd(self, size_coin: float, side: Side) -> float:
        """Return walk cost plus taker fee of ``size_coin`` against the reference mid, plus the fixed cost, USD."""
        _check_size(self, size_coin, side)
        if size_coin == 0.0:
            return 0.0
        return self.fixed_cost_usd + float(self.segments(side).variable_usd(size_coin))


CostCurve = Callable[[float, Side], float]
"""A variable cost in USD of ``(size_coin, side)`` against the reference mid: convex in size, 0 at 0."""


@dataclass(frozen=True, slots=True)
class CurveSource:
    """Wrap any convex cost curve (an AMM pool's quote, a fitted impact law) as a source.

    The router sees the curve through its secants between multiples of the lot
    (exact on lots), or of a coarser step when more than ``max_samples`` lots are
    asked for; ``cost_usd`` calls the curve itself.

    Parameters
    ----------
    name : str, unique among the sources routed together
    venue : str
    cost_curve : CostCurve, variable cost (fees, slippage) in USD against the reference mid
    max_buy_coin, max_sell_coin : float >= 0, the largest sizes the curve may be asked for, coin
    fixed_cost_usd : float, USD paid once if the source is used (gas), >= 0
    max_samples : int > 0, the most points the curve is sampled at for the router

    Examples
    --------
    A pool whose cost grows as ``q^2`` with 20 USD of gas per swap:

    >>> pool = CurveSource("pool", "chain", lambda q, side: 2.0 * q * q, max_buy_coin=10.0,
    ...                    max_sell_coin=10.0, fixed_cost_usd=20.0)
    >>> pool.cost_usd(3.0, Side.BUY), pool.cost_usd(0.0, Side.BUY)
    (38.0, 0.0)
    >>> pool.segments(Side.BUY, lot_coin=1.0, max_coin=3.0).marginal_usd_per_coin
    array([ 2.,  6., 10.])
    """

    name: str
    venue: str
    cost_curve: CostCurve
    max_buy_coin: float
    max_sell_coin: float
    fixed_cost_usd: float = 0.0
    max_samples: int = 4096

    def __post_init__(self) -> None:
        problem = None
        for label in ("max_buy_coin", "max_sell_coin", "fixed_cost_usd"):
            value = getattr(self, label)
            if not (math.isfinite(value) and value >= 0.0):
                problem = f"{label} must be a number >= 0, got {value}"
        if self.max_samples < 1:
            problem = f"max_samples must be >= 1, got {self.max_samples}"
        if problem is not None:
            raise BadData(f"curve source {self.name!r}: {problem}")

    def capacity_coin(self, side: Side) -> float:
        """Return ``max_buy_coin`` or ``max_sell_coin``."""
        return self.max_buy_coin if side is Side.BUY else self.max_sell_coin

    def cost_usd(self, size_coin: float, side: Side) -> float:
        """Return ``cost_curve(size_coin, side)`` plus the fixed cost (0 for no size), USD."""
        _check_size(self, size_coin, side)
        if size_coin == 0.0:
            return 0.0
        return self.fixed_cost_usd + float(self.cost_curve(size_coin, side))

    def segments(self, side: Side, lot_coin: float, max_coin: float) -> CostSegments:
        """Return the curve's secants between multiples of the lot up to ``max_coin`` and the capacity.

        Raises
        ------
        BadData
            If the curve's marginal cost falls as the size grows (not convex) or a cost is not finite.
        """
        if not (math.isfinite(lot_coin) and lot_coin > 0.0):
            raise BadData(f"curve source {self.name!r}: lot_coin must be > 0, got {lot_coin}")
        lots = math.floor(min(max_coin, self.capacity_coin(side)) / lot_coin * (1.0 + 1e-12))
        if lots == 0:
            return CostSegments(np.empty(0), np.empty(0))
        step = math.ceil(lots / self.max_samples)
        sizes = np.append(np.arange(0, lots, step), lots) * lot_coin
        costs = np.array([0.0] + [self.cost_curve(float(size), side) for size in sizes[1:]])
        if not np.all(np.isfinite(costs)):
            raise BadData(f"curve source {self.name!r}: the cost curve returned a non-finite cost")
        widths = np.diff(sizes)
        marginal = np.diff(costs) / widths
        drop = marginal[:-1] - marginal[1:]
        scale = _CONVEXITY_TOLERANCE * max(1.0, float(np.abs(marginal).max()))
        if np.any(drop > scale):
            at = sizes[1 + int(np.argmax(drop))]
            raise BadData(
                f"curve source {self.name!r}: the marginal cost falls at {at:g} coin to {side.value};"
                " routing needs a cost convex in size"
            )
        return CostSegments(widths, np.maximum.accumulate(marginal))
