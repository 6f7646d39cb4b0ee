"""Option quotes around the surface's mark vol, wider when the market is more volatile.

The quoted width in vol grows with the instantaneous vol::

    spread_vol = base_spread_vol + spread_per_vol vol
    bid_vol = mark_vol - spread_vol / 2,   ask_vol = mark_vol + spread_vol / 2

A bid vol that would not be positive is left empty (NaN), as on a venue where
nobody bids a far wing.
"""

from __future__ import annotations

import numpy as np
import pydantic
from numpy.typing import ArrayLike, NDArray

from hedgekeeper.config import StrictModel

FloatArray = NDArray[np.float64]


class OptionQuoteParameters(StrictModel):
    """Width of option quotes in vol.

    Attributes
    ----------
    base_spread_vol : float, bid-ask width at zero vol, annualised vol (0.01 is 1 vol point),
        ``> 0``
    spread_per_vol : float, width added per 1.00 of instantaneous vol, ``>= 0``
    """

    base_spread_vol: float = pydantic.Field(gt=0.0)
    spread_per_vol: float = pydantic.Field(ge=0.0)


def option_quote_vols(
    mark_vol: ArrayLike, vol: ArrayLike, parameters: OptionQuoteParameters
) -> tuple[FloatArray, FloatArray]:
    """Return the bid and ask vols around ``mark_vol``; see the module docstring.

    Parameters
    ----------
    mark_vol : array_like, the surface's implied vol, annualised, decimal, ``> 0``
    vol : array_like, instantaneous vol of the underlying, annualised, ``>= 0``, broadcastable
    parameters : OptionQuoteParameters

    Returns
    -------
    (bid_vol, ask_vol) : float64 arrays of the broadcast shape; bid NaN where it would be ``<= 0``

    Examples
    --------
    >>> option_quote_vols(np.array([0.6, 0.01]), 0.5, OptionQuoteParameters(base_spread_vol=0.01,
    ...                   spread_per_vol=0.04))
    (array([0.585,   nan]), array([0.615, 0.025]))
    """
    mark = np.asarray(mark_vol, dtype=np.float64)
    vol_array = np.asarray(vol, dtype=np.float64)
    half_spread = 0.5 * (parameters.base_spread_vol + parameters.spread_per_vol * vol_array)
    bid = mark - half_spread
    return np.where(bid > 0.0, bid, np.nan), mark + half_spread
