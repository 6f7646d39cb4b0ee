"""Market impact read from an order book, as the planner's convex cost curve.

Walking a book past its best level costs, on every coin taken at level ``k``, the
distance from that level's price to the best one (the half-spread to the best is
charged separately, with the fee). Level by level this is a convex piecewise-linear
cost of the size, exactly what the planner's ``ImpactCurve`` holds. Each side is
read separately and the curve keeps, segment by segment, the dearer of the two,
so it never under-prices either a buy or a sell. Beyond the visible depth the
last marginal cost is doubled: the book cannot show what it does not hold.
"""

from __future__ import annotations

import numpy as np

from hedgekeeper.market.order_book import OrderBook
from hedgekeeper.planner.impact import ImpactCurve


def _side_curve(levels: list[tuple[float, float]], coin_per_contract: float) -> tuple[np.ndarray, np.ndarray]:
    best = levels[0][0]
    depth_contracts = np.cumsum([size for _, size in levels]) / coin_per_contract
    marginal_usd = np.array([abs(price - best) for price, _ in levels]) * coin_per_contract
    return depth_contracts, marginal_usd


def book_impact_curve(book: OrderBook, coin_per_contract: float) -> ImpactCurve:
    """Return the impact of taking ``book``'s liquidity, USD, by contracts traded.

    Parameters
    ----------
    book : OrderBook with both sides
    coin_per_contract : float > 0, the coin size of one contract at the current price

    Examples
    --------
    Asks of 1 coin at 100 and 2 at 101, bids of 3 at 99: the second ask level
    costs 1 USD per coin beyond the best, and past 3 coin the cost doubles.

    >>> from hedgekeeper.market.events import BookUpdate
    >>> book = OrderBook()
    >>> book.apply(BookUpdate(0, "X", ((99.0, 3.0),), ((100.0, 1.0), (101.0, 2.0)), True))
    >>> curve = book_impact_curve(book, 1.0)
    >>> curve.breakpoints_contracts, curve.marginal_cost_usd
    ((1.0, 3.0), (0.0, 1.0, 2.0))
    """
    sides = [_side_curve(book.levels(side), coin_per_contract) for side in (1, -1) if book.levels(side)]
    if not sides:
        return ImpactCurve()
    breakpoints = np.unique(np.concatenate([depth for depth, _ in sides]))
    # The marginal cost on the segment ending at each breakpoint, dearer side first.
    marginal = np.zeros(breakpoints.size)
    for depth, cost in sides:
        index = np.minimum(np.searchsorted(depth, breakpoints, side="left"), depth.size - 1)
        reached = breakpoints <= depth[-1] + 1e-12
        marginal = np.maximum(marginal, np.where(reached, cost[index], 2.0 * cost[-1]))
    marginal = np.maximum.accumulate(marginal)
    beyond = 2.0 * max(float(marginal[-1]), max(float(cost[-1]) for _, cost in sides))
    return ImpactCurve(
        breakpoints_contracts=tuple(float(b) for b in breakpoints),
        marginal_cost_usd=tuple(float(m) for m in marginal) + (beyond,),
    )
