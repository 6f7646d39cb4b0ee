"""Order slicing: a parent order cut into child slices of whole lots at set times.

A schedule is given as the fraction of the parent done after each slice (any
trajectory: TWAP's straight line, Almgren-Chriss's ``almgren_chriss.py``). Turning
it into lots rounds the *cumulative* size, not each slice, so that the slices sum
exactly to the parent and each cumulative size is within half a lot of the
trajectory. Slices rounded to nothing are dropped.

TWAP (time-weighted average price) trades equal slices at fixed intervals:
slice ``j`` of ``N`` at ``start + j * horizon / N``, the cumulative fraction done
after it ``(j + 1) / N``; with ``L`` lots each slice is ``floor(L / N)`` or
``ceil(L / N)`` lots.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from numpy.typing import ArrayLike

from hedgekeeper.errors import BadData
from hedgekeeper.portfolio.values import to_decimal


@dataclass(frozen=True, slots=True)
class ScheduledSlice:
    """One child order of a schedule.

    Attributes
    ----------
    ts_ns : int, when to send it, ns since the epoch (UTC)
    size_coin : Decimal, a whole number of lots, > 0 (the side is the parent's)
    """

    ts_ns: int
    size_coin: Decimal


def whole_lots(size_coin: Decimal | float | str, lot_coin: Decimal | float | str) -> tuple[int, Decimal]:
    """Return ``size_coin`` as a number of lots, and the lot as a Decimal.

    Raises
    ------
    BadData
        If the lot is not > 0, the size is negative, or the size is not a whole number of lots.

    >>> whole_lots("1.25", "0.05")
    (25, Decimal('0.05'))
    """
    size = to_decimal(size_coin, "size_coin")
    lot = to_decimal(lot_coin, "lot_coin")
    if not lot > 0:
        raise BadData(f"lot_coin must be > 0, got {lot}")
    if size < 0:
        raise BadData(f"size_coin must be >= 0 (the side is separate), got {size}")
    lots, rest = divmod(size, lot)
    if rest != 0:
        raise BadData(f"size {size} coin is not a whole number of lots of {lot} coin")
    return int(lots), lot


def lot_rounded_slices(
    cumulative_fraction: ArrayLike,
    slice_times_ns: Sequence[int],
    size_coin: Decimal | float | str,
    lot_coin: Decimal | float | str,
) -> tuple[ScheduledSlice, ...]:
    """Return the slices of a trajectory, in whole lots summing exactly to the parent.

    Parameters
    ----------
    cumulative_fraction : array of float in [0, 1], non-decreasing, the fraction of
        the parent done after each slice; the last is taken as 1
    slice_times_ns : int per slice, ns since the epoch (UTC)
    size_coin : parent size, coin, a whole number of lots
    lot_coin : lot size, coin, > 0

    Returns
    -------
    tuple of ScheduledSlice, without the slices rounded to zero lots

    Raises
    ------
    BadData
        If the fractions are not non-decreasing within [0, 1], or do not match the times.

    Examples
    --------
    Half the parent at once, a quarter after each of two more intervals, 7 lots of 0.1:

    >>> [str(s.size_coin) for s in lot_rounded_slices([0.5, 0.75, 1.0], [0, 10, 20], "0.7", "0.1")]
    ['0.4', '0.1', '0.2']
    """
    fractions = np.asarray(cumulative_fraction, dtype=np.float64)
    if fractions.ndim != 1 or fractions.size != len(slice_times_ns) or fractions.size == 0:
        raise BadData(
            f"need one cumulative fraction per slice time, got {fractions.size} and {len(slice_times_ns)}"
        )
    if not (np.all(np.isfinite(fractions)) and np.all(np.diff(fractions) >= 0.0)
            and fractions[0] >= 0.0 and fractions[-1] <= 1.0 + 1e-12):
        raise BadData("cumulative fractions must be finite, non-decreasing and within [0, 1]")
    parent_lots, lot = whole_lots(size_coin, lot_coin)
    cumulative_lots = np.rint(fractions * parent_lots).astype(np.int64)
    cumulative_lots[-1] = parent_lots
    lots = np.diff(cumulative_lots, prepend=0)
    return tuple(
        ScheduledSlice(int(ts_ns), count * lot)
        for ts_ns, count in zip(slice_times_ns, lots.tolist())
        if count > 0
    )


def twap_schedule(
    size_coin: Decimal | float | str,
    lot_coin: Decimal | float | str,
    start_ns: int,
    horizon_ns: int,
    slice_count: int,
) -> tuple[ScheduledSlice, ...]:
    """Return a TWAP schedule: ``slice_count`` equal slices, one every ``horizon_ns / slice_count``.

    Parameters
    ----------
    size_coin : parent size, coin, a whole number of lots
    lot_coin : lot size, coin, > 0
    start_ns : int, time of the first slice, ns since the epoch (UTC)
    horizon_ns : int >= 0, ns over which the slices are spread (the last is sent at
        ``start_ns + horizon_ns * (slice_count - 1) / slice_count``)
    slice_count : int >= 1

    Returns
    -------
    tuple of ScheduledSlice, each ``floor`` or ``ceil`` of the parent's lots over
    ``slice_count``, summing exactly to the parent

    Examples
    --------
    1 coin in lots of 0.1 over 4 slices a minute apart:

    >>> slices = twap_schedule("1", "0.1", 0, 240_000_000_000, 4)
    >>> [(s.ts_ns // 1_000_000_000, str(s.size_coin)) for s in slices]
    [(0, '0.2'), (60, '0.3'), (120, '0.3'), (180, '0.2')]
    """
    if slice_count < 1:
        raise BadData(f"slice_count must be >= 1, got {slice_count}")
    if horizon_ns < 0:
        raise BadData(f"horizon_ns must be >= 0, got {horizon_ns}")
    steps = np.arange(1, slice_count + 1)
    times = [start_ns + (j * horizon_ns) // slice_count for j in range(slice_count)]
    return lot_rounded_slices(steps / slice_count, times, size_coin, lot_coin)
