"""Synthetic trade prints: Poisson arrivals, random sides, log-normal sizes.

Each step of ``step_ns`` holds ``N ~ Poisson(trades_per_second step_s)`` trades. A
trade arrives at a uniform time within its step, buys (aggressor +1, at the ask) or
sells (-1, at the bid) with probability one half, and has size
``mean_size_coin exp(SIZE_LOG_VOL Z - SIZE_LOG_VOL^2 / 2)``, ``Z ~ N(0, 1)``.

Counts and the details of each trade come from two generators, so that drawing
them chunk by chunk gives the same trades as drawing them at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pydantic
from numpy.typing import NDArray
from scipy.special import ndtri

from hedgekeeper.config import StrictModel

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

SIZE_LOG_VOL = 1.0
"""Dispersion of log trade sizes: sizes spread over about a factor e either way."""


class TradeParameters(StrictModel):
    """How often a venue prints and how large its prints are.

    Attributes
    ----------
    trades_per_second : float, mean arrival rate, per second, ``> 0``
    mean_size_coin : float, mean trade size, coin, ``> 0``
    """

    trades_per_second: float = pydantic.Field(gt=0.0)
    mean_size_coin: float = pydantic.Field(gt=0.0)


@dataclass(frozen=True, slots=True)
class TradeDraws:
    """Trades of a run of steps, in time order.

    Attributes
    ----------
    step_index : ndarray of int64, shape (m,), the step each trade falls in, from 0
    offset_ns : ndarray of int64, shape (m,), ns after the step's start, ``< step_ns``
    aggressor : ndarray of int64, shape (m,), +1 buy, -1 sell
    size_coin : ndarray, shape (m,), coin, ``> 0``
    """

    step_index: IntArray
    offset_ns: IntArray
    aggressor: IntArray
    size_coin: FloatArray


def trade_counts(
    step_count: int, step_ns: int, parameters: TradeParameters, rng: np.random.Generator
) -> IntArray:
    """Return the number of trades in each of ``step_count`` steps, Poisson of mean ``rate step_s``.

    Parameters
    ----------
    step_count : int, ``>= 1``
    step_ns : int, step length, ns, ``> 0``
    parameters : TradeParameters
    rng : np.random.Generator; draws one Poisson count per step

    Returns
    -------
    ndarray of int64, shape (step_count,)

    Examples
    --------
    >>> trade_counts(5, 10**9, TradeParameters(trades_per_second=2.0, mean_size_coin=0.1),
    ...              np.random.default_rng(0))
    array([2, 0, 7, 1, 1])
    """
    mean_count = parameters.trades_per_second * step_ns / 1e9
    return rng.poisson(mean_count, size=step_count).astype(np.int64)


def draw_trades(
    counts: IntArray, step_ns: int, parameters: TradeParameters, rng: np.random.Generator
) -> TradeDraws:
    """Return the times, sides and sizes of ``counts[i]`` trades in each step ``i``.

    Parameters
    ----------
    counts : ndarray of int64, shape (step_count,), trades per step, ``>= 0``
    step_ns : int, step length, ns, ``> 0``
    parameters : TradeParameters
    rng : np.random.Generator; draws three uniforms per trade (time, side, size), in trade order

    Returns
    -------
    TradeDraws, ordered by step then time within the step

    Examples
    --------
    >>> trades = draw_trades(np.array([2, 0, 1]), 10**9,
    ...     TradeParameters(trades_per_second=1.0, mean_size_coin=0.1), np.random.default_rng(0))
    >>> trades.step_index, trades.aggressor, trades.size_coin.round(4)
    (array([0, 0, 2]), array([-1,  1, -1]), array([0.2358, 0.0107, 0.0677]))
    """
    step_index = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    uniforms = rng.random((step_index.size, 3))
    offset_ns = np.minimum((uniforms[:, 0] * step_ns).astype(np.int64), step_ns - 1)
    order = np.lexsort((offset_ns, step_index))
    aggressor = np.where(uniforms[:, 1] < 0.5, 1, -1).astype(np.int64)
    # rng.random gives multiples of 2**-53 in [0, 1); half a step up keeps ndtri finite.
    size_normal = ndtri(uniforms[:, 2] + 2.0**-54)
    size_factor = np.exp(SIZE_LOG_VOL * size_normal - 0.5 * SIZE_LOG_VOL**2)
    size_coin = parameters.mean_size_coin * size_factor
    return TradeDraws(step_index[order], offset_ns[order], aggressor[order], size_coin[order])
