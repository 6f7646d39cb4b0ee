"""Synthetic level-2 books whose spread widens and depth thins as the vol rises.

Around a mid ``M`` with instantaneous vol ``vol`` (annualised, decimal)::

    spread = M (base_spread_bps + spread_bps_per_vol vol) / 10_000
    bid_i  = M - spread / 2 - i gap,   ask_i = M + spread / 2 + i gap,   gap = max(spread, tick)
    size_i = base_depth_coin exp(-depth_decay_per_vol vol - depth_decay_per_level i)
             exp(noise Z - noise^2 / 2)

for levels ``i = 0 .. level_count - 1``, ``Z`` independent standard normals (the
factor has mean one). With a tick size, bids are rounded down and asks up to the
tick, so the book stays uncrossed and its levels distinct.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pydantic
from numpy.typing import ArrayLike, NDArray

from hedgekeeper.config import StrictModel

FloatArray = NDArray[np.float64]

BPS = 1e-4


class BookParameters(StrictModel):
    """Shape of a venue's synthetic book.

    Attributes
    ----------
    level_count : int, levels per side, ``>= 1``
    base_spread_bps : float, the spread at zero vol, basis points of the mid, ``> 0``
    spread_bps_per_vol : float, spread added per 1.00 of annualised vol, bps, ``>= 0``
    base_depth_coin : float, the mean size at the best level at zero vol, coin, ``> 0``
    depth_decay_per_vol : float, log-size lost per 1.00 of annualised vol, ``>= 0``
    depth_decay_per_level : float, log-size lost per level away from the best, ``>= 0``
    size_noise : float, log-normal dispersion of each size, ``>= 0``; 0 for exact sizes
    tick_size_usd : float or None, price increment, USD per coin, ``> 0``; None for no rounding
    """

    level_count: int = pydantic.Field(ge=1)
    base_spread_bps: float = pydantic.Field(gt=0.0)
    spread_bps_per_vol: float = pydantic.Field(ge=0.0)
    base_depth_coin: float = pydantic.Field(gt=0.0)
    depth_decay_per_vol: float = pydantic.Field(ge=0.0)
    depth_decay_per_level: float = pydantic.Field(ge=0.0)
    size_noise: float = pydantic.Field(default=0.0, ge=0.0)
    tick_size_usd: float | None = pydantic.Field(default=None, gt=0.0)


@dataclass(frozen=True, slots=True)
class BookLevels:
    """Book levels at each of ``n`` times, best first.

    Attributes
    ----------
    bid_usd, ask_usd : ndarray, shape (n, level_count), USD per coin; bids decreasing,
        asks increasing
    bid_size_coin, ask_size_coin : ndarray, shape (n, level_count), coin, ``> 0``
    """

    bid_usd: FloatArray
    bid_size_coin: FloatArray
    ask_usd: FloatArray
    ask_size_coin: FloatArray


def spread_usd(mid_usd: ArrayLike, vol: ArrayLike, parameters: BookParameters) -> FloatArray:
    """Return the spread ``M (base_spread_bps + spread_bps_per_vol vol) / 10_000``, before ticks.

    Parameters
    ----------
    mid_usd : array_like, USD per coin, ``> 0``
    vol : array_like, annualised, decimal, ``>= 0``, broadcastable with ``mid_usd``
    parameters : BookParameters

    Returns
    -------
    ndarray of float64, the broadcast shape, USD per coin

    Examples
    --------
    >>> parameters = BookParameters(level_count=3, base_spread_bps=1.0, spread_bps_per_vol=4.0,
    ...     base_depth_coin=5.0, depth_decay_per_vol=0.5, depth_decay_per_level=0.3)
    >>> spread_usd(60_000.0, np.array([0.5, 1.0, 2.0]), parameters)
    array([18., 30., 54.])
    """
    vol_array = np.asarray(vol, dtype=np.float64)
    bps = parameters.base_spread_bps + parameters.spread_bps_per_vol * vol_array
    return np.asarray(mid_usd, dtype=np.float64) * bps * BPS


def book_levels(
    mid_usd: ArrayLike, vol: ArrayLike, parameters: BookParameters, rng: np.random.Generator
) -> BookLevels:
    """Return the synthetic book around each mid; see the module docstring for the formulas.

    Parameters
    ----------
    mid_usd : array_like, shape (n,), USD per coin, ``> 0``
    vol : array_like, shape (n,), instantaneous vol, annualised, decimal, ``>= 0``
    parameters : BookParameters
    rng : np.random.Generator; draws ``n * 2 * level_count`` normals (time, side, level order)

    Returns
    -------
    BookLevels, arrays of shape (n, level_count)

    Examples
    --------
    >>> parameters = BookParameters(level_count=3, base_spread_bps=1.0, spread_bps_per_vol=4.0,
    ...     base_depth_coin=5.0, depth_decay_per_vol=0.5, depth_decay_per_level=0.3,
    ...     tick_size_usd=0.5)
    >>> rng = np.random.default_rng(0)
    >>> book = book_levels(np.array([60_000.0]), np.array([1.0]), parameters, rng)
    >>> book.bid_usd, book.ask_usd
    (array([[59985., 59955., 59925.]]), array([[60015., 60045., 60075.]]))
    >>> book.bid_size_coin.round(3)
    array([[3.033, 2.247, 1.664]])
    """
    mid = np.asarray(mid_usd, dtype=np.float64)[:, None]
    vol_array = np.asarray(vol, dtype=np.float64)[:, None]
    spread = spread_usd(mid, vol_array, parameters)
    tick = parameters.tick_size_usd
    gap = spread if tick is None else np.maximum(spread, tick)
    offsets = 0.5 * spread + gap * np.arange(parameters.level_count)
    bid, ask = mid - offsets, mid + offsets
    if tick is not None:
        bid, ask = np.floor(bid / tick) * tick, np.ceil(ask / tick) * tick
    log_depth = (np.log(parameters.base_depth_coin) - parameters.depth_decay_per_vol * vol_array
                 - parameters.depth_decay_per_level * np.arange(parameters.level_count))
    noise = parameters.size_noise
    shocks = rng.standard_normal((mid.shape[0], 2, parameters.level_count))
    sizes = np.exp(log_depth[:, None, :] + noise * shocks - 0.5 * noise**2)
    return BookLevels(bid, sizes[:, 0], ask, sizes[:, 1])
