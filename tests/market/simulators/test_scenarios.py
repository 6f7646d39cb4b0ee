"""Crash scenarios: a crash day ends down by its fraction; a flash crash troughs and recovers."""

from __future__ import annotations

import numpy as np
import pytest

from hedgekeeper.market.simulators.gbm import GbmParameters, simulate_gbm
from hedgekeeper.market.simulators.heston import HestonParameters, simulate_heston
from hedgekeeper.market.simulators.scenarios import CrashDay, FlashCrash, scenario_overlay

SECONDS_PER_YEAR = 365 * 86_400


def test_crash_day_ends_thirty_percent_down_on_a_flat_market() -> None:
    elapsed_s = np.arange(0.0, 2 * 86_400.0 + 1, 60.0)
    flat = np.full(elapsed_s.size, 50_000.0)
    overlay = scenario_overlay([CrashDay(start_s=86_400.0, drop_fraction=0.3)], elapsed_s)
    crashed = overlay.apply_to_spot(flat)
    assert crashed[elapsed_s == 86_400.0] == pytest.approx(50_000.0)
    assert crashed[-1] == pytest.approx(35_000.0)
    assert np.all(np.diff(crashed) <= 0.0)


def test_crash_day_composes_with_any_path() -> None:
    parameters = HestonParameters(drift=0.0, initial_variance=0.36, long_run_variance=0.36,
                                  mean_reversion_per_year=3.0, vol_of_variance=1.0,
                                  correlation=-0.5)
    rng = np.random.default_rng(51)
    paths = simulate_heston(100.0, parameters, 60.0 / SECONDS_PER_YEAR, 1_440, 5, rng)
    overlay = scenario_overlay([CrashDay(start_s=0.0, drop_fraction=0.3)], np.arange(1_441) * 60.0)
    crashed = overlay.apply_to_spot(paths.spot_usd)
    # Each path ends the day 30% below where the model alone would have taken it.
    np.testing.assert_allclose(crashed[:, -1] / paths.spot_usd[:, -1], 0.7)


def test_flash_crash_hits_its_trough_and_recovers_within_the_stated_minutes() -> None:
    crash = FlashCrash(start_s=600.0, drop_fraction=0.15, drop_s=10.0, recovery_s=300.0,
                       vol_multiplier=4.0)
    elapsed_s = np.arange(0.0, 1_800.0)
    base = simulate_gbm(60_000.0, GbmParameters(drift=0.0, vol=0.5), 1.0 / SECONDS_PER_YEAR,
                        elapsed_s.size - 1, 1, np.random.default_rng(52))[0]
    overlay = scenario_overlay([crash], elapsed_s)
    ratio = overlay.apply_to_spot(base) / base
    assert ratio.argmin() == 610 and ratio.min() == pytest.approx(0.85)
    assert np.all(np.diff(ratio[600:611]) < 0.0) and np.all(np.diff(ratio[610:911]) > 0.0)
    np.testing.assert_allclose(ratio[:601], 1.0)
    np.testing.assert_allclose(ratio[910:], 1.0)
    assert np.all(overlay.vol_multiplier[600:910] == 4.0) and overlay.vol_multiplier[910] == 1.0


def test_overlays_of_several_scenarios_add_shifts_and_multiply_vols() -> None:
    first = FlashCrash(start_s=0.0, drop_fraction=0.5, drop_s=10.0, recovery_s=10.0,
                       vol_multiplier=2.0)
    second = CrashDay(start_s=0.0, drop_fraction=0.2, duration_s=10.0, vol_multiplier=3.0)
    overlay = scenario_overlay([first, second], np.array([10.0, 15.0, 20.0]))
    expected = [0.5 * 0.8, np.sqrt(0.5) * 0.8, 0.8]
    np.testing.assert_allclose(np.exp(overlay.log_price_shift), expected)
    np.testing.assert_allclose(overlay.vol_multiplier, [2.0, 2.0, 1.0])
    np.testing.assert_allclose(overlay.apply_to_variance(np.full(3, 0.25)), [1.0, 1.0, 0.25])


def test_no_scenario_leaves_the_path_alone() -> None:
    overlay = scenario_overlay([], np.arange(5.0))
    np.testing.assert_array_equal(overlay.apply_to_spot(np.arange(1.0, 6.0)), np.arange(1.0, 6.0))
