"""Crash scenarios: deterministic overlays injected onto paths from any model.

A scenario is a shift of the log price and a multiplier of the vol, both functions
of the time elapsed since the start of the simulation. Applied to a simulated path
``S`` and its instantaneous variance ``v``::

    S'(t) = S(t) exp(shift(t)),   v'(t) = v(t) multiplier(t)^2

so the model's own randomness carries on beneath the crash. Shifts of several
scenarios add and multipliers multiply. The shapes, linear in log price between
knots (``np.interp``, flat outside them):

- ``CrashDay``: from 0 at ``start_s`` down to ``ln(1 - drop_fraction)`` at
  ``start_s + duration_s``, held there after: the market ends the day
  ``drop_fraction`` lower than it would have.
- ``FlashCrash``: down to ``ln(1 - drop_fraction)`` over ``drop_s`` seconds, back
  to 0 over the next ``recovery_s`` seconds.

The vol multiplier applies from ``start_s`` to the end of the move.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np
import pydantic
from numpy.typing import ArrayLike, NDArray

from hedgekeeper.config import StrictModel

FloatArray = NDArray[np.float64]

SECONDS_PER_DAY = 86_400.0


class CrashDay(StrictModel):
    """A day on which the market falls by ``drop_fraction``, spread evenly in log price.

    Attributes
    ----------
    kind : 'crash_day'
    start_s : float, seconds after the simulation start, ``>= 0``
    drop_fraction : float, the fall, decimal (0.3 is -30%), ``0 < drop_fraction < 1``
    duration_s : float, seconds over which it falls, ``> 0``; one day by default
    vol_multiplier : float, factor on the vol while it falls, ``> 0``; 1 leaves the vol as is
    """

    kind: Literal["crash_day"] = "crash_day"
    start_s: float = pydantic.Field(ge=0.0)
    drop_fraction: float = pydantic.Field(gt=0.0, lt=1.0)
    duration_s: float = pydantic.Field(default=SECONDS_PER_DAY, gt=0.0)
    vol_multiplier: float = pydantic.Field(default=1.0, gt=0.0)

    def knots(self) -> tuple[list[float], list[float]]:
        """Return the knot times (seconds after the start) and log-price shifts of the move."""
        times = [self.start_s, self.start_s + self.duration_s]
        return times, [0.0, float(np.log1p(-self.drop_fraction))]


class FlashCrash(StrictModel):
    """A fall of ``drop_fraction`` within ``drop_s`` seconds, recovered within ``recovery_s``.

    Attributes
    ----------
    kind : 'flash_crash'
    start_s : float, seconds after the simulation start, ``>= 0``
    drop_fraction : float, the fall at the trough, decimal, ``0 < drop_fraction < 1``
    drop_s : float, seconds from the start to the trough, ``> 0``
    recovery_s : float, seconds from the trough back to the pre-crash level, ``> 0``
    vol_multiplier : float, factor on the vol from start to recovery, ``> 0``
    """

    kind: Literal["flash_crash"] = "flash_crash"
    start_s: float = pydantic.Field(ge=0.0)
    drop_fraction: float = pydantic.Field(gt=0.0, lt=1.0)
    drop_s: float = pydantic.Field(gt=0.0)
    recovery_s: float = pydantic.Field(gt=0.0)
    vol_multiplier: float = pydantic.Field(default=1.0, gt=0.0)

    def knots(self) -> tuple[list[float], list[float]]:
        """Return the knot times (seconds after the start) and log-price shifts of the move."""
        trough_s = self.start_s + self.drop_s
        times = [self.start_s, trough_s, trough_s + self.recovery_s]
        return times, [0.0, float(np.log1p(-self.drop_fraction)), 0.0]


Scenario = Annotated[CrashDay | FlashCrash, pydantic.Field(discriminator="kind")]
"""Any scenario, told apart by its ``kind`` in a configuration."""


@dataclass(frozen=True, slots=True)
class Overlay:
    """The combined effect of scenarios on a time grid.

    Attributes
    ----------
    log_price_shift : ndarray, shape (point_count,), added to the log price
    vol_multiplier : ndarray, shape (point_count,), multiplies the vol, ``> 0``
    """

    log_price_shift: FloatArray
    vol_multiplier: FloatArray

    def apply_to_spot(self, spot_usd: FloatArray) -> FloatArray:
        """Return ``spot_usd exp(shift)``; ``spot_usd`` USD per coin, shape (..., point_count)."""
        return spot_usd * np.exp(self.log_price_shift)

    def apply_to_variance(self, variance: FloatArray) -> FloatArray:
        """Return ``variance multiplier^2``; ``variance`` of shape (..., point_count), vol^2."""
        return variance * self.vol_multiplier**2


def scenario_overlay(scenarios: Sequence[CrashDay | FlashCrash], elapsed_s: ArrayLike) -> Overlay:
    """Return the overlay of ``scenarios`` at the times ``elapsed_s``.

    Parameters
    ----------
    scenarios : sequence of CrashDay or FlashCrash; empty for no change
    elapsed_s : array_like, shape (point_count,), seconds since the simulation start

    Returns
    -------
    Overlay on the grid ``elapsed_s``

    Examples
    --------
    A 10% flash crash over 5 s, recovered over the next 10 s, on a 5-second grid:

    >>> overlay = scenario_overlay([FlashCrash(start_s=5.0, drop_fraction=0.1, drop_s=5.0,
    ...                                        recovery_s=10.0, vol_multiplier=3.0)],
    ...                            np.arange(0.0, 30.0, 5.0))
    >>> overlay.apply_to_spot(np.full(6, 100.0)).round(2)
    array([100.  , 100.  ,  90.  ,  94.87, 100.  , 100.  ])
    >>> overlay.vol_multiplier
    array([1., 3., 3., 3., 1., 1.])
    """
    elapsed = np.asarray(elapsed_s, dtype=np.float64)
    shift = np.zeros_like(elapsed)
    multiplier = np.ones_like(elapsed)
    for scenario in scenarios:
        times, shifts = scenario.knots()
        shift += np.interp(elapsed, times, shifts)
        inside = (elapsed >= times[0]) & (elapsed < times[-1])
        multiplier = np.where(inside, multiplier * scenario.vol_multiplier, multiplier)
    return Overlay(shift, multiplier)
