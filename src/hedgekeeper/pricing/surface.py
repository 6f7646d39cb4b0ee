"""The volatility surface: SVI slices joined in time, and its static-arbitrage checks.

Between two expiries ``t1 < t2`` the total variance is linear in time at fixed
forward log-moneyness ``k = ln(K / F(t))``::

    w(k, t) = w1(k) + (t - t1) / (t2 - t1) (w2(k) - w1(k))

Before the first expiry the implied vol is held flat, ``w(k, t) = w1(k) t / t1``
(so ``w -> 0`` as ``t -> 0``); beyond the last expiry it is held flat too,
``w(k, t) = wN(k) t / tN``. Both keep ``w`` non-decreasing in ``t`` wherever the
slices are, so interpolation adds no calendar arbitrage (it may still blur
butterfly arbitrage-freeness between expiries: Gatheral & Jacquier 2014, section 5).

The checks report violations instead of raising: butterfly arbitrage where
Durrleman's ``g(k) < 0`` on a slice, calendar arbitrage where a later slice has
less total variance than an earlier one at the same ``k``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hedgekeeper.errors import BadData
from hedgekeeper.pricing.svi import (
    SviSlice,
    log_moneyness,
    svi_total_variance,
    svi_total_variance_first_derivative,
    svi_total_variance_second_derivative,
)

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

DEFAULT_LOG_MONEYNESS_GRID = np.linspace(-2.0, 2.0, 4001)
"""Where the checks look by default: ``k`` from -2 to 2 by 0.001 (strikes 0.14 to 7.4 F)."""
DEFAULT_LOG_MONEYNESS_GRID.flags.writeable = False

DEFAULT_TOLERANCE = 1e-10
"""Shortfall a check ignores: of ``g`` for butterfly, of total variance for calendar."""


@dataclass(frozen=True, slots=True)
class ArbitrageFinding:
    """One region of the log-moneyness grid where the surface admits static arbitrage.

    Attributes
    ----------
    kind : 'butterfly' (Durrleman's g < 0 on one slice) or 'calendar' (total variance
        falls from one expiry to the next)
    t_years : float, the slice's expiry (butterfly) or the earlier expiry (calendar), ACT/365 years
    later_t_years : float or None, the later expiry of a calendar finding; None for butterfly
    log_moneyness : float, the grid ``k`` where the violation is largest
    log_moneyness_low, log_moneyness_high : float, the first and last grid ``k`` of the
        contiguous region
    size : float, the largest shortfall in the region: ``-g`` for butterfly (dimensionless),
        ``w(earlier) - w(later)`` for calendar (total variance, vol^2 years)
    """

    kind: Literal["butterfly", "calendar"]
    t_years: float
    later_t_years: float | None
    log_moneyness: float
    log_moneyness_low: float
    log_moneyness_high: float
    size: float


def durrleman_g(
    log_moneyness: ArrayLike,
    total_variance: ArrayLike,
    first_derivative: ArrayLike,
    second_derivative: ArrayLike,
) -> FloatArray:
    """Return Durrleman's butterfly function of a smile in total variance.

    ``g(k) = (1 - k w' / (2 w))^2 - (w'^2 / 4) (1 / w + 1 / 4) + w'' / 2``

    The risk-neutral density of ``ln(K / F)`` is ``g(k)`` times a positive factor,
    so a smile is free of butterfly arbitrage exactly where ``g(k) >= 0``
    (Gatheral & Jacquier 2014, Lemma 2.2).

    Parameters
    ----------
    log_moneyness : array_like, ``k = ln(K / F)``, broadcastable with the others
    total_variance : array_like, ``w(k)``, vol^2 years, ``> 0``
    first_derivative, second_derivative : array_like, ``dw/dk`` and ``d2w/dk2``

    Returns
    -------
    ndarray of float64, the broadcast shape, dimensionless

    Raises
    ------
    BadData
        If a total variance is not positive (``g`` divides by it).

    Examples
    --------
    A flat smile (``w' = w'' = 0``) has ``g = 1``; a steep linear one does not:

    >>> durrleman_g(np.array([0.0, 0.5]), 0.04, 0.0, 0.0)
    array([1., 1.])
    >>> durrleman_g(np.array([0.1, 0.5]), np.array([0.25, 1.0]), 3.0, 0.0).round(4)
    array([-9.4025, -2.75  ])
    """
    k = np.asarray(log_moneyness, dtype=np.float64)
    w = np.asarray(total_variance, dtype=np.float64)
    if not np.all(w > 0.0):
        raise BadData(f"Durrleman's condition needs positive total variance, got minimum {w.min()}")
    slope = np.asarray(first_derivative, dtype=np.float64)
    curvature = np.asarray(second_derivative, dtype=np.float64)
    return (1.0 - k * slope / (2.0 * w)) ** 2 - slope**2 / 4.0 * (1.0 / w + 0.25) + curvature / 2.0


def svi_durrleman_g(log_moneyness: ArrayLike, svi_slice: SviSlice) -> FloatArray:
    """Return Durrleman's ``g(k)`` of an SVI slice from its analytic derivatives.

    Parameters
    ----------
    log_moneyness : array_like, ``k = ln(K / F)``, any shape
    svi_slice : SviSlice, whose minimum total variance is positive

    Returns
    -------
    ndarray of float64, the shape of ``log_moneyness``, dimensionless

    Examples
    --------
    Axel Vogt's slice (Gatheral & Jacquier 2014, section 3.1) dips below zero near ``k = 0.8``:

    >>> from hedgekeeper.pricing.svi import SviParameters
    >>> vogt = SviSlice(1.0, SviParameters(a=-0.0410, b=0.1331, rho=0.3060, m=0.3586, sigma=0.4153))
    >>> svi_durrleman_g(np.array([0.0, 0.8, 1.5]), vogt).round(4)
    array([ 1.0386, -0.0298,  0.0291])
    """
    parameters = svi_slice.parameters
    return durrleman_g(
        log_moneyness,
        svi_total_variance(log_moneyness, parameters),
        svi_total_variance_first_derivative(log_moneyness, parameters),
        svi_total_variance_second_derivative(log_moneyness, parameters),
    )


def butterfly_violations(
    svi_slice: SviSlice,
    log_moneyness_grid: ArrayLike = DEFAULT_LOG_MONEYNESS_GRID,
    tolerance: float = DEFAULT_TOLERANCE,
) -> list[ArbitrageFinding]:
    """Return the regions of a sorted ``k`` grid where a slice has ``g(k) < -tolerance``.

    Parameters
    ----------
    svi_slice : SviSlice
    log_moneyness_grid : array_like, shape (n,), increasing ``k``
    tolerance : float, ``>= 0``, dimensionless

    Returns
    -------
    list of ArbitrageFinding of kind 'butterfly', one per contiguous region, in ``k`` order

    Examples
    --------
    >>> from hedgekeeper.pricing.svi import SviParameters
    >>> vogt = SviSlice(1.0, SviParameters(a=-0.0410, b=0.1331, rho=0.3060, m=0.3586, sigma=0.4153))
    >>> [finding] = butterfly_violations(vogt)
    >>> low, high = finding.log_moneyness_low, finding.log_moneyness_high
    >>> print(finding.kind, round(low, 3), round(high, 3))
    butterfly 0.643 1.256
    >>> print(round(finding.log_moneyness, 3), round(finding.size, 4))
    0.879 0.0329
    """
    grid = _increasing_grid(log_moneyness_grid)
    shortfall = -svi_durrleman_g(grid, svi_slice)
    return [
        ArbitrageFinding("butterfly", svi_slice.t_years, None, *region)
        for region in _regions_above(grid, shortfall, tolerance)
    ]


def calendar_violations(
    earlier: SviSlice,
    later: SviSlice,
    log_moneyness_grid: ArrayLike = DEFAULT_LOG_MONEYNESS_GRID,
    tolerance: float = DEFAULT_TOLERANCE,
) -> list[ArbitrageFinding]:
    """Return the regions of a sorted ``k`` grid where ``w_later(k) < w_earlier(k) - tolerance``.

    Total variance at fixed forward log-moneyness must not fall with expiry
    (Gatheral & Jacquier 2014, Lemma 2.1, with zero rates or a deterministic forward).

    Parameters
    ----------
    earlier, later : SviSlice, with ``earlier.t_years < later.t_years``
    log_moneyness_grid : array_like, shape (n,), increasing ``k``
    tolerance : float, ``>= 0``, total variance

    Returns
    -------
    list of ArbitrageFinding of kind 'calendar', one per contiguous region, in ``k`` order

    Raises
    ------
    BadData
        If ``earlier`` does not expire strictly before ``later``.

    Examples
    --------
    A later smile with a steeper left wing but a lower level crosses below on the right:

    >>> from hedgekeeper.pricing.svi import SviParameters
    >>> first = SviSlice(0.1, SviParameters(a=0.01, b=0.1, rho=0.0, m=0.0, sigma=0.1))
    >>> second = SviSlice(0.2, SviParameters(a=0.005, b=0.15, rho=-0.5, m=0.0, sigma=0.1))
    >>> [finding] = calendar_violations(first, second)
    >>> low, high = finding.log_moneyness_low, finding.log_moneyness_high
    >>> print(finding.kind, round(low, 3), round(high, 3))
    calendar 0.001 2.0
    >>> print(round(finding.log_moneyness, 3), round(finding.size, 4))
    2.0 0.0549
    """
    if not earlier.t_years < later.t_years:
        raise BadData(
            f"calendar check needs earlier.t_years < later.t_years, got {earlier.t_years} "
            f"and {later.t_years}"
        )
    grid = _increasing_grid(log_moneyness_grid)
    shortfall = svi_total_variance(grid, earlier.parameters) - svi_total_variance(
        grid, later.parameters
    )
    return [
        ArbitrageFinding("calendar", earlier.t_years, later.t_years, *region)
        for region in _regions_above(grid, shortfall, tolerance)
    ]


@dataclass(frozen=True, slots=True)
class VolSurface:
    """A volatility surface from SVI slices, interpolated linearly in total variance in time.

    See the module docstring for the interpolation and extrapolation rules.

    Attributes
    ----------
    slices : tuple of SviSlice, one per expiry, in strictly increasing ``t_years``

    Raises
    ------
    BadData
        If there is no slice or the expiries are not strictly increasing.

    Examples
    --------
    >>> from hedgekeeper.pricing.svi import SviParameters
    >>> surface = VolSurface((
    ...     SviSlice(0.1, SviParameters(a=0.01, b=0.1, rho=-0.3, m=0.0, sigma=0.1)),
    ...     SviSlice(0.5, SviParameters(a=0.05, b=0.2, rho=-0.3, m=0.0, sigma=0.2)),
    ... ))
    >>> surface.implied_vol(np.array([-0.2, 0.0, 0.2]), 0.3).round(4)
    array([0.5114, 0.4282, 0.4489])
    >>> surface.find_arbitrage()
    []
    """

    slices: tuple[SviSlice, ...]

    def __post_init__(self) -> None:
        if not self.slices:
            raise BadData("a volatility surface needs at least one slice")
        times = self.expiries_t_years()
        if not np.all(np.diff(times) > 0.0):
            raise BadData(
                f"slice expiries must be strictly increasing, got t_years {times.tolist()}"
            )

    def expiries_t_years(self) -> FloatArray:
        """Return the slices' expiries, shape (n_slices,), ACT/365 years."""
        return np.array([svi_slice.t_years for svi_slice in self.slices])

    def total_variance(self, log_moneyness: ArrayLike, t_years: ArrayLike) -> FloatArray:
        """Return the interpolated total variance ``w(k, t)``.

        Parameters
        ----------
        log_moneyness : array_like, ``k = ln(K / F(t))``
        t_years : array_like, ACT/365 years, ``> 0``, broadcastable with ``log_moneyness``

        Returns
        -------
        ndarray of float64, the broadcast shape, vol^2 years

        Raises
        ------
        BadData
            If a time is not a positive finite number.

        Examples
        --------
        Half-way between two expiries in time, half-way in total variance:

        >>> from hedgekeeper.pricing.svi import SviParameters
        >>> surface = VolSurface((
        ...     SviSlice(0.1, SviParameters(a=0.01, b=0.1, rho=-0.3, m=0.0, sigma=0.1)),
        ...     SviSlice(0.5, SviParameters(a=0.05, b=0.2, rho=-0.3, m=0.0, sigma=0.2)),
        ... ))
        >>> surface.total_variance(0.0, np.array([0.05, 0.1, 0.3, 0.5, 1.0])).round(4)
        array([0.01 , 0.02 , 0.055, 0.09 , 0.18 ])
        """
        k, t = np.broadcast_arrays(
            np.asarray(log_moneyness, dtype=np.float64), np.asarray(t_years, dtype=np.float64)
        )
        bad = np.flatnonzero(~(np.isfinite(t) & (t > 0.0)))
        if bad.size:
            raise BadData(f"t_years = {t.flat[bad[0]]} is not a positive finite time")
        times = self.expiries_t_years()
        slice_variance = np.stack([svi_total_variance(k, s.parameters) for s in self.slices])
        # Index of the first slice expiring after t; 0 before the first, n at or after the last.
        after = np.searchsorted(times, t, side="right")
        lower = np.clip(after - 1, 0, len(times) - 1)
        upper = np.clip(after, 0, len(times) - 1)
        w_lower = np.take_along_axis(slice_variance, lower[None], axis=0)[0]
        w_upper = np.take_along_axis(slice_variance, upper[None], axis=0)[0]
        t_lower, t_upper = times[lower], times[upper]
        inside = lower != upper
        weight = np.where(inside, (t - t_lower) / np.where(inside, t_upper - t_lower, 1.0), 0.0)
        interpolated = w_lower + weight * (w_upper - w_lower)
        flat_vol = np.where(after == 0, w_upper * t / t_upper, w_lower * t / t_lower)
        return np.where(inside, interpolated, flat_vol)

    def implied_vol(self, log_moneyness: ArrayLike, t_years: ArrayLike) -> FloatArray:
        """Return the implied vol ``sqrt(w(k, t) / t)``.

        Parameters
        ----------
        log_moneyness : array_like, ``k = ln(K / F(t))``
        t_years : array_like, ACT/365 years, ``> 0``, broadcastable with ``log_moneyness``

        Returns
        -------
        ndarray of float64, the broadcast shape, annualised vol, decimal (0.8 is 80%)

        Examples
        --------
        >>> from hedgekeeper.pricing.svi import SviParameters
        >>> parameters = SviParameters(a=0.04, b=0.4, rho=-0.4, m=0.1, sigma=0.2)
        >>> surface = VolSurface((SviSlice(0.25, parameters),))
        >>> surface.implied_vol(0.0, np.array([0.1, 0.25, 1.0])).round(4)
        array([0.7627, 0.7627, 0.7627])
        """
        return np.sqrt(self.total_variance(log_moneyness, t_years) / np.asarray(t_years))

    def implied_vol_at_strike(
        self, strike: ArrayLike, forward: ArrayLike, t_years: ArrayLike
    ) -> FloatArray:
        """Return the implied vol of strike ``K`` for an expiry whose forward is ``F``.

        Parameters
        ----------
        strike, forward : array_like, USD per coin, ``> 0``
        t_years : array_like, ACT/365 years, ``> 0``; all three broadcastable

        Returns
        -------
        ndarray of float64, the broadcast shape, annualised vol, decimal

        Examples
        --------
        >>> from hedgekeeper.pricing.svi import SviParameters
        >>> parameters = SviParameters(a=0.04, b=0.4, rho=-0.4, m=0.1, sigma=0.2)
        >>> surface = VolSurface((SviSlice(0.25, parameters),))
        >>> surface.implied_vol_at_strike(np.array([72_000.0, 90_000.0]), 72_000.0, 0.25).round(4)
        array([0.7627, 0.676 ])
        """
        return self.implied_vol(log_moneyness(strike, forward), t_years)

    def find_arbitrage(
        self,
        log_moneyness_grid: ArrayLike = DEFAULT_LOG_MONEYNESS_GRID,
        tolerance: float = DEFAULT_TOLERANCE,
    ) -> list[ArbitrageFinding]:
        """Return each slice's butterfly violations, then consecutive slices' calendar violations.

        Consecutive pairs suffice for calendar arbitrage: if total variance does not
        fall between neighbours at a grid ``k``, it does not fall across any pair there.

        Parameters
        ----------
        log_moneyness_grid : array_like, shape (n,), increasing ``k``
        tolerance : float, ``>= 0``, as in ``butterfly_violations`` and ``calendar_violations``

        Returns
        -------
        list of ArbitrageFinding, empty when the surface is free of static arbitrage on the grid

        Examples
        --------
        >>> from hedgekeeper.pricing.svi import SviParameters
        >>> vogt_parameters = SviParameters(a=-0.0410, b=0.1331, rho=0.3060, m=0.3586, sigma=0.4153)
        >>> vogt = SviSlice(1.0, vogt_parameters)
        >>> [finding.kind for finding in VolSurface((vogt,)).find_arbitrage()]
        ['butterfly']
        """
        butterflies = [
            finding
            for svi_slice in self.slices
            for finding in butterfly_violations(svi_slice, log_moneyness_grid, tolerance)
        ]
        calendars = [
            finding
            for earlier, later in zip(self.slices[:-1], self.slices[1:], strict=True)
            for finding in calendar_violations(earlier, later, log_moneyness_grid, tolerance)
        ]
        return butterflies + calendars


def _increasing_grid(log_moneyness_grid: ArrayLike) -> FloatArray:
    """Return the grid as 1-D float64; raise BadData unless finite and strictly increasing."""
    grid = np.asarray(log_moneyness_grid, dtype=np.float64)
    if grid.ndim != 1 or grid.size == 0 or not np.all(np.isfinite(grid)):
        raise BadData("log_moneyness_grid must be a non-empty 1-D array of finite numbers")
    if not np.all(np.diff(grid) > 0.0):
        raise BadData("log_moneyness_grid must be strictly increasing")
    return grid


def _regions_above(
    grid: FloatArray, shortfall: FloatArray, tolerance: float
) -> list[tuple[float, float, float, float]]:
    """Return (worst k, first k, last k, worst shortfall) of each run of shortfall > tolerance."""
    violated: BoolArray = shortfall > tolerance
    edges = np.diff(violated.astype(np.int8), prepend=0, append=0)
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    regions = []
    for start, stop in zip(starts, stops, strict=True):
        worst = start + int(np.argmax(shortfall[start:stop]))
        regions.append(
            (float(grid[worst]), float(grid[start]), float(grid[stop - 1]), float(shortfall[worst]))
        )
    return regions
