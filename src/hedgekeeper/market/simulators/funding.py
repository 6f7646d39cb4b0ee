"""Perpetual funding: a rate every interval, tilted by how far the market has run.

Funding is paid at the multiples of ``interval_s`` since the epoch (00:00, 08:00 and
16:00 UTC for eight hours, as on Binance, Bybit and Deribit). The rate per
interval follows the perpetual's premium, modelled as the log return of the mark
over the past interval (a rally pulls perpetuals above spot, so longs pay)::

    rate = clip(base_rate + premium_sensitivity ln(M(t) / M(t - interval)), -cap, cap)
"""

from __future__ import annotations

import numpy as np
import pydantic
from numpy.typing import ArrayLike, NDArray

from hedgekeeper.config import StrictModel

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

EIGHT_HOURS_S = 8 * 3600.0


class FundingParameters(StrictModel):
    """A perpetual's funding schedule and rate.

    Attributes
    ----------
    interval_s : float, seconds between payments, ``> 0``; eight hours by default
    base_rate : float, rate per interval in a flat market, decimal (0.0001 is 1 bp)
    premium_sensitivity : float, rate per unit of log return over the interval, ``>= 0``
    cap : float, largest absolute rate per interval, decimal, ``> 0``
    """

    interval_s: float = pydantic.Field(default=EIGHT_HOURS_S, gt=0.0)
    base_rate: float
    premium_sensitivity: float = pydantic.Field(ge=0.0)
    cap: float = pydantic.Field(gt=0.0)


def funding_times_ns(start_ns: int, end_ns: int, parameters: FundingParameters) -> IntArray:
    """Return the funding times in ``[start_ns, end_ns)``: the interval's multiples since the epoch.

    Examples
    --------
    >>> hour_ns = 3600 * 10**9
    >>> funding_times_ns(7 * hour_ns, 30 * hour_ns, FundingParameters(base_rate=0.0001,
    ...                  premium_sensitivity=0.1, cap=0.0075)) // hour_ns
    array([ 8, 16, 24])
    """
    interval_ns = round(parameters.interval_s * 1e9)
    first = -(-start_ns // interval_ns) * interval_ns
    return np.arange(first, end_ns, interval_ns, dtype=np.int64)


def funding_rates(
    mark_usd: ArrayLike, previous_mark_usd: ArrayLike, parameters: FundingParameters
) -> FloatArray:
    """Return the rate ``clip(base_rate + premium_sensitivity ln(mark / previous), -cap, cap)``.

    Parameters
    ----------
    mark_usd : array_like, the mark at each funding time, USD per coin, ``> 0``
    previous_mark_usd : array_like, the mark one interval earlier, USD per coin, ``> 0``
    parameters : FundingParameters

    Returns
    -------
    ndarray of float64, the broadcast shape, decimal per interval, paid by longs when ``> 0``

    Examples
    --------
    >>> parameters = FundingParameters(base_rate=0.0001, premium_sensitivity=0.01, cap=0.002)
    >>> funding_rates(np.array([100.0, 105.0, 80.0]), 100.0, parameters).round(6)
    array([ 0.0001  ,  0.000588, -0.002   ])
    """
    log_return = np.log(np.divide(mark_usd, previous_mark_usd, dtype=np.float64))
    rate = parameters.base_rate + parameters.premium_sensitivity * log_return
    return np.clip(rate, -parameters.cap, parameters.cap)
