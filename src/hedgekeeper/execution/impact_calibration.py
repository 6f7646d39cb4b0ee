"""The square-root law of market impact, calibrated on the visible order book and the volatility.

Almgren, Thum, Hauptmann and Li (2005), "Direct estimation of equity market
impact", and Tóth et al. (2011), "Anomalous price impact and the critical nature
of liquidity in financial markets", find that trading ``Q`` coin moves the average
price paid against the mid by the fraction::

    impact_fraction(Q) = Y * sigma_daily * sqrt(Q / V)

with ``sigma_daily`` the daily volatility (``vol / sqrt(365)`` from an annualised
``vol``, crypto trading every day), ``V`` the daily volume in coin and ``Y`` a
constant of order one. The cost of the trade is ``impact_fraction(Q) * Q * mid``
USD, that is ``Y sigma_daily mid Q^(3/2) / sqrt(V)``.

``Y`` is fitted to what a book shows now: walking the visible levels for several
sizes ``Q_i`` costs ``c_i`` USD against the mid, an observed fraction
``f_i = c_i / (Q_i mid)``. Least squares in log space with the law's exponent
fixed at 1/2 has the closed form::

    log Y = mean_i [ log f_i - log sigma_daily - (1/2) log(Q_i / V) ]

(``Y`` is the geometric mean of the per-size coefficients), so the fitted law
lies above the walk at some sizes and below it at others unless the book is
exactly square-root. The free log-log slope of ``f_i`` on ``Q_i`` is reported
beside it: 1/2 when the depth grows linearly with the distance from the mid,
1 for a flat book. Once fitted, ``Y`` carries the book's depth to another
volatility: the law scales the cost with ``vol``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hedgekeeper.errors import BadData
from hedgekeeper.execution.book_walk import walk_levels
from hedgekeeper.market.order_book import OrderBook
from hedgekeeper.venues.orders import Side

FloatArray = NDArray[np.float64]

DAYS_PER_YEAR = 365.0
"""ACT/365 calendar days: the daily volatility is the annual one over sqrt(365)."""


@dataclass(frozen=True, slots=True)
class SquareRootImpact:
    """The square-root law ``impact_fraction(Q) = Y * (vol / sqrt(365)) * sqrt(Q / V)``.

    Parameters
    ----------
    coefficient : float, ``Y``, dimensionless, >= 0
    vol : float, annualised volatility, decimal (0.6 is 60%), >= 0
    daily_volume_coin : float, ``V``, coin traded per day, > 0

    Examples
    --------
    ``Y = 1``, 60% vol, 20,000 BTC a day: 10 BTC move the price
    ``0.6 / sqrt(365) * sqrt(10 / 20,000)``, 7.0 bps, 700 USD at 100,000 USD.

    >>> law = SquareRootImpact(1.0, 0.6, 20_000.0)
    >>> round(float(law.impact_fraction(10.0)) * 1e4, 2), round(float(law.cost_usd(10.0, 100_000.0)), 1)
    (7.02, 702.2)
    """

    coefficient: float
    vol: float
    daily_volume_coin: float

    def __post_init__(self) -> None:
        for name, positive in (("coefficient", False), ("vol", False), ("daily_volume_coin", True)):
            value = getattr(self, name)
            if not (math.isfinite(value) and (value > 0.0 if positive else value >= 0.0)):
                raise BadData(f"square-root impact: {name} must be {'>' if positive else '>='} 0, got {value}")

    @property
    def daily_vol(self) -> float:
        """Return ``sigma_daily = vol / sqrt(365)``, decimal per day."""
        return self.vol / math.sqrt(DAYS_PER_YEAR)

    def impact_fraction(self, size_coin: ArrayLike) -> FloatArray:
        """Return the average price move against the mid for ``size_coin`` (either sign), decimal."""
        size = np.abs(np.asarray(size_coin, dtype=np.float64))
        return self.coefficient * self.daily_vol * np.sqrt(size / self.daily_volume_coin)

    def cost_usd(self, size_coin: ArrayLike, mid_usd: float) -> FloatArray:
        """Return the expected cost of trading ``size_coin`` (either sign) at ``mid_usd``, USD.

        ``Y sigma_daily mid |Q|^(3/2) / sqrt(V)``.
        """
        size = np.abs(np.asarray(size_coin, dtype=np.float64))
        return self.impact_fraction(size) * size * mid_usd


@dataclass(frozen=True, slots=True)
class ImpactFit:
    """A square-root law fitted to a book, with what it was fitted to.

    Attributes
    ----------
    law : SquareRootImpact, with the fitted ``Y``
    exponent : float, the free least-squares slope of log impact fraction on log size
        (1/2 for a square-root book)
    sizes_coin : ndarray, the sizes walked, coin
    walk_cost_usd : ndarray, the cost of walking each against the mid, USD
    """

    law: SquareRootImpact
    exponent: float
    sizes_coin: FloatArray
    walk_cost_usd: FloatArray


def book_walk_cost_usd(levels: Sequence[tuple[float, float]], side: Side, mid_usd: float, size_coin: float) -> float:
    """Return the cost against ``mid_usd`` of taking ``size_coin`` from ``levels``, USD (fees excluded).

    ``sum over coins taken of side * (price - mid)``.

    Raises
    ------
    BadData
        If the levels hold less than ``size_coin``.

    >>> book_walk_cost_usd([(100.5, 1.0), (101.0, 2.0)], Side.BUY, 100.0, 2.0)
    1.5
    """
    walk = walk_levels(levels, size_coin)
    if walk.filled_coin < size_coin * (1.0 - 1e-12):
        raise BadData(f"size {size_coin:g} coin is beyond the visible depth {walk.filled_coin:g} coin")
    return side.sign * (walk.average_price_usd - mid_usd) * walk.filled_coin


def fit_square_root_impact(
    book: OrderBook,
    side: Side,
    *,
    vol: float,
    daily_volume_coin: float,
    sizes_coin: ArrayLike | None = None,
) -> ImpactFit:
    """Return the square-root law fitted to the cost of walking ``book`` on ``side``.

    Parameters
    ----------
    book : OrderBook with both sides (for the mid)
    side : Side, BUY walks the asks, SELL the bids
    vol : float, annualised volatility, decimal, > 0
    daily_volume_coin : float, ``V``, coin per day, > 0
    sizes_coin : sizes to walk, coin, > 0 and within the visible depth; by default 12
        sizes spaced geometrically from 1% to 100% of the side's depth

    Returns
    -------
    ImpactFit

    Raises
    ------
    BadData
        If the book has no mid, a size is out of range, a walk costs nothing (no
        impact to fit) or ``vol`` is not > 0.

    Examples
    --------
    Asks at ``100 + 0.01 j`` USD holding ``0.01 j`` coin (``j = 1..2000``): the depth
    grows linearly with the distance ``d`` from the mid, ``k d`` coin per USD of price
    with ``k = 100`` per USD, so walking ``Q`` coin costs ``(2/3) sqrt(2/k) Q^(3/2)`` USD
    and ``Y = (2/3) sqrt(2/k) sqrt(V) / (mid sigma_daily)``, 0.949 here.

    >>> from hedgekeeper.market.events import BookUpdate
    >>> book = OrderBook()
    >>> asks = tuple((100.0 + 0.01 * j, 0.01 * j) for j in range(1, 2001))
    >>> book.apply(BookUpdate(0, "X", ((99.99, 1.0),), asks, True))
    >>> fit = fit_square_root_impact(book, Side.BUY, vol=0.6, daily_volume_coin=1_000.0)
    >>> round(fit.exponent, 3), round(fit.law.coefficient, 3)
    (0.5, 0.949)
    """
    mid_usd = book.mid_usd
    if mid_usd is None:
        raise BadData("impact fit: the book has an empty side, so no mid")
    if not (math.isfinite(vol) and vol > 0.0):
        raise BadData(f"impact fit: vol must be > 0 to scale the law, got {vol}")
    levels = book.levels(side.sign)
    depth_coin = sum(size for _, size in levels)
    if sizes_coin is None:
        sizes = np.geomspace(0.01 * depth_coin, depth_coin, 12) if depth_coin > 0.0 else np.empty(0)
    else:
        sizes = np.asarray(sizes_coin, dtype=np.float64).ravel()
    if sizes.size < 2 or not np.all(np.isfinite(sizes) & (sizes > 0.0)):
        raise BadData(f"impact fit: need at least two sizes > 0 within the visible depth, got {sizes.tolist()}")
    costs = np.array([book_walk_cost_usd(levels, side, mid_usd, float(size)) for size in sizes])
    if not np.all(costs > 0.0):
        raise BadData("impact fit: a walk costs nothing against the mid, so there is no impact to fit")
    law = SquareRootImpact(1.0, vol, daily_volume_coin)
    log_fraction = np.log(costs / (sizes * mid_usd))
    log_coefficient = np.mean(log_fraction - np.log(law.impact_fraction(sizes)))
    exponent = float(np.polyfit(np.log(sizes), log_fraction, 1)[0]) if np.ptp(sizes) > 0.0 else math.nan
    return ImpactFit(SquareRootImpact(float(np.exp(log_coefficient)), vol, daily_volume_coin), exponent, sizes, costs)
