"""Raw SVI: one expiry's smile as a five-parameter curve in total variance.

Gatheral's raw SVI (stochastic volatility inspired) parametrisation gives the
total implied variance ``w = vol^2 t_years`` as a function of the forward
log-moneyness ``k = ln(K / F)``::

    w(k) = a + b (rho (k - m) + sqrt((k - m)^2 + sigma^2))

- ``a``: level, total variance (its minimum is ``a + b sigma sqrt(1 - rho^2)``);
- ``b``: slope of the wings, total variance per unit of ``k``, ``b >= 0``;
- ``rho``: skew, the rotation of the smile, ``-1 < rho < 1``;
- ``m``: the ``k`` at the centre of the smile (the minimum of ``w`` sits at
  ``m - rho sigma / sqrt(1 - rho^2)``);
- ``sigma``: the curvature at the centre, in units of ``k``, ``sigma > 0``.

A slice is fitted to one expiry's quotes with the quasi-explicit method of
Zeliade Systems (De Marco & Martini, "Quasi-explicit calibration of Gatheral's
SVI model", 2009): for fixed ``(m, sigma)`` the smile is linear in three
parameters, which a bounded linear least squares solves exactly; an outer
Nelder-Mead search over ``(m, sigma)`` finishes the fit. The references are
Gatheral, *The Volatility Surface* (2006) and Gatheral & Jacquier, "Arbitrage-free
SVI volatility surfaces" (2014).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import least_squares, lsq_linear, minimize

from hedgekeeper.errors import BadData

FloatArray = NDArray[np.float64]

PARAMETER_COUNT = 5
"""Number of raw SVI parameters: a slice needs at least this many distinct strikes."""

MAX_WING_SLOPE = 2.0
"""Largest wing slope ``b (1 + |rho|)`` the fit allows, total variance per unit ``k``.

