"""The market path: each model's variance, the time grid, scenarios injected."""

from __future__ import annotations

import numpy as np
import pytest

from hedgekeeper.market.simulators.gbm import GbmParameters
from hedgekeeper.market.simulators.heston import HestonParameters
from hedgekeeper.market.simulators.market_path import (
    NS_PER_YEAR,
    simulate_market_path,
    simulate_spot_and_variance,
)
from hedgekeeper.market.simulators.merton import JumpParameters, MertonParameters
from hedgekeeper.market.simulators.scenarios import FlashCrash


def test_each_model_reports_its_instantaneous_variance() -> None:
    rng = np.random.default_rng(61)
    _, gbm = simulate_spot_and_variance(GbmParameters(drift=0.0, vol=0.7), 100.0, 1e-4, 5, 2, rng)
    np.testing.assert_allclose(gbm, 0.49)
    jumps = JumpParameters(intensity_per_year=10.0, mean_log=-0.1, vol_log=0.2)
    merton = MertonParameters(drift=0.0, vol=0.5, jumps=jumps)
    _, jump_variance = simulate_spot_and_variance(merton, 100.0, 1e-4, 5, 2, rng)
    np.testing.assert_allclose(jump_variance, 0.25 + 10.0 * (0.01 + 0.04))
    heston = HestonParameters(drift=0.0, initial_variance=0.3, long_run_variance=0.3,
                              mean_reversion_per_year=2.0, vol_of_variance=1.0, correlation=-0.3)
    spot, variance = simulate_spot_and_variance(heston, 100.0, 1e-4, 5, 2, rng)
    assert spot.shape == variance.shape == (2, 6)
    assert variance[0, 0] == 0.3 and np.all(variance[:, 1:] != 0.3)


def test_market_path_is_on_the_ns_grid_with_the_scenario_injected() -> None:
    crash = FlashCrash(start_s=2.0, drop_fraction=0.2, drop_s=2.0, recovery_s=2.0,
                       vol_multiplier=2.0)
    path = simulate_market_path(GbmParameters(drift=0.0, vol=0.5), 100.0, 10**18, 10**9, 8, [crash],
                                np.random.default_rng(62))
    np.testing.assert_array_equal(path.ts_ns, 10**18 + np.arange(9) * 10**9)
    np.testing.assert_allclose(path.vol, [0.5, 0.5, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5])
    unshocked = simulate_market_path(GbmParameters(drift=0.0, vol=0.5), 100.0, 10**18, 10**9, 8, [],
                                     np.random.default_rng(62))
    assert path.spot_usd[4] / unshocked.spot_usd[4] == pytest.approx(0.8)
    assert path.spot_usd[6] == unshocked.spot_usd[6]


def test_ns_per_year_is_act_365() -> None:
    assert NS_PER_YEAR == 365 * 24 * 3600 * 10**9
