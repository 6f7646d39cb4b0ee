"""Step series: a recorded level that holds from its time until the next one, with no look-ahead."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray


@dataclass(frozen=True, slots=True, eq=False)
class StepSeries:
    """A piecewise-constant series: ``values[i]`` holds from ``ts_ns[i]`` until ``ts_ns[i + 1]``.

    Attributes
    ----------
    ts_ns : ndarray of int64, shape (n,), strictly increasing, ns since the epoch, UTC
    values : ndarray of float64, shape (n,), in the unit of what the series records

    Examples
    --------
    >>> series = StepSeries.from_points([(10, 0.5), (20, 0.6)])
    >>> series.values_at([5, 10, 19, 20, 99])
    array([nan, 0.5, 0.5, 0.6, 0.6])
    >>> series.values_at([99], max_age_ns=50)
    array([nan])
    """

    ts_ns: NDArray[np.int64]
    values: NDArray[np.float64]

    @classmethod
    def from_points(cls, points: Iterable[tuple[int, float]]) -> StepSeries:
        """Build a series from ``(ts_ns, value)`` points in time order; a repeated stamp keeps the last."""
        pairs = list(points)
        ts_ns = np.array([ts for ts, _ in pairs], dtype=np.int64)
        values = np.array([value for _, value in pairs], dtype=np.float64)
        if np.any(np.diff(ts_ns) < 0):
            raise ValueError("points must be in time order")
        last_of_each = np.append(np.diff(ts_ns) > 0, True)
        return cls(ts_ns[last_of_each], values[last_of_each])

    def values_at(self, ts_ns: ArrayLike, max_age_ns: int | None = None) -> NDArray[np.float64]:
        """Return the value in force at each of ``ts_ns`` (the last one at or before it).

        Parameters
        ----------
        ts_ns : array_like of int, ns since the epoch, UTC
        max_age_ns : a value older than this (ns) is too old to use; ``None`` for no limit

        Returns
        -------
        ndarray of float64, the shape of ``ts_ns``; NaN before the first point or past ``max_age_ns``
        """
        times = np.asarray(ts_ns, dtype=np.int64)
        index = np.searchsorted(self.ts_ns, times, side="right") - 1
        known = index >= 0
        result = np.where(known, self.values[np.maximum(index, 0)], np.nan)
        if max_age_ns is not None:
            age_ns = times - self.ts_ns[np.maximum(index, 0)]
            result = np.where(known & (age_ns <= max_age_ns), result, np.nan)
        return result

    def value_at(self, ts_ns: int, max_age_ns: int | None = None) -> float:
        """Return the value in force at ``ts_ns``, NaN if none is (see ``values_at``)."""
        return float(self.values_at(np.array([ts_ns]), max_age_ns)[0])