Lee's moment formula bounds the large-``|k|`` slope of ``w`` by 2 when the
underlying has finite moments; beyond it Durrleman's condition fails in the wings.
"""

MIN_SPREAD_VOL = 1e-3
"""Floor on a bid-ask spread used as a weight, annualised vol (0.1 vol point)."""

MISSING_SPREAD_FACTOR = 4.0
"""A quote without a two-sided market counts as this many times the widest two-sided spread."""


@dataclass(frozen=True, slots=True)
class SviParameters:
    """Raw SVI parameters of one expiry, validated against the raw-SVI domain.

    Attributes
    ----------
    a : float, total variance level (may be negative)
    b : float, wing slope, total variance per unit log-moneyness, ``>= 0``
    rho : float, skew, ``-1 < rho < 1``
    m : float, centre of the smile, log-moneyness
    sigma : float, curvature at the centre, log-moneyness, ``> 0``

    Raises
    ------
    BadData
        If a parameter is not finite or lies outside the domain, or the minimum
        total variance ``a + b sigma sqrt(1 - rho^2)`` is negative.

    Examples
    --------
    >>> round(SviParameters(a=0.04, b=0.4, rho=-0.4, m=0.1, sigma=0.2).minimum_total_variance(), 6)
    0.113321
    >>> SviParameters(a=-0.5, b=0.4, rho=-0.4, m=0.1, sigma=0.2)
    Traceback (most recent call last):
    ...
    hedgekeeper.errors.BadData: SVI minimum total variance -0.4267 is negative
    """

    a: float
    b: float
    rho: float
    m: float
    sigma: float

    def __post_init__(self) -> None:
        for name in ("a", "b", "rho", "m", "sigma"):
            if not np.isfinite(getattr(self, name)):
                raise BadData(f"SVI parameter {name} = {getattr(self, name)} is not finite")
        if self.b < 0.0:
            raise BadData(f"SVI parameter b = {self.b} is negative")
        if not -1.0 < self.rho < 1.0:
            raise BadData(f"SVI parameter rho = {self.rho} is outside (-1, 1)")
        if self.sigma <= 0.0:
            raise BadData(f"SVI parameter sigma = {self.sigma} is not positive")
        if self.minimum_total_variance() < 0.0:
            raise BadData(
                f"SVI minimum total variance {self.minimum_total_variance():.4g} is negative"
            )

    def minimum_total_variance(self) -> float:
        """Return the smallest total variance of the slice, ``a + b sigma sqrt(1 - rho^2)``."""
        return self.a + self.b * self.sigma * float(np.sqrt(1.0 - self.rho**2))


@dataclass(frozen=True, slots=True)
class SviSlice:
    """One expiry of a volatility surface: its time to expiry and its raw SVI parameters.

    Attributes
    ----------
    t_years : float, time to expiry, ACT/365 calendar years, ``> 0``
    parameters : SviParameters, the smile in total variance against forward log-moneyness
    """

    t_years: float
    parameters: SviParameters

    def __post_init__(self) -> None:
        if not (np.isfinite(self.t_years) and self.t_years > 0.0):
            raise BadData(f"SVI slice t_years = {self.t_years} is not a positive finite time")


@dataclass(frozen=True, slots=True)
class SviFit:
    """A fitted SVI slice and how well it matches the quotes it was fitted to.

    Attributes
    ----------
    svi_slice : SviSlice, the fitted expiry
    rmse_vol_points : float, unweighted root-mean-square of fitted minus mark vol,
        vol points (1.0 is 1%)
    max_error_vol_points : float, largest absolute fitted minus mark vol, vol points
    quote_count : int, number of quotes fitted
    """

    svi_slice: SviSlice
    rmse_vol_points: float
    max_error_vol_points: float
    quote_count: int


def log_moneyness(strike: ArrayLike, forward: ArrayLike) -> FloatArray:
    """Return the forward log-moneyness ``k = ln(K / F)``.

    Parameters
    ----------
    strike, forward : array_like, USD per coin, ``> 0``, broadcastable

    Returns
    -------
    ndarray of float64, the broadcast shape, dimensionless

    Raises
    ------
    BadData
        If a strike or forward is not a positive finite number.

    Examples
    --------
    >>> log_moneyness(np.array([60_000.0, 72_000.0, 90_000.0]), 72_000.0).round(4)
    array([-0.1823,  0.    ,  0.2231])
    """
    strike_array = _positive_finite(strike, "strike")
    forward_array = _positive_finite(forward, "forward")
    return np.log(strike_array / forward_array)


def svi_total_variance(log_moneyness: ArrayLike, parameters: SviParameters) -> FloatArray:
    """Return the raw SVI total variance ``w(k) = a + b (rho (k - m) + sqrt((k - m)^2 + sigma^2))``.

    Parameters
    ----------
    log_moneyness : array_like, ``k = ln(K / F)``, any shape
    parameters : SviParameters

    Returns
    -------
    ndarray of float64, the shape of ``log_moneyness``, total variance (vol^2 years), ``>= 0``

    Examples
    --------
    >>> p = SviParameters(a=0.04, b=0.4, rho=-0.4, m=0.1, sigma=0.2)
    >>> svi_total_variance(np.array([-0.5, 0.0, 0.5]), p).round(6)
    array([0.388982, 0.145443, 0.154885])
    """
    shifted = np.asarray(log_moneyness, dtype=np.float64) - parameters.m
    radius = np.sqrt(shifted**2 + parameters.sigma**2)
    return parameters.a + parameters.b * (parameters.rho * shifted + radius)


def svi_implied_vol(
    log_moneyness: ArrayLike, t_years: ArrayLike, parameters: SviParameters
) -> FloatArray:
    """Return the SVI implied volatility ``sqrt(w(k) / t)``.

    Parameters
    ----------
    log_moneyness : array_like, ``k = ln(K / F)``
    t_years : array_like, ACT/365 calendar years, ``> 0``, broadcastable with ``log_moneyness``
    parameters : SviParameters

    Returns
    -------
    ndarray of float64, the broadcast shape, annualised vol, decimal (0.8 is 80%)

    Raises
    ------
    BadData
        If a time is not a positive finite number.

    Examples
    --------
    >>> p = SviParameters(a=0.04, b=0.4, rho=-0.4, m=0.1, sigma=0.2)
    >>> svi_implied_vol(np.array([-0.5, 0.0, 0.5]), 0.25, p).round(4)
    array([1.2474, 0.7627, 0.7871])
    """
    t_array = _positive_finite(t_years, "t_years")
    return np.sqrt(svi_total_variance(log_moneyness, parameters) / t_array)


def svi_total_variance_first_derivative(
    log_moneyness: ArrayLike, parameters: SviParameters
) -> FloatArray:
    """Return ``dw/dk = b (rho + (k - m) / sqrt((k - m)^2 + sigma^2))``.

    Parameters
    ----------
    log_moneyness : array_like, ``k = ln(K / F)``, any shape
    parameters : SviParameters

    Returns
    -------
    ndarray of float64, the shape of ``log_moneyness``, total variance per unit ``k``

    Examples
    --------
    >>> p = SviParameters(a=0.04, b=0.4, rho=-0.4, m=0.1, sigma=0.2)
    >>> svi_total_variance_first_derivative(np.array([-0.5, 0.0, 0.5]), p).round(6)
    array([-0.539473, -0.338885,  0.197771])
    """
    shifted = np.asarray(log_moneyness, dtype=np.float64) - parameters.m
    radius = np.sqrt(shifted**2 + parameters.sigma**2)
    return parameters.b * (parameters.rho + shifted / radius)


def svi_total_variance_second_derivative(
    log_moneyness: ArrayLike, parameters: SviParameters
) -> FloatArray:
    """Return ``d2w/dk2 = b sigma^2 / ((k - m)^2 + sigma^2)^(3/2)``.

    Parameters
    ----------
    log_moneyness : array_like, ``k = ln(K / F)``, any shape
    parameters : SviParameters

    Returns
    -------
    ndarray of float64, the shape of ``log_moneyness``, total variance per unit ``k``
    squared, ``>= 0``

    Examples
    --------
    >>> p = SviParameters(a=0.04, b=0.4, rho=-0.4, m=0.1, sigma=0.2)
    >>> svi_total_variance_second_derivative(np.array([-0.5, 0.0, 0.5]), p).round(6)
    array([0.063246, 1.431084, 0.178885])
    """
    shifted = np.asarray(log_moneyness, dtype=np.float64) - parameters.m
    return parameters.b * parameters.sigma**2 / (shifted**2 + parameters.sigma**2) ** 1.5


def fit_svi_slice(
    strikes: ArrayLike,
    forward: float,
    t_years: float,
    mark_vols: ArrayLike,
    bid_vols: ArrayLike | None = None,
    ask_vols: ArrayLike | None = None,
) -> SviFit:
    """Fit a raw SVI slice to one expiry's implied vols.

    The fit minimises the weighted squared vol error
    ``sum_i ((vol_i^SVI - mark_vol_i) / spread_i)^2`` over the slices allowed by

    - the raw-SVI domain with non-negative minimum total variance, and
    - wing slopes ``b (1 + rho), b (1 - rho) <= MAX_WING_SLOPE`` (Lee's moment bound).

    Weights: each residual counts in units of its quote's bid-ask spread in vol,
    ``spread_i = ask_vol_i - bid_vol_i`` floored at ``MIN_SPREAD_VOL``. A quote without a
    two-sided market (NaN bid or ask) counts as ``MISSING_SPREAD_FACTOR`` times the
    widest two-sided spread of the slice, so a stale mark weighs 16 times less than
    the least certain quoted one; with no two-sided quote at all (or no bid and ask
    vols given) every quote weighs the same.

    Method, in two stages:

    1. Zeliade's quasi-explicit search (De Marco & Martini 2009). The vol error is
       linearised, ``vol^SVI - vol ~ (w^SVI - w) / (2 vol t)``, and with
       ``y = (k - m) / sigma`` the smile
       ``w = a + u (sqrt(y^2 + 1) + y) / 2 + v (sqrt(y^2 + 1) - y) / 2``
       is linear in ``(a, u, v)``, where ``u = b sigma (1 + rho)`` and
       ``v = b sigma (1 - rho)``; the slope bound is the box
       ``0 < u, v <= MAX_WING_SLOPE sigma``,
       so for fixed ``(m, sigma)`` a bounded linear least squares (``lsq_linear``)
       solves it exactly (``a`` is then raised to ``-sqrt(u v)`` if the minimum
       variance ``a + sqrt(u v)`` came out negative). ``(m, sigma)`` are searched on a
       grid spanning the quoted log-moneyness, then refined by bounded Nelder-Mead.
    2. A polish of all five parameters on the exact vol residuals by bounded
       nonlinear least squares (``least_squares``, trust-region reflective), in the
       coordinates ``(minimum variance, right slope, left slope, m, sigma)`` where
       every constraint above is a simple bound.

    Parameters
    ----------
    strikes : array_like, shape (n,), USD per coin, ``> 0``
    forward : float, the expiry's forward, USD per coin, ``> 0``
    t_years : float, time to expiry, ACT/365 calendar years, ``> 0``
    mark_vols : array_like, shape (n,), annualised implied vols, decimal, ``> 0``
    bid_vols, ask_vols : array_like, shape (n,), or None; NaN where there is no bid or ask

    Returns
    -------
    SviFit, the slice and its unweighted errors in vol points against ``mark_vols``

    Raises
    ------
    BadData
        If a strike, the forward, the time or a mark vol is not a positive finite
        number, a bid or ask vol is negative or infinite, bid and ask are crossed,
        the arrays differ in shape, or there are fewer than ``PARAMETER_COUNT``
        distinct strikes.

    Examples
    --------
    Quotes generated from known parameters are recovered:

    >>> true = SviParameters(a=0.04, b=0.4, rho=-0.4, m=0.1, sigma=0.2)
    >>> strikes = 72_000.0 * np.exp(np.linspace(-0.6, 0.6, 13))
    >>> vols = svi_implied_vol(np.log(strikes / 72_000.0), 0.25, true)
    >>> fit = fit_svi_slice(strikes, 72_000.0, 0.25, vols)
    >>> p = fit.svi_slice.parameters
    >>> print(round(p.a, 6), round(p.b, 6), round(p.rho, 6), round(p.m, 6), round(p.sigma, 6))
    0.04 0.4 -0.4 0.1 0.2
    >>> fit.quote_count, fit.rmse_vol_points < 1e-6
    (13, True)
    """
    t_value = float(_positive_finite(t_years, "t_years"))
    k = log_moneyness(_one_dimensional(strikes, "strikes"), forward)
    vols = _positive_finite(_one_dimensional(mark_vols, "mark_vols", size=k.size), "mark_vols")
    distinct = np.unique(k).size
    if distinct < PARAMETER_COUNT:
        raise BadData(
            f"an SVI slice needs at least {PARAMETER_COUNT} distinct strikes, got {distinct}"
        )
    spreads = _spread_vols(bid_vols, ask_vols, k.size)
    bounds = _WingBounds.around(k)
    # Linearised residual scale: 1 / spread in vol, times d vol / d w = 1 / (2 vol t).
    residual_scale = 1.0 / (spreads * 2.0 * vols * t_value)
    start = _quasi_explicit_search(k, vols**2 * t_value, residual_scale, bounds)
    parameters = _polish(k, t_value, vols, spreads, start, bounds)
    errors = svi_implied_vol(k, t_value, parameters) - vols
    return SviFit(
        svi_slice=SviSlice(t_years=t_value, parameters=parameters),
        rmse_vol_points=100.0 * float(np.sqrt(np.mean(errors**2))),
        max_error_vol_points=100.0 * float(np.max(np.abs(errors))),
        quote_count=int(k.size),
    )


@dataclass(frozen=True, slots=True)
class _WingBounds:
    """Bounds on (minimum variance, right slope, left slope, m, sigma), the fit's coordinates.

    ``m`` may sit up to one quoted k-range beyond the quotes, and ``sigma`` spans
    1e-3 to 10 k-ranges; the slopes' tiny floor keeps ``|rho| < 1`` strictly.
    """

    lower: FloatArray
    upper: FloatArray

    @classmethod
    def around(cls, k: FloatArray) -> _WingBounds:
        k_low, k_high = float(k.min()), float(k.max())
        k_range = k_high - k_low
        return cls(
            lower=np.array([0.0, 1e-9, 1e-9, k_low - k_range, 1e-3 * k_range]),
            upper=np.array(
                [np.inf, MAX_WING_SLOPE, MAX_WING_SLOPE, k_high + k_range, 10.0 * k_range]
            ),
        )


def _from_wing_coordinates(x: FloatArray) -> SviParameters:
    """Return raw SVI parameters from (minimum variance, right slope, left slope, m, sigma).

    ``b = (right + left) / 2``, ``rho = (right - left) / (right + left)`` and
    ``a = minimum - sigma sqrt(right left)``, since ``b^2 (1 - rho^2) = right left``.
    """
    minimum_variance, right_slope, left_slope, m, sigma = (float(value) for value in x)
    b = (right_slope + left_slope) / 2.0
    rho = (right_slope - left_slope) / (right_slope + left_slope)
    a = minimum_variance - sigma * np.sqrt(right_slope * left_slope)
    # Rounding can leave a + b sigma sqrt(1 - rho^2) a few ulps below a zero minimum.
    a -= min(a + b * sigma * float(np.sqrt(1.0 - rho**2)), 0.0)
    return SviParameters(a=float(a), b=b, rho=rho, m=m, sigma=sigma)


def _polish(
    k: FloatArray,
    t_years: float,
    vols: FloatArray,
    spreads: FloatArray,
    start: FloatArray,
    bounds: _WingBounds,
) -> SviParameters:
    """Return the bounded least-squares fit of the weighted vol residuals, from ``start``."""

    def residuals(x: FloatArray) -> FloatArray:
        minimum_variance, right_slope, left_slope, m, sigma = x
        shifted = k - m
        total_variance = (
            minimum_variance
            - sigma * np.sqrt(right_slope * left_slope)
            + (right_slope - left_slope) / 2.0 * shifted
            + (right_slope + left_slope) / 2.0 * np.sqrt(shifted**2 + sigma**2)
        )
        return (np.sqrt(np.maximum(total_variance, 0.0) / t_years) - vols) / spreads

    result = least_squares(
        residuals,
        np.clip(start, bounds.lower, bounds.upper),
        bounds=(bounds.lower, bounds.upper),
        method="trf",
        x_scale="jac",
        xtol=1e-14,
        ftol=1e-14,
        gtol=1e-14,
    )
    return _from_wing_coordinates(result.x)


def _quasi_explicit_search(
    k: FloatArray, total_variance: FloatArray, residual_scale: FloatArray, bounds: _WingBounds
) -> FloatArray:
    """Return the quasi-explicit fit in (minimum variance, right slope, left slope, m, sigma)."""
    target = total_variance * residual_scale
    a_upper = float(total_variance.max())

    def inner(m: float, sigma: float) -> tuple[FloatArray, FloatArray]:
        # Columns for (a, u, v), scaled row by row like the target.
        y = (k - m) / sigma
        radius = np.sqrt(y**2 + 1.0)
        design = np.column_stack([np.ones_like(y), (radius + y) / 2.0, (radius - y) / 2.0])
        design *= residual_scale[:, None]
        lower = np.array([-MAX_WING_SLOPE, bounds.lower[1], bounds.lower[2]]) * sigma
        upper = np.array([a_upper, MAX_WING_SLOPE * sigma, MAX_WING_SLOPE * sigma])
        a, u, v = lsq_linear(design, target, bounds=(lower, upper), method="bvls").x
        # Raise a, if needed, so that the minimum variance a + sqrt(u v) is not negative.
        coefficients = np.array([max(a, -np.sqrt(u * v)), u, v])
        return coefficients, design @ coefficients - target

    def objective(outer: FloatArray) -> float:
        residual = inner(outer[0], float(np.exp(outer[1])))[1]
        return float(residual @ residual)

    # Outer coordinates: m, and ln(sigma) so that sigma spans decades evenly.
    k_low, k_high = float(k.min()), float(k.max())
    grid = [
        np.array([m, log_sigma])
        for m in np.linspace(k_low, k_high, 7)
        for log_sigma in np.log(np.geomspace(0.02, 2.0, 6) * (k_high - k_low))
    ]
    result = minimize(
        objective,
        min(grid, key=objective),
        method="Nelder-Mead",
        bounds=[
            (bounds.lower[3], bounds.upper[3]),
            (np.log(bounds.lower[4]), np.log(bounds.upper[4])),
        ],
        options={"xatol": 1e-7, "fatol": 1e-12, "maxiter": 600},
    )
    m, sigma = float(result.x[0]), float(np.exp(result.x[1]))
    (a, u, v), _ = inner(m, sigma)
    return np.array([a + np.sqrt(u * v), u / sigma, v / sigma, m, sigma])


def _spread_vols(bid_vols: ArrayLike | None, ask_vols: ArrayLike | None, size: int) -> FloatArray:
    """Return each quote's bid-ask spread in vol, filled and floored as ``fit_svi_slice`` says."""
    if bid_vols is None or ask_vols is None:
        return np.ones(size)
    bids = _one_dimensional(bid_vols, "bid_vols", size=size)
    asks = _one_dimensional(ask_vols, "ask_vols", size=size)
    for name, values in (("bid_vols", bids), ("ask_vols", asks)):
        bad = np.flatnonzero(np.isinf(values) | (values < 0.0))
        if bad.size:
            raise BadData(f"{name}[{bad[0]}] = {values[bad[0]]} is negative or infinite")
    two_sided = np.isfinite(bids) & np.isfinite(asks)
    crossed = np.flatnonzero(two_sided & (asks < bids))
    if crossed.size:
        index = crossed[0]
        raise BadData(f"quote {index} is crossed: bid vol {bids[index]} > ask vol {asks[index]}")
    if not two_sided.any():
        return np.ones(size)
    spreads = np.where(two_sided, asks - bids, np.nan)
    missing = MISSING_SPREAD_FACTOR * float(np.nanmax(spreads))
    return np.maximum(np.where(two_sided, spreads, missing), MIN_SPREAD_VOL)


def _one_dimensional(values: ArrayLike, name: str, size: int | None = None) -> FloatArray:
    """Return ``values`` as a 1-D float64 array, checking its length against ``size``."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise BadData(f"{name} must be one-dimensional, got shape {array.shape}")
    if size is not None and array.size != size:
        raise BadData(f"{name} has {array.size} entries, expected {size}")
    return array


def _positive_finite(values: ArrayLike, name: str) -> FloatArray:
    """Return ``values`` as float64; raise BadData naming the first non-positive entry or NaN."""
    array = np.asarray(values, dtype=np.float64)
    bad = np.flatnonzero(~(np.isfinite(array) & (array > 0.0)))
    if bad.size:
        where = f"{name}[{bad[0]}]" if array.ndim else name
        raise BadData(f"{where} = {array.flat[bad[0]]} is not a positive finite number")
    return array
