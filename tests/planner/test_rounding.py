"""Rounding the relaxation: assessments, the best rounding, and its repair."""

from __future__ import annotations

import numpy as np
import pytest
from planner.brute_force import DELTA, GAMMA, delta_request, option, perpetual

from hedgekeeper.planner import PlanRequest
from hedgekeeper.planner.rounding import (
    MAX_FRACTIONAL,
    assess_lots,
    repair_rounding,
    round_relaxation,
)


def test_assessment_checks_limits_minimum_size_and_margin() -> None:
    perp = perpetual(min_size=50.0, min_position=-100.0, max_position=100.0,
                     initial_margin_short_usd=1.0)
    request = delta_request(candidates=[perp], margin_available_usd=60.0)
    assessment = assess_lots(request, np.array([[0.0], [-20.0], [-50.0], [-70.0], [-150.0]]))
    np.testing.assert_array_equal(assessment.admissible, [True, False, True, False, False])
    np.testing.assert_allclose(assessment.cost_usd, [0.0, 0.1, 0.25, 0.35, 0.75])
    np.testing.assert_allclose(assessment.shortfall, [9000.0, 8980.0, 8950.0, 8930.0, 8850.0])


def test_assessment_holds_tiny_margin_rates_to_their_own_scale() -> None:
    # 1e-9 USD a lot, none available: one lot short exceeds the margin, whatever its size in USD.
    perp = perpetual(lot_size=10.0, initial_margin_short_usd=1e-10)
    request = delta_request(candidates=[perp], margin_available_usd=0.0)
    assessment = assess_lots(request, np.array([[0.0], [1.0], [-1.0]]))
    np.testing.assert_array_equal(assessment.admissible, [True, True, False])


def test_best_rounding_is_the_cheapest_that_reaches_the_goal() -> None:
    request = delta_request(greeks={DELTA: 3.40005})
    rounding = round_relaxation(request, np.array([-9000.5]))
    assert rounding is not None
    np.testing.assert_array_equal(rounding.lots, [-9001.0])
    assert rounding.shortfall == 0.0 and rounding.cost_usd == pytest.approx(45.005)


def test_when_no_rounding_reaches_the_goal_the_closest_is_returned() -> None:
    request = delta_request(candidates=[perpetual(min_position=-8000.0)])
    rounding = round_relaxation(request, np.array([-7999.5]))
    assert rounding is not None
    np.testing.assert_array_equal(rounding.lots, [-8000.0])
    assert rounding.shortfall == pytest.approx(1000.0)


def test_too_many_fractional_candidates_are_not_rounded() -> None:
    count = MAX_FRACTIONAL + 1
    request = delta_request(candidates=[perpetual(f"P{i}") for i in range(count)])
    assert round_relaxation(request, np.full(count, -0.5)) is None


def test_repair_fixes_the_coarse_rounding_and_lets_the_fine_candidate_make_up() -> None:
    # The relaxation hedges 0.9 BTC into a 0.01 BTC wide band with 1.5 lots of an option
    # (0.05 BTC a lot) and 8250 perpetual contracts; rounding the option moves delta by
    # 0.025 BTC, out of the band, and the perpetual held at 8250 cannot make that up.
    # Relaxing again with the option fixed can.
    call = option("BTC-C", delta=0.5, gamma=0.0, vega=0.0)
    request = delta_request(candidates=[perpetual(), call], goal={DELTA: (2.49, 2.5)})
    relaxed = np.array([-8250.0, -1.5])
    rounding = round_relaxation(request, relaxed)
    assert rounding is not None and rounding.shortfall > 0.0

    def relax_with_fixed(indices: np.ndarray, lots: np.ndarray) -> np.ndarray:
        again = relaxed.copy()
        again[indices] = lots
        option_delta = again[1] * 0.1 * 0.5
        again[0] = (-0.9 - option_delta) / 1e-4 + 0.5  # the perpetual relaxed again, half a lot off
        return again

    repaired = repair_rounding(request, relaxed, relax_with_fixed)
    assert repaired is not None and repaired.shortfall == 0.0
    np.testing.assert_array_equal(repaired.lots, [-8000.0, -2.0])  # cheaper than [-8500, -1]
    assert repaired.cost_usd == pytest.approx(8000 * 10.0 * 0.0005 + 0.2 * 5_000.0 * 0.003)


def test_repair_needs_a_fractional_candidate() -> None:
    request = delta_request()
    assert repair_rounding(request, np.array([-9000.0]), lambda indices, lots: None) is None


def test_gamma_rounding_counts_shortfall_in_lot_steps() -> None:
    call = option("BTC-C", delta=0.0, gamma=300.0, vega=0.0)
    request = PlanRequest(greeks={GAMMA: -1_000.0}, goal={GAMMA: (0.0, 0.0)}, candidates=[call],
                          tolerance={GAMMA: 0.0})
    assessment = assess_lots(request, np.array([[33.0], [34.0]]))
    np.testing.assert_allclose(assessment.shortfall, [10.0 / 30.0, 20.0 / 30.0])
