"""GBM: log-return moments and a Monte Carlo call against their closed forms.

Monte Carlo checks allow MC_SIGMAS standard errors: with a fixed seed they are
deterministic, and a correct simulator fails a 4-sigma check with probability
about 6e-5 per statistic for a new seed.
"""

from __future__ import annotations

import numpy as np

from hedgekeeper.market.simulators.gbm import (
    GbmParameters,
    gbm_log_returns,
    simulate_gbm,
    spot_paths_from_log_returns,
)
from hedgekeeper.pricing import black_scholes_price

MC_SIGMAS = 4.0


def test_gbm_log_returns_have_closed_form_mean_and_variance() -> None:
    drift, vol, dt_years = 0.3, 0.8, 1 / 365
    returns = gbm_log_returns(drift, vol, dt_years, 1_000, 200, np.random.default_rng(11)).ravel()
    count = returns.size
    mean, variance = (drift - 0.5 * vol**2) * dt_years, vol**2 * dt_years
    assert abs(returns.mean() - mean) < MC_SIGMAS * np.sqrt(variance / count)
    # The sample variance of normals has standard error variance sqrt(2 / (n - 1)).
    assert abs(returns.var(ddof=1) - variance) < MC_SIGMAS * variance * np.sqrt(2.0 / (count - 1))


def test_gbm_call_by_monte_carlo_matches_black_scholes() -> None:
    spot, strike, t_years, vol, rate = 100.0, 110.0, 0.5, 0.8, 0.05
    paths = simulate_gbm(spot, GbmParameters(drift=rate, vol=vol), t_years / 10, 10, 200_000,
                         np.random.default_rng(12))
    discounted = np.exp(-rate * t_years) * np.maximum(paths[:, -1] - strike, 0.0)
    expected = float(black_scholes_price(spot, strike, t_years, vol, True, rate=rate))
    standard_error = discounted.std() / np.sqrt(discounted.size)
    assert abs(discounted.mean() - expected) < MC_SIGMAS * standard_error


def test_gbm_with_zero_vol_grows_at_the_drift() -> None:
    parameters = GbmParameters(drift=0.1, vol=0.0)
    paths = simulate_gbm(100.0, parameters, 0.25, 4, 2, np.random.default_rng(0))
    expected = 100.0 * np.exp(0.1 * 0.25 * np.arange(5))
    np.testing.assert_allclose(paths, np.stack([expected, expected]))


def test_gbm_drift_and_vol_may_vary_per_step() -> None:
    vol = np.array([[0.0, 0.0, 1.0]])
    returns = gbm_log_returns(0.0, vol, 1 / 365, 3, 1, np.random.default_rng(1))
    assert returns[0, 0] == 0.0 and returns[0, 1] == 0.0 and returns[0, 2] != 0.0


def test_spot_paths_start_at_the_spot_and_compound_returns() -> None:
    paths = spot_paths_from_log_returns(50.0, np.log(np.array([[2.0, 0.5, 3.0]])))
    np.testing.assert_allclose(paths, [[50.0, 100.0, 50.0, 150.0]])
