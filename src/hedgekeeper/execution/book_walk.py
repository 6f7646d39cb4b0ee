"""The cost of taking liquidity: walk an order book's levels for a given size.

A market order of ``size_coin`` buys the asks (sells the bids) from the best level
outwards until filled. The average price against the mid is its slippage; the book
can run out, in which case only ``filled_coin`` is done and the caller decides what
to do with the rest (``execution`` refuses or re-plans; the backtest records it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class WalkResult:
    """The outcome of walking a book.

    Attributes
    ----------
    filled_coin : float, the size filled (absolute), coin
    average_price_usd : float, the size-weighted average fill price, USD per coin (NaN if nothing filled)
    worst_price_usd : float, the last level touched, USD per coin (NaN if nothing filled)
    """

    filled_coin: float
    average_price_usd: float
    worst_price_usd: float


def walk_levels(levels: Sequence[tuple[float, float]], size_coin: float) -> WalkResult:
    """Return the fill of ``size_coin`` (absolute) against ``levels`` (price, size), best first.

    Examples
    --------
    Buy 1.5 coin from asks of 1 at 100 and 2 at 101: average 100.333, worst 101.

    >>> result = walk_levels([(100.0, 1.0), (101.0, 2.0)], 1.5)
    >>> result.filled_coin, round(result.average_price_usd, 3), result.worst_price_usd
    (1.5, 100.333, 101.0)
    """
    wanted = abs(size_coin)
    filled = 0.0
    cost = 0.0
    worst = float("nan")
    for price, size in levels:
        if filled >= wanted:
            break
        take = min(size, wanted - filled)
        cost += take * price
        filled += take
        worst = price
    return WalkResult(filled, cost / filled if filled > 0.0 else float("nan"), worst)
