"""The moving surface: free of static arbitrage at every step, ATM at the instantaneous vol, skew
steeper in stress, and the same numbers through ``VolSurface`` as through the vectorised path."""

from __future__ import annotations

import numpy as np
import pydantic
import pytest
from scipy.integrate import quad

from hedgekeeper.errors import BadData
from hedgekeeper.market.simulators.heston import HestonParameters
from hedgekeeper.market.simulators.market_path import NS_PER_YEAR, MarketPath, simulate_market_path
from hedgekeeper.market.simulators.scenarios import FlashCrash
from hedgekeeper.market.simulators.surface_dynamics import (
    SurfaceParameters,
    SurfacePath,
    atm_total_variance,
    skew_parameters,
)

from market.simulators.configs import DAY_NS, NS_PER_SECOND, START_NS, SURFACE

PARAMETERS = SurfaceParameters(**SURFACE)
EXPIRIES_NS = START_NS + np.array([1, 7, 30, 90, 365]) * DAY_NS
CHECK_GRID = np.linspace(-2.0, 2.0, 801)  # k from -2 to 2 by 0.005


@pytest.fixture(scope="module")
def surface() -> SurfacePath:
    """A volatile Heston path with a flash crash that quadruples the vol: calm, then stressed."""
    heston = HestonParameters(drift=0.0, initial_variance=0.2, long_run_variance=0.36,
                              mean_reversion_per_year=5.0, vol_of_variance=3.0, correlation=-0.6)
    crash = FlashCrash(start_s=400.0, drop_fraction=0.1, drop_s=10.0, recovery_s=300.0,
                       vol_multiplier=4.0)
    path = simulate_market_path(heston, 100_000.0, START_NS, NS_PER_SECOND, 1_000, [crash],
                                np.random.default_rng(71))
    return SurfacePath(path, PARAMETERS)


def test_surface_is_free_of_static_arbitrage_at_every_step(surface: SurfacePath) -> None:
    vol = surface.path.vol
    assert vol.min() < PARAMETERS.calm_vol and vol.max() > PARAMETERS.stressed_vol
    for step in range(surface.path.ts_ns.size):
        assert surface.vol_surface(step, EXPIRIES_NS).find_arbitrage(CHECK_GRID) == [], step


def test_total_variance_never_falls_with_expiry_at_fixed_moneyness(surface: SurfacePath) -> None:
    steps = np.arange(0, surface.path.ts_ns.size, 5)[:, None, None]
    days = np.geomspace(1.0, 1_000.0, 60)
    expiries = (START_NS + 3_600 * NS_PER_SECOND + (days * DAY_NS).astype(np.int64))[None, :, None]
    k = np.linspace(-1.5, 1.5, 31)[None, None, :]
    strikes = surface.forward_usd(steps, expiries) * np.exp(k)
    vols = surface.implied_vol(steps, strikes, expiries)
    total_variance = vols**2 * surface.time_to_expiry_years(steps, expiries)
    assert np.all(np.diff(total_variance, axis=1) >= -1e-12)


def test_atm_vol_tracks_the_instantaneous_vol(surface: SurfacePath) -> None:
    steps = np.arange(surface.path.ts_ns.size)
    one_minute = surface.path.ts_ns + 60 * NS_PER_SECOND
    atm = surface.implied_vol(steps, surface.forward_usd(steps, one_minute), one_minute)
    np.testing.assert_allclose(atm, surface.path.vol, rtol=1e-4)
    # A month out the ATM vol sits between today's vol and the long-run vol.
    month = START_NS + 30 * DAY_NS
    month_atm = surface.implied_vol(steps, surface.forward_usd(steps, month), month)
    low = np.minimum(surface.path.vol, PARAMETERS.long_run_vol)
    high = np.maximum(surface.path.vol, PARAMETERS.long_run_vol)
    assert np.all((low <= month_atm + 1e-12) & (month_atm <= high + 1e-12))


def test_skew_is_steeper_in_stress() -> None:
    def atm_skew(variance: float, t_years: float) -> float:
        path = MarketPath(np.array([0]), np.array([100.0]), np.array([variance]))
        expiry = round(t_years * NS_PER_YEAR)
        strikes = 100.0 * np.exp(np.array([-1e-4, 1e-4]))
        vols = SurfacePath(path, PARAMETERS).implied_vol(0, strikes, expiry)
        return float(np.diff(vols)[0] / 2e-4)

    for t_years in (7 / 365, 30 / 365, 0.5):
        calm, middle, stressed = (atm_skew(vol**2, t_years) for vol in (0.4, 1.0, 1.8))
        assert stressed < middle < calm < 0.0, t_years


def test_skew_parameters_move_from_calm_to_stressed_within_the_wing_bound() -> None:
    vols = np.linspace(0.0, 3.0, 301)
    rho, eta = skew_parameters(vols**2, PARAMETERS)
    assert rho[0] == PARAMETERS.calm_rho and rho[-1] == PARAMETERS.stressed_rho
    assert eta[0] == pytest.approx(PARAMETERS.calm_eta)
    assert eta[-1] == pytest.approx(PARAMETERS.stressed_eta)
    assert np.all(np.diff(rho) <= 0.0) and np.all(eta * (1.0 + np.abs(rho)) <= 2.0)


def test_vol_surface_agrees_with_the_vectorised_vols_at_its_expiries(surface: SurfacePath) -> None:
    step, strikes = 450, np.array([70_000.0, 95_000.0, 100_000.0, 130_000.0])
    vol_surface = surface.vol_surface(step, EXPIRIES_NS)
    t_years = surface.time_to_expiry_years(step, EXPIRIES_NS)
    for expiry_ns, t in zip(EXPIRIES_NS, t_years, strict=True):
        forward = surface.forward_usd(step, expiry_ns)
        np.testing.assert_allclose(vol_surface.implied_vol_at_strike(strikes, forward, t),
                                   surface.implied_vol(step, strikes, expiry_ns), rtol=1e-12)


def test_atm_total_variance_is_the_expected_integrated_variance() -> None:
    # theta_T = int_0^T E[v(s)] ds for E[v(s)] = l + (v - l) exp(-kappa s), by quadrature.
    variance, t_years = 1.2, 0.3
    expected = quad(lambda s: 0.36 + (variance - 0.36) * np.exp(-5.0 * s), 0.0, t_years)[0]
    assert atm_total_variance(variance, t_years, PARAMETERS) == pytest.approx(expected, rel=1e-12)


def test_forward_carries_the_basis() -> None:
    parameters = PARAMETERS.model_copy(update={"basis_rate": 0.1})
    path = MarketPath(np.array([0]), np.array([100.0]), np.array([0.36]))
    forward = SurfacePath(path, parameters).forward_usd(0, NS_PER_YEAR // 2)
    assert forward == pytest.approx(100.0 * np.exp(0.05))


def test_implied_vol_at_or_after_expiry_is_refused(surface: SurfacePath) -> None:
    with pytest.raises(BadData, match="an option 5 s after its expiry"):
        surface.implied_vol(np.array([0, 5]), 100_000.0, START_NS)


@pytest.mark.parametrize(
    ("update", "message"),
    [({"stressed_vol": 0.5}, "stressed_vol 0.5 must exceed calm_vol"),
     ({"stressed_eta": 1.5}, "eta \\(1 \\+ \\|rho\\|\\) = 2.4 exceeds 2"),
     ({"calm_rho": -1.0}, "calm_rho")],
)
def test_surface_parameters_refuse_arbitrage_and_nonsense(update: dict[str, float],
                                                          message: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=message):
        SurfaceParameters(**(SURFACE | update))
