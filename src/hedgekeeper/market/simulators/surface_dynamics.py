"""The options market moving with the path: an SSVI surface driven by the instantaneous vol.

At each point of a ``MarketPath`` the surface is Gatheral & Jacquier's SSVI
("Arbitrage-free SVI volatility surfaces", 2014) in forward log-moneyness
``k = ln(K / F)``, ``F = S exp(basis_rate T)`` (sticky moneyness: the smile moves
with the forward)::

    w(k, T) = theta_T / 2 (1 + rho phi k + sqrt((phi k + rho)^2 + 1 - rho^2))
    phi = eta / sqrt(theta_T (1 + theta_T))                  (power law, gamma = 1/2)

The ATM total variance ``theta_T = w(0, T)`` is the expected integrated variance of
a mean-reverting variance that starts at the path's instantaneous ``v``::

    theta_T = long_run_vol^2 T + (v - long_run_vol^2) (1 - exp(-mean_reversion T)) / mean_reversion

so the ATM vol tends to ``sqrt(v)`` at short expiries and to ``long_run_vol`` at
long ones (with Heston, ``long_run_vol^2`` and ``mean_reversion`` set to its
``long_run_variance`` and ``mean_reversion_per_year`` make it Heston's own
expected variance). ``theta_T`` grows with ``T`` whatever ``v``.

Skew steepens in stress. The stress level ``s = clip((sqrt(v) - calm_vol) /
(stressed_vol - calm_vol), 0, 1)`` moves ``rho`` linearly from ``calm_rho`` to
``stressed_rho`` and the ratio ``eta (1 + |rho|) / 2`` linearly between its calm and
stressed values. The ATM skew ``d vol / d k = rho eta / (2 sqrt(T (1 + theta_T)))``.

No static arbitrage at any point: ``theta_T`` rises with ``T`` and the power law
with ``gamma = 1/2`` satisfies Gatheral & Jacquier's Theorem 4.1 (no calendar
spread arbitrage); ``eta (1 + |rho|) <= 2``, which holds all along ``s`` since that
ratio is what is interpolated, gives no butterfly arbitrage (their Remark 4.4).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pydantic
from numpy.typing import ArrayLike, NDArray

from hedgekeeper.config import StrictModel
from hedgekeeper.errors import BadData
from hedgekeeper.market.simulators.market_path import NS_PER_YEAR, MarketPath
from hedgekeeper.pricing.surface import VolSurface
from hedgekeeper.pricing.svi import SviParameters, SviSlice

FloatArray = NDArray[np.float64]

MAX_WING_RATIO = 2.0
"""Largest ``eta (1 + |rho|)``: Gatheral & Jacquier's bound for no butterfly arbitrage."""


class SurfaceParameters(StrictModel):
    """How the SSVI surface follows the instantaneous vol.

    Attributes
    ----------
    long_run_vol : float, the ATM vol of long expiries, annualised, decimal, ``> 0``
    mean_reversion_per_year : float, how fast the ATM term structure reverts, per year, ``> 0``
    calm_vol, stressed_vol : float, instantaneous vols at which the smile has its calm
        and its stressed shape, annualised, ``0 <= calm_vol < stressed_vol``
    calm_rho, stressed_rho : float, SSVI skew in each state, ``-1 < rho < 1``
        (negative: puts richer than calls)
    calm_eta, stressed_eta : float, SSVI curvature level in each state, ``> 0``,
        with ``eta (1 + |rho|) <= 2``
    basis_rate : float, annualised; the forward is ``F = S exp(basis_rate T)``
    """

    long_run_vol: float = pydantic.Field(gt=0.0)
    mean_reversion_per_year: float = pydantic.Field(gt=0.0)
    calm_vol: float = pydantic.Field(ge=0.0)
    stressed_vol: float
    calm_rho: float = pydantic.Field(gt=-1.0, lt=1.0)
    stressed_rho: float = pydantic.Field(gt=-1.0, lt=1.0)
    calm_eta: float = pydantic.Field(gt=0.0)
    stressed_eta: float = pydantic.Field(gt=0.0)
    basis_rate: float = 0.0

    @pydantic.field_validator("stressed_vol")
    @classmethod
    def _stressed_above_calm(cls, value: float, info: pydantic.ValidationInfo) -> float:
        calm = info.data.get("calm_vol")
        if calm is not None and not value > calm:
            raise ValueError(f"stressed_vol {value} must exceed calm_vol {calm}")
        return value

    @pydantic.field_validator("calm_eta", "stressed_eta")
    @classmethod
    def _wing_ratio_bounded(cls, value: float, info: pydantic.ValidationInfo) -> float:
        rho = info.data.get(info.field_name.replace("eta", "rho"))
        if rho is not None and value * (1.0 + abs(rho)) > MAX_WING_RATIO:
            raise ValueError(
                f"eta (1 + |rho|) = {value * (1.0 + abs(rho)):.4g} exceeds {MAX_WING_RATIO}, "
                "which admits butterfly arbitrage"
            )
        return value


