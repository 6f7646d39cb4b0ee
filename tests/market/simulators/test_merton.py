"""Merton jump-diffusion: Monte Carlo prices against Merton's series, and jump counts.

Merton's price (1976; Hull, *Options, Futures and Other Derivatives*, section 27.1) is a
Poisson mixture of Black-Scholes prices, with lambda' = lambda (1 + k) and
gamma = ln(1 + k):

    C = sum_n exp(-lambda' T) (lambda' T)^n / n! BS(S, K, T, sigma_n, r_n)
    sigma_n^2 = sigma^2 + n vol_log^2 / T,   r_n = r - lambda k + n gamma / T

Monte Carlo checks allow MC_SIGMAS standard errors.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import poisson

from hedgekeeper.market.simulators.merton import (
    JumpParameters,
    MertonParameters,
    jump_compensator,
    jump_diffusion_variance,
    simulate_merton,
)
from hedgekeeper.pricing import black_scholes_price

MC_SIGMAS = 4.0
SERIES_TERMS = 80

CRASHY = MertonParameters(drift=0.04, vol=0.5,
                          jumps=JumpParameters(intensity_per_year=4.0, mean_log=-0.15, vol_log=0.2))


def merton_call_price(spot: float, strike: float, t_years: float, rate: float,
                      p: MertonParameters) -> float:
    """Return Merton's closed-form European call price, summed over SERIES_TERMS jump counts."""
    jumps = p.jumps
    k = np.expm1(jumps.mean_log + 0.5 * jumps.vol_log**2)
    intensity = jumps.intensity_per_year * (1.0 + k)
    n = np.arange(SERIES_TERMS)
    vols = np.sqrt(p.vol**2 + n * jumps.vol_log**2 / t_years)
    rates = rate - jumps.intensity_per_year * k + n * np.log1p(k) / t_years
    prices = black_scholes_price(spot, strike, t_years, vols, True, rate=rates)
    return float(np.sum(poisson.pmf(n, intensity * t_years) * prices))


def test_merton_calls_by_monte_carlo_match_the_closed_form_series() -> None:
    spot, t_years, rate = 100.0, 0.5, CRASHY.drift
    paths = simulate_merton(spot, CRASHY, t_years / 5, 5, 200_000, np.random.default_rng(31))
    for strike in (70.0, 100.0, 125.0):
        discounted = np.exp(-rate * t_years) * np.maximum(paths.spot_usd[:, -1] - strike, 0.0)
        expected = merton_call_price(spot, strike, t_years, rate, CRASHY)
        standard_error = discounted.std() / np.sqrt(discounted.size)
        assert abs(discounted.mean() - expected) < MC_SIGMAS * standard_error, strike


def test_merton_jump_counts_are_poisson_with_the_intensity() -> None:
    t_years, paths = 2.0, 100_000
    simulated = simulate_merton(100.0, CRASHY, t_years / 8, 8, paths, np.random.default_rng(32))
    counts = simulated.jump_counts.sum(axis=1)
    mean = CRASHY.jumps.intensity_per_year * t_years
    assert abs(counts.mean() - mean) < MC_SIGMAS * np.sqrt(mean / paths)
    # Poisson: variance equals mean; the sample variance's standard error is about
    # sqrt((mu + 2 mu^2) / n).
    assert abs(counts.var(ddof=1) - mean) < MC_SIGMAS * np.sqrt((mean + 2 * mean**2) / paths)


def test_merton_is_compensated_so_the_mean_grows_at_the_drift() -> None:
    paths = simulate_merton(100.0, CRASHY, 0.25, 4, 200_000, np.random.default_rng(33)).spot_usd
    terminal = paths[:, -1]
    standard_error = terminal.std() / np.sqrt(terminal.size)
    assert abs(terminal.mean() - 100.0 * np.exp(CRASHY.drift)) < MC_SIGMAS * standard_error


def test_merton_without_jumps_is_gbm() -> None:
    jumps = JumpParameters(intensity_per_year=0.0, mean_log=-0.1, vol_log=0.1)
    no_jumps = MertonParameters(drift=0.0, vol=0.6, jumps=jumps)
    paths = simulate_merton(100.0, no_jumps, 1 / 365, 10, 3, np.random.default_rng(34))
    assert paths.jump_counts.sum() == 0
    assert paths.spot_usd.shape == (3, 11)


def test_jump_compensator_and_variance_match_their_formulas() -> None:
    assert jump_compensator(-0.15, 0.2) == pytest.approx(np.exp(-0.15 + 0.02) - 1.0)
    expected_variance = 0.25 + 4.0 * (0.0225 + 0.04)
    assert jump_diffusion_variance(0.5, 4.0, -0.15, 0.2) == pytest.approx(expected_variance)
