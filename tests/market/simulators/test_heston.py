"""Heston (QE scheme): Monte Carlo prices against the characteristic-function price, and moments.

The reference price integrates Heston's characteristic function in the "little trap"
form of Albrecher, Mayer, Schoutens and Tistaert ("The little Heston trap", 2007),
which is continuous in the complex logarithm, with scipy.integrate.quad:

    C = S P1 - K exp(-r T) P2
    P1 = 1/2 + 1/pi int_0^inf Re[exp(-i u ln K) phi(u - i) / (i u phi(-i))] du
    P2 = 1/2 + 1/pi int_0^inf Re[exp(-i u ln K) phi(u) / (i u)] du

Monte Carlo checks allow MC_SIGMAS standard errors.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad

from hedgekeeper.market.simulators.heston import HestonParameters, simulate_heston
from hedgekeeper.pricing import black_scholes_price

MC_SIGMAS = 4.0


def heston_characteristic_function(u: complex, spot: float, t_years: float, rate: float,
                                   p: HestonParameters) -> complex:
    """Return E[exp(i u ln S_T)] under Heston, little-trap formulation."""
    kappa, theta, xi, rho, v0 = (p.mean_reversion_per_year, p.long_run_variance, p.vol_of_variance,
                                 p.correlation, p.initial_variance)
    beta = kappa - rho * xi * 1j * u
    d = np.sqrt(beta**2 + xi**2 * (1j * u + u**2))
    g = (beta - d) / (beta + d)
    decay = np.exp(-d * t_years)
    c = kappa * theta / xi**2 * ((beta - d) * t_years - 2.0 * np.log((1.0 - g * decay) / (1.0 - g)))
    dv = (beta - d) / xi**2 * (1.0 - decay) / (1.0 - g * decay)
    return np.exp(1j * u * (np.log(spot) + rate * t_years) + c + dv * v0)


def heston_call_price(spot: float, strike: float, t_years: float, rate: float,
                      p: HestonParameters) -> float:
    """Return the Heston call price by integrating the characteristic function numerically."""
    def phi(u: complex) -> complex:
        return heston_characteristic_function(u, spot, t_years, rate, p)

    log_strike = np.log(strike)
    forward = phi(-1j)

    def p1_integrand(u: float) -> float:
        return (np.exp(-1j * u * log_strike) * phi(u - 1j) / (1j * u * forward)).real

    def p2_integrand(u: float) -> float:
        return (np.exp(-1j * u * log_strike) * phi(u) / (1j * u)).real

    p1 = 0.5 + quad(p1_integrand, 0.0, np.inf, limit=500)[0] / np.pi
    p2 = 0.5 + quad(p2_integrand, 0.0, np.inf, limit=500)[0] / np.pi
    return spot * p1 - strike * np.exp(-rate * t_years) * p2


# Crypto-like: 60% vol, fast reversion. The second set breaks Feller's condition
# (2 kappa theta < xi^2), where the variance spends time near zero and QE's
# exponential branch does the work.
FELLER_HOLDS = HestonParameters(drift=0.03, initial_variance=0.36, long_run_variance=0.30,
                                mean_reversion_per_year=3.0, vol_of_variance=1.0, correlation=-0.5)
FELLER_BROKEN = HestonParameters(drift=0.03, initial_variance=0.16, long_run_variance=0.16,
                                 mean_reversion_per_year=1.5, vol_of_variance=1.2, correlation=-0.7)


def test_reference_price_matches_black_scholes_as_vol_of_variance_vanishes() -> None:
    flat = HestonParameters(drift=0.0, initial_variance=0.25, long_run_variance=0.25,
                            mean_reversion_per_year=2.0, vol_of_variance=1e-4, correlation=0.0)
    expected = float(black_scholes_price(100.0, 105.0, 0.5, 0.5, True, rate=0.03))
    assert heston_call_price(100.0, 105.0, 0.5, 0.03, flat) == pytest.approx(expected, abs=1e-4)


BOTH = pytest.mark.parametrize("parameters", [FELLER_HOLDS, FELLER_BROKEN],
                               ids=["feller_holds", "feller_broken"])


@BOTH
def test_heston_calls_by_monte_carlo_match_characteristic_function_price(
    parameters: HestonParameters,
) -> None:
    spot, t_years, rate = 100.0, 1.0, parameters.drift
    paths = simulate_heston(spot, parameters, t_years / 50, 50, 100_000, np.random.default_rng(21))
    terminal = paths.spot_usd[:, -1]
    for strike in (80.0, 100.0, 130.0):
        discounted = np.exp(-rate * t_years) * np.maximum(terminal - strike, 0.0)
        expected = heston_call_price(spot, strike, t_years, rate, parameters)
        standard_error = discounted.std() / np.sqrt(discounted.size)
        assert abs(discounted.mean() - expected) < MC_SIGMAS * standard_error, strike


@BOTH
def test_heston_mean_variance_and_forward_match_closed_forms(parameters: HestonParameters) -> None:
    t_years = 1.0
    paths = simulate_heston(100.0, parameters, t_years / 20, 20, 50_000, np.random.default_rng(22))
    times = np.linspace(0.0, t_years, 21)[1:]
    variance, spot = paths.variance[:, 1:], paths.spot_usd[:, 1:]
    long_run = parameters.long_run_variance
    decay = np.exp(-parameters.mean_reversion_per_year * times)
    expected_variance = long_run + (parameters.initial_variance - long_run) * decay
    standard_error = variance.std(axis=0) / np.sqrt(variance.shape[0])
    assert np.all(np.abs(variance.mean(axis=0) - expected_variance) < MC_SIGMAS * standard_error)
    # The martingale correction makes E[S(t)] = S(0) exp(drift t) hold in discrete time.
    spot_error = spot.std(axis=0) / np.sqrt(spot.shape[0])
    expected_spot = 100.0 * np.exp(parameters.drift * times)
    assert np.all(np.abs(spot.mean(axis=0) - expected_spot) < MC_SIGMAS * spot_error)


def test_heston_variance_never_goes_negative() -> None:
    paths = simulate_heston(100.0, FELLER_BROKEN, 1 / 12, 12, 20_000, np.random.default_rng(23))
    assert paths.variance.min() >= 0.0
    assert (paths.variance == 0.0).any()  # QE puts mass at zero when the variance is near it


def test_heston_returns_paths_of_the_documented_shape() -> None:
    paths = simulate_heston(100.0, FELLER_HOLDS, 1 / 365, 7, 3, np.random.default_rng(24))
    assert paths.spot_usd.shape == paths.variance.shape == (3, 8)
    assert np.all(paths.spot_usd[:, 0] == 100.0) and np.all(paths.variance[:, 0] == 0.36)


def test_bates_jumps_keep_the_forward_and_add_their_variance() -> None:
    """Heston with compensated lognormal jumps (Bates): E[S_T] = S_0 e^{mu T}; jumps add lambda E[Y^2] T."""
    from hedgekeeper.market.simulators.merton import JumpParameters

    base = dict(drift=0.05, initial_variance=0.25, long_run_variance=0.25, mean_reversion_per_year=4.0,
                vol_of_variance=0.5, correlation=-0.5)
    jumps = JumpParameters(intensity_per_year=20.0, mean_log=-0.03, vol_log=0.05)
    t_years, steps, paths = 0.25, 90, 40_000
    with_jumps = simulate_heston(100.0, HestonParameters(**base, jumps=jumps), t_years / steps, steps, paths,
                                 np.random.default_rng(8)).spot_usd[:, -1]
    without = simulate_heston(100.0, HestonParameters(**base), t_years / steps, steps, paths,
                              np.random.default_rng(8)).spot_usd[:, -1]
    forward = 100.0 * np.exp(0.05 * t_years)
    assert abs(with_jumps.mean() - forward) < 4.0 * with_jumps.std() / np.sqrt(paths)
    added = np.log(with_jumps).var() - np.log(without).var()
    expected = jumps.intensity_per_year * (jumps.mean_log**2 + jumps.vol_log**2) * t_years
    assert added == pytest.approx(expected, rel=0.15)
