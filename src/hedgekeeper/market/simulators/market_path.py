"""One simulated market path: any model, scenarios injected, on a nanosecond time grid.

Every model gives the spot and the instantaneous variance the options market and
the books react to:

=================  =====================================================
model              variance at each point
=================  =====================================================
gbm                ``vol^2``
heston             the simulated ``v``
merton             ``vol^2 + intensity (mean_log^2 + vol_log^2)``
regime_switching   the same, for the regime the point is in
=================  =====================================================

Scenarios (``scenarios.py``) then shift the log price and scale the vol.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

import numpy as np
import pydantic
from numpy.typing import NDArray

from hedgekeeper.market.simulators.gbm import GbmParameters, simulate_gbm
from hedgekeeper.market.simulators.heston import HestonParameters, simulate_heston
from hedgekeeper.market.simulators.merton import (
    MertonParameters,
    jump_diffusion_variance,
    simulate_merton,
)
from hedgekeeper.market.simulators.regimes import (
    RegimeSwitchingParameters,
    simulate_regime_switching,
)
from hedgekeeper.market.simulators.scenarios import CrashDay, FlashCrash, scenario_overlay

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

NS_PER_SECOND = 1_000_000_000
NS_PER_YEAR = 365 * 86_400 * NS_PER_SECOND
"""Nanoseconds in an ACT/365 year."""

ModelParameters = Annotated[
    GbmParameters | HestonParameters | MertonParameters | RegimeSwitchingParameters,
    pydantic.Field(discriminator="kind"),
]
"""Any model's parameters, told apart by their ``kind`` in a configuration."""


@dataclass(frozen=True, slots=True)
class MarketPath:
    """A simulated path of the spot and its instantaneous variance.

    Attributes
    ----------
    ts_ns : ndarray of int64, shape (point_count,), ns since the epoch, UTC, evenly spaced
    spot_usd : ndarray, shape (point_count,), USD per coin
    variance : ndarray, shape (point_count,), annualised instantaneous variance, vol^2
    """

    ts_ns: IntArray
    spot_usd: FloatArray
    variance: FloatArray

    @property
    def vol(self) -> FloatArray:
        """Return the instantaneous vol ``sqrt(variance)``, annualised, decimal."""
        return np.sqrt(self.variance)


def simulate_spot_and_variance(
    model: GbmParameters | HestonParameters | MertonParameters | RegimeSwitchingParameters,
    spot_usd: float,
    dt_years: float,
    step_count: int,
    path_count: int,
    rng: np.random.Generator,
) -> tuple[FloatArray, FloatArray]:
    """Simulate any model's spot and instantaneous variance paths.

    Parameters
    ----------
    model : the parameters of one model; their type picks the model
    spot_usd : float, the spot at time 0, USD per coin, ``> 0``
    dt_years : float, step length, ACT/365 years, ``> 0``
    step_count, path_count : int, ``>= 1``
    rng : np.random.Generator

    Returns
    -------
    (spot_usd, variance) : float64 arrays, shape (path_count, step_count + 1), USD per coin
        and vol^2 (see the module docstring for the variance of each model)

    Examples
    --------
    >>> spot, variance = simulate_spot_and_variance(GbmParameters(drift=0.0, vol=0.5), 100.0,
    ...                                             1 / 365, 2, 1, np.random.default_rng(0))
    >>> spot.round(2), variance
    (array([[100.  , 100.3 ,  99.91]]), array([[0.25, 0.25, 0.25]]))
    """
    shape = (path_count, step_count + 1)
    match model:
        case GbmParameters():
            spot = simulate_gbm(spot_usd, model, dt_years, step_count, path_count, rng)
            return spot, np.full(shape, model.vol**2)
        case HestonParameters():
            paths = simulate_heston(spot_usd, model, dt_years, step_count, path_count, rng)
            return paths.spot_usd, paths.variance
        case MertonParameters():
            jumps = model.jumps
            variance = jump_diffusion_variance(
                model.vol, jumps.intensity_per_year, jumps.mean_log, jumps.vol_log
            )
            spot = simulate_merton(spot_usd, model, dt_years, step_count, path_count, rng).spot_usd
            return spot, np.full(shape, float(variance))
        case RegimeSwitchingParameters():
            regimes = simulate_regime_switching(
                spot_usd, model, dt_years, step_count, path_count, rng
            )
            return regimes.spot_usd, regimes.variance
    raise TypeError(f"unknown model parameters {type(model).__name__}")


def simulate_market_path(
    model: GbmParameters | HestonParameters | MertonParameters | RegimeSwitchingParameters,
    spot_usd: float,
    start_ts_ns: int,
    step_ns: int,
    step_count: int,
    scenarios: Sequence[CrashDay | FlashCrash],
    rng: np.random.Generator,
) -> MarketPath:
    """Simulate one path of ``model`` with ``scenarios`` injected, on a ns time grid.

    Parameters
    ----------
    model : the parameters of one model
    spot_usd : float, the spot at ``start_ts_ns``, USD per coin, ``> 0``
    start_ts_ns : int, ns since the epoch, UTC
    step_ns : int, step length, ns, ``> 0``
    step_count : int, ``>= 1``; the path has ``step_count + 1`` points
    scenarios : sequence of CrashDay or FlashCrash, timed from ``start_ts_ns``
    rng : np.random.Generator

    Returns
    -------
    MarketPath

    Examples
    --------
    A flat market (zero vol) with a 10% flash crash over 2 s, recovered over 4 s:

    >>> crash = FlashCrash(start_s=1.0, drop_fraction=0.1, drop_s=2.0, recovery_s=4.0)
    >>> path = simulate_market_path(GbmParameters(drift=0.0, vol=0.0), 100.0, 0, 10**9, 8,
    ...                             [crash], np.random.default_rng(0))
    >>> path.spot_usd.round(2)
    array([100.  , 100.  ,  94.87,  90.  ,  92.4 ,  94.87,  97.4 , 100.  , 100.  ])
    """
    spot, variance = simulate_spot_and_variance(
        model, spot_usd, step_ns / NS_PER_YEAR, step_count, 1, rng
    )
    steps = np.arange(step_count + 1, dtype=np.int64)
    overlay = scenario_overlay(scenarios, steps * (step_ns / NS_PER_SECOND))
    return MarketPath(
        ts_ns=start_ts_ns + steps * step_ns,
        spot_usd=overlay.apply_to_spot(spot[0]),
        variance=overlay.apply_to_variance(variance[0]),
    )
