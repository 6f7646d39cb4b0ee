"""Merton's jump-diffusion: GBM plus compensated log-normal jumps, stepped exactly.

Jumps arrive as a Poisson process of ``intensity_per_year``; each multiplies the
spot by ``J = exp(Y)``, ``Y ~ N(mean_log, vol_log^2)``. The drift is compensated by
``intensity k``, ``k = E[J - 1] = exp(mean_log + vol_log^2 / 2) - 1``, so that
``E[S(t)] = S(0) exp(drift t)`` whatever the jumps. Over a step of ``dt_years``::

    N ~ Poisson(intensity dt)
    ln(S(t + dt) / S(t)) = (drift - intensity k - vol^2 / 2) dt + vol sqrt(dt) Z
                           + N mean_log + sqrt(N) vol_log Z'

which is exact (the sum of ``N`` normal jump sizes is normal given ``N``).
Merton, "Option pricing when underlying stock returns are discontinuous" (1976).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pydantic
from numpy.typing import ArrayLike, NDArray

from hedgekeeper.config import StrictModel
from hedgekeeper.market.simulators.gbm import gbm_log_returns, spot_paths_from_log_returns

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


class JumpParameters(StrictModel):
    """Poisson arrivals of log-normal jumps.

    Attributes
    ----------
    intensity_per_year : float, expected jumps per ACT/365 year, ``>= 0``
    mean_log : float, mean of the log jump size ``Y`` (-0.05 is about a 5% drop)
    vol_log : float, standard deviation of ``Y``, ``>= 0``
    """

    intensity_per_year: float = pydantic.Field(ge=0.0)
    mean_log: float
    vol_log: float = pydantic.Field(ge=0.0)


class MertonParameters(StrictModel):
    """Parameters of Merton's jump-diffusion.

    Attributes
    ----------
    kind : 'merton', names the model in a simulation configuration
    drift : float, annualised drift of the spot, decimal, jumps compensated
    vol : float, annualised diffusion volatility, decimal, ``>= 0``
    jumps : JumpParameters
    """

    kind: Literal["merton"] = "merton"
    drift: float
    vol: float = pydantic.Field(ge=0.0)
    jumps: JumpParameters


@dataclass(frozen=True, slots=True)
class JumpDiffusionPaths:
    """Simulated jump-diffusion paths and how many jumps each step had.

    Attributes
    ----------
    spot_usd : ndarray, shape (path_count, step_count + 1), USD per coin
    jump_counts : ndarray of int64, shape (path_count, step_count)
    """

    spot_usd: FloatArray
    jump_counts: IntArray


def jump_compensator(mean_log: ArrayLike, vol_log: ArrayLike) -> FloatArray:
    """Return the mean relative jump ``k = E[exp(Y) - 1] = exp(mean_log + vol_log^2 / 2) - 1``.

    Parameters
    ----------
    mean_log, vol_log : array_like, broadcastable

    Returns
    -------
    ndarray of float64, the broadcast shape, decimal

    Examples
    --------
    >>> round(float(jump_compensator(-0.05, 0.1)), 6)
    -0.044003
    """
    return np.expm1(np.asarray(mean_log, dtype=np.float64) + 0.5 * np.square(vol_log))


def jump_diffusion_variance(
    vol: ArrayLike, intensity_per_year: ArrayLike, mean_log: ArrayLike, vol_log: ArrayLike
) -> FloatArray:
    """Return the variance rate of log returns, ``vol^2 + intensity (mean_log^2 + vol_log^2)``.

    The diffusion's variance plus the jumps' second moment per year: the rate at which
    quadratic variation accrues, the instantaneous variance the options market sees.

    Parameters
    ----------
    vol, intensity_per_year, mean_log, vol_log : array_like, as in ``MertonParameters``,
        broadcastable

    Returns
    -------
    ndarray of float64, the broadcast shape, annualised variance (vol^2 per year)

    Examples
    --------
    >>> round(float(jump_diffusion_variance(0.5, 10.0, -0.05, 0.1)), 4)
    0.375
    """
    jump_second_moment = np.square(mean_log) + np.square(vol_log)
    diffusion_variance = np.square(np.asarray(vol, dtype=np.float64))
    return diffusion_variance + np.multiply(intensity_per_year, jump_second_moment)


def jump_diffusion_log_returns(
    drift: ArrayLike,
    vol: ArrayLike,
    intensity_per_year: ArrayLike,
    mean_log: ArrayLike,
    vol_log: ArrayLike,
    dt_years: float,
    step_count: int,
    path_count: int,
    rng: np.random.Generator,
) -> tuple[FloatArray, IntArray]:
    """Return exact, compensated jump-diffusion log returns and each step's jump count.

    See the module docstring for the formula. Every parameter may vary per path
    and per step, which is how the regime-switching model uses it.

    Parameters
    ----------
    drift, vol : array_like, annualised, decimal, broadcastable to (path_count, step_count)
    intensity_per_year, mean_log, vol_log : array_like, as in ``JumpParameters``, broadcastable
    dt_years : float, step length, ACT/365 years, ``> 0``
    step_count, path_count : int, ``>= 1``
    rng : np.random.Generator; draws the diffusion normals, then the counts, then the jump normals

    Returns
    -------
    (log_returns, jump_counts) : float64 and int64 arrays, shape (path_count, step_count)

    Examples
    --------
    >>> returns, counts = jump_diffusion_log_returns(0.0, 0.5, 50.0, -0.05, 0.1, 1 / 365, 4, 1,
    ...                                              np.random.default_rng(3))
    >>> returns.round(4), counts
    (array([[ 0.0591, -0.0612,  0.0166, -0.0092]]), array([[0, 0, 0, 0]]))
    """
    shape = (path_count, step_count)
    compensator = np.multiply(intensity_per_year, jump_compensator(mean_log, vol_log))
    diffusion = gbm_log_returns(
        np.subtract(drift, compensator), vol, dt_years, step_count, path_count, rng
    )
    jumps, jump_counts = jump_log_returns(intensity_per_year, mean_log, vol_log, dt_years, shape, rng)
    return diffusion + jumps, jump_counts


def jump_log_returns(
    intensity_per_year: ArrayLike,
    mean_log: ArrayLike,
    vol_log: ArrayLike,
    dt_years: float,
    shape: tuple[int, int],
    rng: np.random.Generator,
) -> tuple[FloatArray, NDArray[np.int64]]:
    """Return the summed log jump sizes and the jump counts of each step (not compensated).

    Per step the count is Poisson(``intensity_per_year * dt_years``) and the sum of
    that many normal log jumps is normal with mean ``count * mean_log`` and variance
    ``count * vol_log^2``. Draws the counts, then the normals.
    """
    jump_counts = rng.poisson(np.broadcast_to(np.multiply(intensity_per_year, dt_years), shape))
    jump_normals = rng.standard_normal(shape)
    jumps = jump_counts * np.asarray(mean_log)
    jumps += np.sqrt(jump_counts) * np.asarray(vol_log) * jump_normals
    return jumps, jump_counts.astype(np.int64)


def simulate_merton(
    spot_usd: float,
    parameters: MertonParameters,
    dt_years: float,
    step_count: int,
    path_count: int,
    rng: np.random.Generator,
) -> JumpDiffusionPaths:
    """Simulate Merton jump-diffusion spot paths with exact steps.

    Parameters
    ----------
    spot_usd : float, the spot at time 0, USD per coin, ``> 0``
    parameters : MertonParameters
    dt_years : float, step length, ACT/365 years, ``> 0``
    step_count, path_count : int, ``>= 1``
    rng : np.random.Generator

    Returns
    -------
    JumpDiffusionPaths, spot of shape (path_count, step_count + 1) and jump counts

    Examples
    --------
    >>> parameters = MertonParameters(drift=0.0, vol=0.5,
    ...     jumps=JumpParameters(intensity_per_year=50.0, mean_log=-0.05, vol_log=0.1))
    >>> paths = simulate_merton(100.0, parameters, 1 / 365, 4, 1, np.random.default_rng(3))
    >>> paths.spot_usd.round(2)
    array([[100.  , 106.09,  99.79, 101.46, 100.54]])
    """
    jumps = parameters.jumps
    log_returns, jump_counts = jump_diffusion_log_returns(
        parameters.drift, parameters.vol, jumps.intensity_per_year, jumps.mean_log, jumps.vol_log,
        dt_years, step_count, path_count, rng,
    )
    return JumpDiffusionPaths(spot_paths_from_log_returns(spot_usd, log_returns), jump_counts)