def atm_total_variance(
    variance: ArrayLike, t_years: ArrayLike, parameters: SurfaceParameters
) -> FloatArray:
    """Return ``theta_T``, the ATM total variance of expiry ``T`` given the instantaneous variance.

    ``theta_T = l T + (v - l) (1 - exp(-kappa T)) / kappa``, with ``l = long_run_vol^2`` and
    ``kappa = mean_reversion_per_year``.

    Parameters
    ----------
    variance : array_like, instantaneous variance ``v``, vol^2, ``>= 0``
    t_years : array_like, time to expiry, ACT/365 years, ``> 0``, broadcastable with ``variance``
    parameters : SurfaceParameters

    Returns
    -------
    ndarray of float64, the broadcast shape, total variance (vol^2 years), ``> 0``

    Examples
    --------
    >>> parameters = SurfaceParameters(long_run_vol=0.6, mean_reversion_per_year=4.0, calm_vol=0.5,
    ...     stressed_vol=1.2, calm_rho=-0.2, stressed_rho=-0.6, calm_eta=1.0, stressed_eta=1.2)
    >>> t_years = np.array([1 / 365, 0.25, 1.0])
    >>> np.sqrt(atm_total_variance(0.81, t_years, parameters) / t_years).round(4)
    array([0.8986, 0.8028, 0.6859])
    """
    t = np.asarray(t_years, dtype=np.float64)
    long_run_variance = parameters.long_run_vol**2
    kappa = parameters.mean_reversion_per_year
    reverting = -np.expm1(-kappa * t) / kappa
    return long_run_variance * t + (np.asarray(variance) - long_run_variance) * reverting


def skew_parameters(
    variance: ArrayLike, parameters: SurfaceParameters
) -> tuple[FloatArray, FloatArray]:
    """Return the SSVI ``(rho, eta)`` for the stress level of the instantaneous variance.

    ``s = clip((sqrt(v) - calm_vol) / (stressed_vol - calm_vol), 0, 1)``;
    ``rho`` and ``eta (1 + |rho|)`` move linearly in ``s`` from calm to stressed.

    Parameters
    ----------
    variance : array_like, instantaneous variance, vol^2, ``>= 0``
    parameters : SurfaceParameters

    Returns
    -------
    (rho, eta) : float64 arrays of the shape of ``variance``

    Examples
    --------
    >>> parameters = SurfaceParameters(long_run_vol=0.6, mean_reversion_per_year=4.0, calm_vol=0.5,
    ...     stressed_vol=1.2, calm_rho=-0.2, stressed_rho=-0.6, calm_eta=1.0, stressed_eta=1.2)
    >>> rho, eta = skew_parameters(np.array([0.16, 0.7225, 2.25]), parameters)
    >>> rho.round(4), eta.round(4)
    (array([-0.2, -0.4, -0.6]), array([1.    , 1.1143, 1.2   ]))
    """
    stress = np.clip(
        (np.sqrt(np.asarray(variance, dtype=np.float64)) - parameters.calm_vol)
        / (parameters.stressed_vol - parameters.calm_vol),
        0.0,
        1.0,
    )
    rho = parameters.calm_rho + stress * (parameters.stressed_rho - parameters.calm_rho)
    calm_ratio = parameters.calm_eta * (1.0 + abs(parameters.calm_rho))
    stressed_ratio = parameters.stressed_eta * (1.0 + abs(parameters.stressed_rho))
    ratio = calm_ratio + stress * (stressed_ratio - calm_ratio)
    return rho, ratio / (1.0 + np.abs(rho))


