"""Time as integer nanoseconds since the epoch, UTC: constants, conversions and ACT/365 years.

Every layer keeps time as ``ts_ns`` and imports its units and conversions from
here. Conversions are exact integer arithmetic (no float seconds), so a
microsecond or millisecond time maps to a whole number of nanoseconds and sorts
exactly as given. Year fractions are ACT/365 in calendar time: a year is 365 days
of 86,400 s.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from hedgekeeper.errors import BadData

NS_PER_MS = 1_000_000
NS_PER_SECOND = 1_000_000_000
NS_PER_MINUTE = 60 * NS_PER_SECOND
NS_PER_HOUR = 60 * NS_PER_MINUTE
NS_PER_DAY = 24 * NS_PER_HOUR
NS_PER_YEAR = 365 * NS_PER_DAY
"""An ACT/365 year."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class TimeSource(Protocol):
    """Anything that tells the time: the engine's clocks (``engine/clock.py``) and whatever wraps them."""

    def now_ns(self) -> int:
        """Return the current time, ns since the epoch (UTC)."""
        ...


def datetime_to_ns(moment: datetime) -> int:
    """Return a timezone-aware datetime as integer ns since the epoch, exactly.

    Raises
    ------
    BadData
        If ``moment`` has no timezone (a parser of text known to be UTC attaches it first).

    >>> datetime_to_ns(datetime(2025, 6, 27, 8, tzinfo=UTC))
    1751011200000000000
    """
    if moment.tzinfo is None:
        raise BadData(f"{moment.isoformat()} has no timezone; give a UTC offset")
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1000


def format_ns(ts_ns: int) -> str:
    """Return ``ts_ns`` as an ISO 8601 UTC time, for messages and reports.

    >>> format_ns(1751011200000000000)
    '2025-06-27T08:00:00Z'
    """
    moment = _EPOCH + timedelta(microseconds=ts_ns // 1000)
    fraction = "" if ts_ns % NS_PER_SECOND == 0 else f".{ts_ns % NS_PER_SECOND:09d}"
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"


def year_fraction(
    start_ns: int | NDArray[np.int64], end_ns: int | NDArray[np.int64]
) -> float | NDArray[np.float64]:
    """Return the ACT/365 calendar year fraction from ``start_ns`` to ``end_ns``.

    Returns a float for scalar times, else an ndarray of the broadcast shape.

    >>> year_fraction(0, 73 * NS_PER_DAY)
    0.2
    """
    years = (np.asarray(end_ns, dtype=np.int64) - np.asarray(start_ns, dtype=np.int64)) / NS_PER_YEAR
    return float(years) if years.ndim == 0 else years
