"""Heston stochastic volatility, simulated with Andersen's quadratic-exponential scheme.

The spot and its instantaneous variance follow::

    dS = drift S dt + sqrt(v) S dW_S
    dv = mean_reversion (long_run_variance - v) dt + vol_of_variance sqrt(v) dW_v
    d<W_S, W_v> = correlation dt

Scheme: Andersen (2008), "Simple and efficient simulation of the Heston stochastic
volatility model". The variance step matches the first two moments of the exact
non-central chi-square transition, with a squared normal when the variance is far
from zero and a mass at zero plus an exponential tail when it is near it, so the
variance never goes negative and the Feller condition is not needed. The log-spot
step integrates ``v`` with the trapezoid rule (``gamma1 = gamma2 = 1/2``) and is
martingale-corrected, so ``E[S(t)] = S(0) exp(drift t)`` holds in discrete time.
QE was chosen over full-truncation Euler because it stays accurate at the coarse
steps of Monte Carlo pricing (Euler needs many more steps near ``v = 0``) while
costing about the same per step.

The expected variance is ``E[v(t)] = long_run_variance + (v(0) - long_run_variance)
exp(-mean_reversion t)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pydantic
from numpy.typing import NDArray

from hedgekeeper.config import StrictModel
from hedgekeeper.market.simulators._kernels import heston_quadratic_exponential
from hedgekeeper.market.simulators.merton import JumpParameters, jump_compensator, jump_log_returns

FloatArray = NDArray[np.float64]


class HestonParameters(StrictModel):
    """Parameters of the Heston model, all annualised.

    Attributes
    ----------
    kind : 'heston', names the model in a simulation configuration
    drift : float, annualised drift of the spot, decimal
    initial_variance : float, ``v(0)``, vol^2 (0.36 is 60% vol), ``>= 0``
    long_run_variance : float, the level ``v`` reverts to, vol^2, ``> 0``
    mean_reversion_per_year : float, speed of reversion, per year, ``> 0``
    vol_of_variance : float, volatility of the variance, per sqrt(year), ``> 0``
    correlation : float, between spot and variance shocks, ``-1 < correlation < 1``
    jumps : JumpParameters or None; with jumps the model is Bates (1996): Heston plus
        compensated lognormal jumps in the spot, independent of both diffusions
    """

    kind: Literal["heston"] = "heston"
    drift: float
    initial_variance: float = pydantic.Field(ge=0.0)
    long_run_variance: float = pydantic.Field(gt=0.0)
    mean_reversion_per_year: float = pydantic.Field(gt=0.0)
    vol_of_variance: float = pydantic.Field(gt=0.0)
    correlation: float = pydantic.Field(gt=-1.0, lt=1.0)
    jumps: JumpParameters | None = None


@dataclass(frozen=True, slots=True)
class HestonPaths:
    """Simulated Heston paths.

    Attributes
    ----------
    spot_usd : ndarray, shape (path_count, step_count + 1), USD per coin
    variance : ndarray, shape (path_count, step_count + 1), instantaneous variance, vol^2, ``>= 0``
    """

    spot_usd: FloatArray
    variance: FloatArray


def simulate_heston(
    spot_usd: float,
    parameters: HestonParameters,
    dt_years: float,
    step_count: int,
    path_count: int,
    rng: np.random.Generator,
) -> HestonPaths:
    """Simulate Heston spot and variance paths with the QE scheme.

    Parameters
    ----------
    spot_usd : float, the spot at time 0, USD per coin, ``> 0``
    parameters : HestonParameters
    dt_years : float, step length, ACT/365 years, ``> 0``
    step_count, path_count : int, ``>= 1``
    rng : np.random.Generator; draws the variance normals, then the spot normals,
        each of shape (path_count, step_count), then the jumps if any

    Returns
    -------
    HestonPaths

    Examples
    --------
    >>> parameters = HestonParameters(drift=0.0, initial_variance=0.36, long_run_variance=0.25,
    ...     mean_reversion_per_year=3.0, vol_of_variance=1.0, correlation=-0.5)
    >>> paths = simulate_heston(100.0, parameters, 1 / 365, 3, 1, np.random.default_rng(5))
    >>> paths.spot_usd.round(2), paths.variance.round(4)
    (array([[100.  , 102.37, 107.42, 108.08]]), array([[0.36  , 0.3338, 0.2938, 0.2858]]))
    """
    variance_normals = rng.standard_normal((path_count, step_count))
    spot_normals = rng.standard_normal((path_count, step_count))
    log_return, variance = heston_quadratic_exponential(
        parameters.drift, parameters.initial_variance,
        parameters.mean_reversion_per_year, parameters.long_run_variance,
        parameters.vol_of_variance, parameters.correlation, dt_years,
        variance_normals, spot_normals,
    )
    jumps = parameters.jumps
    if jumps is not None:
        sizes, _ = jump_log_returns(jumps.intensity_per_year, jumps.mean_log, jumps.vol_log, dt_years,
                                    (path_count, step_count), rng)
        compensator = jumps.intensity_per_year * jump_compensator(jumps.mean_log, jumps.vol_log) * dt_years
        log_return[:, 1:] += np.cumsum(sizes - compensator, axis=1)
    return HestonPaths(spot_usd * np.exp(log_return), variance)