def ssvi_total_variance(
    log_moneyness: ArrayLike, atm_variance: ArrayLike, rho: ArrayLike, eta: ArrayLike
) -> FloatArray:
    """Return the SSVI total variance of the power law with exponent one half.

    ``w = theta / 2 (1 + rho phi k + sqrt((phi k + rho)^2 + 1 - rho^2))``,
    ``phi = eta / sqrt(theta (1 + theta))``.

    Parameters
    ----------
    log_moneyness : array_like, ``k = ln(K / F)``
    atm_variance : array_like, ``theta``, ATM total variance, vol^2 years, ``> 0``
    rho, eta : array_like, SSVI skew and curvature level; all four broadcastable

    Returns
    -------
    ndarray of float64, the broadcast shape, total variance (vol^2 years)

    Examples
    --------
    >>> ssvi_total_variance(np.array([-0.2, 0.0, 0.2]), 0.04, -0.4, 1.0).round(5)
    array([0.06099, 0.04   , 0.03385])
    """
    k = np.asarray(log_moneyness, dtype=np.float64)
    theta = np.asarray(atm_variance, dtype=np.float64)
    rho_array = np.asarray(rho, dtype=np.float64)
    phi = np.asarray(eta) / np.sqrt(theta * (1.0 + theta))
    root = np.sqrt((phi * k + rho_array) ** 2 + 1.0 - rho_array**2)
    return 0.5 * theta * (1.0 + rho_array * phi * k + root)


def ssvi_slice(t_years: float, atm_variance: float, rho: float, eta: float) -> SviSlice:
    """Return an SSVI slice as raw SVI (Gatheral & Jacquier 2014, section 4).

    ``a = theta (1 - rho^2) / 2``, ``b = theta phi / 2``, ``rho``, ``m = -rho / phi``,
    ``sigma = sqrt(1 - rho^2) / phi``.

    Parameters
    ----------
    t_years : float, the slice's expiry, ACT/365 years, ``> 0``
    atm_variance : float, ``theta``, vol^2 years, ``> 0``
    rho, eta : float, SSVI skew and curvature level

    Returns
    -------
    SviSlice

    Examples
    --------
    >>> from hedgekeeper.pricing.svi import svi_total_variance
    >>> svi = ssvi_slice(0.25, 0.04, -0.4, 1.0)
    >>> svi_total_variance(np.array([-0.2, 0.0, 0.2]), svi.parameters).round(5)
    array([0.06099, 0.04   , 0.03385])
    """
    phi = eta / np.sqrt(atm_variance * (1.0 + atm_variance))
    root = np.sqrt(1.0 - rho**2)
    parameters = SviParameters(
        a=0.5 * atm_variance * (1.0 - rho**2),
        b=0.5 * atm_variance * phi,
        rho=rho,
        m=-rho / phi,
        sigma=root / phi,
    )
    return SviSlice(t_years, parameters)


