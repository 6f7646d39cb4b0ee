"""Oracle rounds under Chainlink's rule: a deviation threshold plus a heartbeat.

A Chainlink price feed writes a new round when the observed price has moved from
the last reported one by at least the deviation threshold, or when the heartbeat
has elapsed since the last round, whichever comes first
(https://docs.chain.link/architecture-overview/architecture-decentralized-model,
"Deviation threshold" and "Heartbeat threshold"). Here the feed observes the price
at every point of the path and reports a first round at the first point.
"""

from __future__ import annotations

import numpy as np
import pydantic
from numpy.typing import ArrayLike, NDArray

from hedgekeeper.config import StrictModel
from hedgekeeper.market.simulators._kernels import deviation_heartbeat_rounds

IntArray = NDArray[np.int64]


class OracleParameters(StrictModel):
    """A price feed's update rule.

    Attributes
    ----------
    stream : str, the feed's name, e.g. 'BTC/USD'
    deviation_threshold : float, relative move that triggers a round, decimal (0.005 is 0.5%),
        ``> 0``
    heartbeat_s : float, longest time between rounds, seconds, ``> 0``
    """

    stream: str
    deviation_threshold: float = pydantic.Field(gt=0.0)
    heartbeat_s: float = pydantic.Field(gt=0.0)


def oracle_round_indices(
    price_usd: ArrayLike, ts_ns: ArrayLike, parameters: OracleParameters
) -> IntArray:
    """Return the indices of the observations at which the feed writes a round.

    A round is written at index 0, then at the first index ``i`` with
    ``|P[i] - P[last]| >= deviation_threshold P[last]`` or
    ``ts_ns[i] - ts_ns[last] >= heartbeat``, ``last`` being the previous round.

    Parameters
    ----------
    price_usd : array_like, shape (n,), observed prices, USD per coin, ``> 0``
    ts_ns : array_like of int, shape (n,), increasing, ns since the epoch
    parameters : OracleParameters

    Returns
    -------
    ndarray of int64, increasing indices into ``price_usd``

    Examples
    --------
    0.5% threshold, 3-second heartbeat, one observation a second:

    >>> feed = OracleParameters(stream="BTC/USD", deviation_threshold=0.005, heartbeat_s=3.0)
    >>> prices = np.array([100.0, 100.2, 100.6, 100.1, 100.3, 100.4, 100.5, 101.2])
    >>> oracle_round_indices(prices, np.arange(8) * 10**9, feed)
    array([0, 2, 5, 7])
    """
    heartbeat_ns = round(parameters.heartbeat_s * 1e9)
    return deviation_heartbeat_rounds(
        np.ascontiguousarray(price_usd, dtype=np.float64),
        np.ascontiguousarray(ts_ns, dtype=np.int64),
        parameters.deviation_threshold,
        heartbeat_ns,
    )
