"""Regime switching: a Markov chain between regimes, each with its own drift, vol and jumps.

The regime is a continuous-time Markov chain: regime ``i`` lasts an exponential
time of mean ``mean_duration_hours``, then moves to one of the other regimes with
equal probability. Its generator ``Q`` has ``Q[i, i] = -1 / d_i`` and
``Q[i, j] = 1 / (d_i (n - 1))``, so over a step of ``dt_years`` the chain moves by
the transition matrix ``P = expm(Q dt)`` (rows sum to one). Within a step the spot
follows the jump-diffusion of the regime the step starts in (``merton.py``, exact
given the regime). Hamilton, "A new approach to the economic analysis of
nonstationary time series and the business cycle" (1989).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pydantic
import scipy.linalg
from numpy.typing import ArrayLike, NDArray

from hedgekeeper.config import StrictModel
from hedgekeeper.errors import BadData
from hedgekeeper.market.simulators._kernels import markov_chain
from hedgekeeper.market.simulators.gbm import spot_paths_from_log_returns
from hedgekeeper.market.simulators.merton import (
    JumpParameters,
    jump_diffusion_log_returns,
    jump_diffusion_variance,
)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

HOURS_PER_YEAR = 365.0 * 24.0

_NO_JUMPS = JumpParameters(intensity_per_year=0.0, mean_log=0.0, vol_log=0.0)


class RegimeParameters(StrictModel):
    """One regime: its dynamics and how long it lasts.

    Attributes
    ----------
    name : str, e.g. 'calm' or 'stressed'
    drift : float, annualised drift of the spot, decimal, jumps compensated
    vol : float, annualised diffusion volatility, decimal, ``>= 0``
    jumps : JumpParameters, or None for no jumps
    mean_duration_hours : float, expected time spent in the regime per visit, hours, ``> 0``
    """

    name: str
    drift: float
    vol: float = pydantic.Field(ge=0.0)
    jumps: JumpParameters | None = None
    mean_duration_hours: float = pydantic.Field(gt=0.0)


class RegimeSwitchingParameters(StrictModel):
    """Parameters of the regime-switching model.

    Attributes
    ----------
    kind : 'regime_switching', names the model in a simulation configuration
    regimes : list of RegimeParameters, at least two, names unique
    initial_regime : str, the name of the regime at time 0
    """

    kind: Literal["regime_switching"] = "regime_switching"
    regimes: list[RegimeParameters] = pydantic.Field(min_length=2)
    initial_regime: str

    @pydantic.field_validator("initial_regime")
    @classmethod
    def _initial_regime_is_named(cls, value: str, info: pydantic.ValidationInfo) -> str:
        names = [regime.name for regime in info.data.get("regimes", [])]
        if len(set(names)) != len(names):
            raise ValueError(f"regime names must be unique, got {names}")
        if names and value not in names:
            raise ValueError(f"{value!r} is not one of the regimes {names}")
        return value

    def initial_index(self) -> int:
        """Return the index of ``initial_regime`` in ``regimes``."""
        return [regime.name for regime in self.regimes].index(self.initial_regime)


@dataclass(frozen=True, slots=True)
class RegimePaths:
    """Simulated regime-switching paths.

    Attributes
    ----------
    spot_usd : ndarray, shape (path_count, step_count + 1), USD per coin
    regime : ndarray of int64, shape (path_count, step_count + 1), index into the regimes;
        step ``i`` (from point ``i`` to ``i + 1``) moves with the dynamics of ``regime[:, i]``
    variance : ndarray, shape (path_count, step_count + 1), the current regime's annualised
        variance of log returns, ``vol^2 + intensity (mean_log^2 + vol_log^2)``
    """

    spot_usd: FloatArray
    regime: IntArray
    variance: FloatArray


def transition_matrix(mean_durations_years: ArrayLike, dt_years: float) -> FloatArray:
    """Return the one-step transition matrix ``expm(Q dt)`` of the regime chain.

    Parameters
    ----------
    mean_durations_years : array_like, shape (n,), expected stay in each regime, years, ``> 0``
    dt_years : float, step length, ACT/365 years, ``> 0``

    Returns
    -------
    ndarray of float64, shape (n, n), ``P[i, j]`` the probability of being in ``j``
    one step after being in ``i``

    Examples
    --------
    Calm lasts 30 days and stress 3 days on average; one-day steps:

    >>> transition_matrix(np.array([30.0, 3.0]) / 365.0, 1 / 365).round(4)
    array([[0.9721, 0.0279],
           [0.2791, 0.7209]])
    """
    durations = np.asarray(mean_durations_years, dtype=np.float64)
    count = durations.size
    leave_rate = 1.0 / durations
    generator = np.repeat((leave_rate / (count - 1))[:, None], count, axis=1)
    np.fill_diagonal(generator, -leave_rate)
    return scipy.linalg.expm(generator * dt_years)


def stationary_distribution(transition: ArrayLike) -> FloatArray:
    """Return the stationary distribution ``pi = pi P`` of an irreducible transition matrix.

    Parameters
    ----------
    transition : array_like, shape (n, n), rows sum to one

    Returns
    -------
    ndarray of float64, shape (n,), probabilities summing to one

    Examples
    --------
    >>> stationary_distribution(np.array([[0.9, 0.1], [0.3, 0.7]])).round(4)
    array([0.75, 0.25])
    """
    matrix = _checked_transition(transition)
    count = matrix.shape[0]
    system = np.vstack([matrix.T - np.eye(count), np.ones((1, count))])
    target = np.concatenate([np.zeros(count), [1.0]])
    return np.linalg.lstsq(system, target, rcond=None)[0]


def simulate_markov_chain(
    transition: ArrayLike,
    initial_state: int,
    step_count: int,
    path_count: int,
    rng: np.random.Generator,
) -> IntArray:
    """Simulate a discrete-time Markov chain.

    Parameters
    ----------
    transition : array_like, shape (n, n), ``P[i, j]`` probability of ``i -> j``, rows sum to one
    initial_state : int, in ``[0, n)``
    step_count, path_count : int, ``>= 1``
    rng : np.random.Generator; draws one uniform per path and step

    Returns
    -------
    ndarray of int64, shape (path_count, step_count + 1), the state at each point

    Raises
    ------
    BadData
        If the matrix is not square, has a negative entry or a row not summing to one.

    Examples
    --------
    >>> simulate_markov_chain(np.array([[0.9, 0.1], [0.3, 0.7]]), 0, 8, 1, np.random.default_rng(1))
    array([[0, 0, 1, 0, 1, 1, 1, 1, 1]])
    """
    matrix = _checked_transition(transition)
    uniforms = rng.random((path_count, step_count))
    return markov_chain(np.cumsum(matrix, axis=1), int(initial_state), uniforms)


def simulate_regime_switching(
    spot_usd: float,
    parameters: RegimeSwitchingParameters,
    dt_years: float,
    step_count: int,
    path_count: int,
    rng: np.random.Generator,
) -> RegimePaths:
    """Simulate regime-switching jump-diffusion paths.

    Parameters
    ----------
    spot_usd : float, the spot at time 0, USD per coin, ``> 0``
    parameters : RegimeSwitchingParameters
    dt_years : float, step length, ACT/365 years, ``> 0``
    step_count, path_count : int, ``>= 1``
    rng : np.random.Generator; draws the regime chain, then the returns

    Returns
    -------
    RegimePaths

    Examples
    --------
    >>> parameters = RegimeSwitchingParameters(initial_regime="calm", regimes=[
    ...     RegimeParameters(name="calm", drift=0.0, vol=0.4, mean_duration_hours=24.0),
    ...     RegimeParameters(name="stressed", drift=-0.5, vol=1.2, mean_duration_hours=6.0)])
    >>> rng = np.random.default_rng(2)
    >>> paths = simulate_regime_switching(100.0, parameters, 1 / 365 / 24, 6, 1, rng)
    >>> paths.regime
    array([[0, 0, 0, 0, 0, 0, 0]])
    >>> paths.spot_usd.round(2)
    array([[100.  ,  99.86, 100.19, 100.31, 100.07, 100.49, 100.36]])
    """
    durations_hours = np.array([regime.mean_duration_hours for regime in parameters.regimes])
    transition = transition_matrix(durations_hours / HOURS_PER_YEAR, dt_years)
    regime = simulate_markov_chain(
        transition, parameters.initial_index(), step_count, path_count, rng
    )
    drift, vol, intensity, mean_log, vol_log = _dynamics_per_regime(parameters)
    step_regime = regime[:, :-1]
    log_returns, _ = jump_diffusion_log_returns(
        drift[step_regime], vol[step_regime], intensity[step_regime], mean_log[step_regime],
        vol_log[step_regime], dt_years, step_count, path_count, rng,
    )
    variance = jump_diffusion_variance(vol, intensity, mean_log, vol_log)[regime]
    return RegimePaths(spot_paths_from_log_returns(spot_usd, log_returns), regime, variance)


def _dynamics_per_regime(parameters: RegimeSwitchingParameters) -> tuple[FloatArray, ...]:
    # (drift, vol, intensity_per_year, mean_log, vol_log), each of shape (n_regimes,).
    jumps = [regime.jumps or _NO_JUMPS for regime in parameters.regimes]
    return (
        np.array([regime.drift for regime in parameters.regimes]),
        np.array([regime.vol for regime in parameters.regimes]),
        np.array([jump.intensity_per_year for jump in jumps]),
        np.array([jump.mean_log for jump in jumps]),
        np.array([jump.vol_log for jump in jumps]),
    )


def _checked_transition(transition: ArrayLike) -> FloatArray:
    matrix = np.asarray(transition, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise BadData(f"a transition matrix must be square, got shape {matrix.shape}")
    if not np.all(np.isfinite(matrix)) or np.any(matrix < 0.0):
        raise BadData("a transition matrix must have finite, non-negative entries")
    row_sums = matrix.sum(axis=1)
    if not np.allclose(row_sums, 1.0, rtol=0.0, atol=1e-9):
        raise BadData(f"transition matrix rows must sum to one, got {row_sums.tolist()}")
    return matrix
