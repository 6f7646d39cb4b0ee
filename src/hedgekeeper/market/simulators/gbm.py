"""Geometric Brownian motion, stepped exactly in log space.

Under ``dS = drift S dt + vol S dW`` the log return over a step of ``dt_years`` is
exactly normal::

    ln(S(t + dt) / S(t)) = (drift - vol^2 / 2) dt + vol sqrt(dt) Z,   Z ~ N(0, 1)

so the paths carry no discretisation error at any step size. ``drift`` and ``vol``
may vary per path and per step (the regime-switching model passes each regime's).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pydantic
from numpy.typing import ArrayLike, NDArray

from hedgekeeper.config import StrictModel

FloatArray = NDArray[np.float64]


class GbmParameters(StrictModel):
    """Parameters of geometric Brownian motion.

    Attributes
    ----------
    kind : 'gbm', names the model in a simulation configuration
    drift : float, annualised drift of the spot, decimal; ``E[S(t)] = S(0) exp(drift t)``
    vol : float, annualised volatility, decimal (0.8 is 80%), ``>= 0``
    """

    kind: Literal["gbm"] = "gbm"
    drift: float
    vol: float = pydantic.Field(ge=0.0)


def gbm_log_returns(
    drift: ArrayLike,
    vol: ArrayLike,
    dt_years: float,
    step_count: int,
    path_count: int,
    rng: np.random.Generator,
) -> FloatArray:
    """Return exact GBM log returns ``(drift - vol^2 / 2) dt + vol sqrt(dt) Z``.

    Parameters
    ----------
    drift : array_like, annualised, decimal, broadcastable to (path_count, step_count)
    vol : array_like, annualised, decimal, ``>= 0``, broadcastable to (path_count, step_count)
    dt_years : float, step length, ACT/365 years, ``> 0``
    step_count, path_count : int, ``>= 1``
    rng : np.random.Generator, the source of the normals ``Z``

    Returns
    -------
    ndarray of float64, shape (path_count, step_count), log returns per step

    Examples
    --------
    >>> gbm_log_returns(0.0, 0.8, 1 / 365, 3, 1, np.random.default_rng(7)).round(4)
    array([[-0.0008,  0.0116, -0.0124]])
    """
    drift_array = np.asarray(drift, dtype=np.float64)
    vol_array = np.asarray(vol, dtype=np.float64)
    normals = rng.standard_normal((path_count, step_count))
    return (drift_array - 0.5 * vol_array**2) * dt_years + vol_array * np.sqrt(dt_years) * normals


def spot_paths_from_log_returns(spot_usd: float, log_returns: FloatArray) -> FloatArray:
    """Return spot paths ``S(0) exp(cumulative log return)``, starting at ``spot_usd``.

    Parameters
    ----------
    spot_usd : float, the spot at time 0, USD per coin, ``> 0``
    log_returns : ndarray, shape (path_count, step_count)

    Returns
    -------
    ndarray of float64, shape (path_count, step_count + 1), USD per coin; column 0 is ``spot_usd``

    Examples
    --------
    >>> spot_paths_from_log_returns(100.0, np.log(np.array([[1.1, 0.5]])))
    array([[100., 110.,  55.]])
    """
    cumulative = np.cumsum(log_returns, axis=1)
    start = np.zeros((log_returns.shape[0], 1))
    return spot_usd * np.exp(np.concatenate([start, cumulative], axis=1))


def simulate_gbm(
    spot_usd: float,
    parameters: GbmParameters,
    dt_years: float,
    step_count: int,
    path_count: int,
    rng: np.random.Generator,
) -> FloatArray:
    """Simulate GBM spot paths with exact log-normal steps.

    Parameters
    ----------
    spot_usd : float, the spot at time 0, USD per coin, ``> 0``
    parameters : GbmParameters
    dt_years : float, step length, ACT/365 years, ``> 0``
    step_count, path_count : int, ``>= 1``
    rng : np.random.Generator

    Returns
    -------
    ndarray of float64, shape (path_count, step_count + 1), USD per coin

    Examples
    --------
    >>> simulate_gbm(100.0, GbmParameters(drift=0.0, vol=0.8), 1 / 365, 3, 1,
    ...              np.random.default_rng(7)).round(2)
    array([[100.  ,  99.92, 101.09,  99.85]])
    """
    log_returns = gbm_log_returns(
        parameters.drift, parameters.vol, dt_years, step_count, path_count, rng
    )
    return spot_paths_from_log_returns(spot_usd, log_returns)