@dataclass(frozen=True, slots=True)
class SurfacePath:
    """The vol surface at every point of a market path.

    Attributes
    ----------
    path : MarketPath, the spot and instantaneous variance it follows
    parameters : SurfaceParameters

    Examples
    --------
    >>> from hedgekeeper.market.simulators.market_path import NS_PER_SECOND
    >>> parameters = SurfaceParameters(long_run_vol=0.6, mean_reversion_per_year=4.0, calm_vol=0.5,
    ...     stressed_vol=1.2, calm_rho=-0.2, stressed_rho=-0.6, calm_eta=1.0, stressed_eta=1.2)
    >>> path = MarketPath(ts_ns=np.array([0, NS_PER_SECOND]), spot_usd=np.array([100.0, 90.0]),
    ...                   variance=np.array([0.36, 1.44]))
    >>> surface = SurfacePath(path, parameters)
    >>> expiry_ns = NS_PER_YEAR // 12
    >>> surface.implied_vol(np.array([0, 1]), 100.0, expiry_ns).round(4)
    array([0.6   , 1.0151])
    >>> surface.vol_surface(1, [expiry_ns, 2 * expiry_ns]).find_arbitrage()
    []
    """

    path: MarketPath
    parameters: SurfaceParameters

    def time_to_expiry_years(self, step_index: ArrayLike, expiry_ts_ns: ArrayLike) -> FloatArray:
        """Return ``(expiry_ts_ns - ts_ns[step_index]) / ns per year``, broadcast, ACT/365 years."""
        step_ns = self.path.ts_ns[np.asarray(step_index)]
        remaining_ns = np.asarray(expiry_ts_ns, dtype=np.int64) - step_ns
        return remaining_ns / NS_PER_YEAR

    def forward_usd(self, step_index: ArrayLike, expiry_ts_ns: ArrayLike) -> FloatArray:
        """Return the forward ``S exp(basis_rate T)`` of each expiry at each step, USD per coin."""
        t_years = self.time_to_expiry_years(step_index, expiry_ts_ns)
        spot = self.path.spot_usd[np.asarray(step_index)]
        return spot * np.exp(self.parameters.basis_rate * t_years)

    def implied_vol(
        self, step_index: ArrayLike, strike_usd: ArrayLike, expiry_ts_ns: ArrayLike
    ) -> FloatArray:
        """Return the implied vol of ``(strike_usd, expiry_ts_ns)`` at the points ``step_index``.

        Parameters
        ----------
        step_index : array_like of int, indices into the path
        strike_usd : array_like, USD per coin, ``> 0``
        expiry_ts_ns : array_like of int, ns since the epoch, after the step's time;
            all three broadcastable

        Returns
        -------
        ndarray of float64, the broadcast shape, annualised vol, decimal

        Raises
        ------
        BadData
            If an expiry is not after its step's time.
        """
        index = np.asarray(step_index)
        t_years = self.time_to_expiry_years(index, expiry_ts_ns)
        if np.any(t_years <= 0.0):
            late_s = abs(float(np.min(t_years))) * NS_PER_YEAR / 1e9
            raise BadData(f"implied vol asked for an option {late_s:.0f} s after its expiry")
        variance = self.path.variance[index]
        rho, eta = skew_parameters(variance, self.parameters)
        k = np.log(np.asarray(strike_usd, dtype=np.float64) / self.forward_usd(index, expiry_ts_ns))
        theta = atm_total_variance(variance, t_years, self.parameters)
        return np.sqrt(ssvi_total_variance(k, theta, rho, eta) / t_years)

    def vol_surface(self, step_index: int, expiries_ts_ns: ArrayLike) -> VolSurface:
        """Return the surface at one point as a ``VolSurface`` of SSVI slices at the given expiries.

        Parameters
        ----------
        step_index : int, index into the path
        expiries_ts_ns : array_like of int, shape (n,), increasing, after the step's time

        Returns
        -------
        VolSurface, which equals ``implied_vol`` at the slices' expiries
        """
        t_years = self.time_to_expiry_years(step_index, expiries_ts_ns)
        variance = float(self.path.variance[step_index])
        rho, eta = (float(x) for x in skew_parameters(variance, self.parameters))
        theta = atm_total_variance(variance, t_years, self.parameters)
        pairs = zip(t_years.tolist(), theta.tolist(), strict=True)
        return VolSurface(tuple(ssvi_slice(t, w, rho, eta) for t, w in pairs))
