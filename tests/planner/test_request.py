"""Plan requests: the effective goal, the scales, and errors that name the field."""

from __future__ import annotations

import math

import pytest
from planner.brute_force import DELTA, GAMMA, VEGA, WEIGHT, delta_request, option, perpetual

from hedgekeeper.planner import MalformedPlanRequest, PlanRequest
from hedgekeeper.planner.request import MATERIAL_STEP
from hedgekeeper.policy.decision import Decision, RiskSnapshot

CALL = option("BTC-C", delta=0.55, gamma=350.0, vega=130.0)


def test_target_goal_widens_to_half_the_finest_lot_step_each_side() -> None:
    request = PlanRequest(greeks={DELTA: 1.0, GAMMA: 0.0},
                          goal={DELTA: (0.0, 0.0), GAMMA: (100.0, 100.0)},
                          candidates=[perpetual(), CALL])
    lower, upper = request.effective_goal[DELTA]
    assert (lower, upper) == pytest.approx((-5e-5, 5e-5))
    assert request.effective_goal[GAMMA] == pytest.approx((100.0 - 17.5, 100.0 + 17.5))
    assert request.scale == pytest.approx({DELTA: 1e-4, GAMMA: 35.0})


def test_band_wider_than_a_lot_step_is_not_widened() -> None:
    assert delta_request().effective_goal == {DELTA: (-2.5, 2.5)}


def test_explicit_tolerance_replaces_the_default_widening() -> None:
    request = delta_request(goal={DELTA: (0.0, 0.0)}, tolerance={DELTA: 0.01})
    assert request.effective_goal == {DELTA: (-0.01, 0.01)}


def test_greek_no_candidate_moves_keeps_its_interval_and_a_unit_scale() -> None:
    request = PlanRequest(greeks={GAMMA: -20_000.0, VEGA: 0.0},
                          goal={GAMMA: (-5_000.0, 5_000.0), VEGA: (0.0, math.inf)},
                          candidates=[perpetual()])
    assert request.effective_goal[GAMMA] == (-5_000.0, 5_000.0)
    assert request.scale == {GAMMA: 10_000.0, VEGA: 1.0}
    assert request.lot_step(GAMMA) == 0.0


def test_candidate_that_cannot_trade_sets_no_lot_step() -> None:
    frozen = perpetual("FROZEN", sensitivities={DELTA: 1e-5}, min_position=0.0, max_position=0.0)
    request = delta_request(goal={DELTA: (0.0, 0.0)}, candidates=[frozen, perpetual()])
    assert request.lot_step(DELTA) == pytest.approx(1e-4)


def test_excess_is_signed_and_ignores_round_off() -> None:
    request = delta_request()
    assert request.excess(DELTA, 2.6) == pytest.approx(0.1)
    assert request.excess(DELTA, -2.7) == pytest.approx(-0.2)
    assert request.excess(DELTA, 2.5 + 1e-12) == 0.0


def test_margin_scale_is_the_finest_margin_of_a_tradable_lot_within_a_millionth() -> None:
    frozen = perpetual("FROZEN", min_position=0.0, max_position=0.0,
                       initial_margin_short_usd=1e-3)
    coarse = perpetual("COARSE", lot_size=10.0, initial_margin_long_usd=2.0,
                       initial_margin_short_usd=3.0)
    fine = perpetual("FINE", lot_size=0.5, initial_margin_short_usd=0.4)
    request = delta_request(candidates=[frozen, coarse, fine], margin_available_usd=0.0)
    assert request.margin_scale_usd == pytest.approx(0.2)
    tiny = perpetual("TINY", initial_margin_long_usd=1e-12)  # a 3e-14th of 30 USD a lot
    request = delta_request(candidates=[coarse, fine, tiny])
    assert request.margin_scale_usd == pytest.approx(30.0 * MATERIAL_STEP)
    assert delta_request().margin_scale_usd == 1.0  # no margin charged
    underflow = perpetual(lot_size=0.1, initial_margin_short_usd=5e-324)  # 0 USD a lot
    assert delta_request(candidates=[underflow]).margin_scale_usd == 1.0


def test_margin_excess_below_a_millionth_of_its_scale_is_round_off() -> None:
    tiny = perpetual(lot_size=10.0, initial_margin_short_usd=1e-10)
    request = delta_request(candidates=[tiny], margin_available_usd=0.0)
    assert request.margin_scale_usd == pytest.approx(1e-9)
    assert request.margin_exceeded([0.0, 1e-16, 1e-9, 2e-9]).tolist() == [
        False, False, True, True
    ]
    unlimited = delta_request(candidates=[tiny])
    assert not unlimited.margin_exceeded(1e12)


def test_request_from_decision_reads_every_greek_of_the_snapshot() -> None:
    risk = RiskSnapshot(ts_ns=0, underlying="BTC", spot_usd=100_000.0, delta_coin=3.4,
                        gamma_coin_per_usd=-2e-5, vega_usd_per_vol_pt=-800.0, weight=0.34,
                        leverage=2.0)
    decision = Decision(ts_ns=0, underlying="BTC", act=True, goal={DELTA: (-2.5, 2.5)})
    request = PlanRequest.from_decision(decision, risk, [perpetual()], margin_available_usd=1e4)
    expected = {DELTA: 3.4, GAMMA: -2_000.0, VEGA: -800.0, WEIGHT: 0.34}
    assert request.greeks == pytest.approx(expected)
    assert request.goal == {DELTA: (-2.5, 2.5)} and request.margin_available_usd == 1e4
    with pytest.raises(MalformedPlanRequest, match="decision is for ETH, the risk for BTC"):
        ether = Decision(ts_ns=0, underlying="ETH", act=True)
        PlanRequest.from_decision(ether, risk, [perpetual()])


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"greeks": {DELTA: float("nan")}}, "current delta_coin must be a finite number, got nan"),
        ({"greeks": {"theta": 1.0}}, "greeks: unknown Greek 'theta'; expected one of delta_coin"),
        ({"goal": {"theta": (0.0, 1.0)}}, "goal: unknown Greek 'theta'"),
        ({"goal": {DELTA: (1.0, -1.0)}}, "goal of delta_coin: lower 1.0 is above upper -1.0"),
        ({"goal": {DELTA: (float("nan"), 1.0)}}, "goal of delta_coin must be a number, got nan"),
        ({"goal": {DELTA: 1.0}}, r"goal of delta_coin must be a \(lower, upper\) pair, got 1.0"),
        ({"goal": {GAMMA: (0.0, 1.0)}},
         "the goal constrains gamma_usd_per_pct but greeks has no value"),
        ({"goal": {DELTA: (math.inf, math.inf)}},
         r"goal of delta_coin: \(inf, inf\) contains no number"),
        ({"candidates": [perpetual(), perpetual()]},
         "candidate 'BTC-PERPETUAL.DERIBIT' is listed twice"),
        ({"candidates": ["BTC-PERPETUAL"]}, "candidates must be Candidate"),
        ({"margin_available_usd": float("nan")}, "margin_available_usd must be a number, got nan"),
        ({"margin_available_usd": -math.inf}, "margin_available_usd must not be -inf"),
        ({"tolerance": {DELTA: -0.1}}, "tolerance of delta_coin must be >= 0"),
        ({"greeks": [3.4]}, "greeks must be a mapping keyed by Greek"),
    ],
)
def test_malformed_request_names_the_problem(fields: dict, problem: str) -> None:
    with pytest.raises(MalformedPlanRequest, match=problem):
        delta_request(**fields)


def test_numerical_noise_in_a_sensitivity_does_not_set_the_lot_step() -> None:
    noisy = perpetual(sensitivities={DELTA: 1e-4, GAMMA: 1e-15})
    request = PlanRequest(greeks={GAMMA: 0.0}, goal={GAMMA: (0.0, 0.0)}, candidates=[noisy, CALL])
    assert request.lot_step(GAMMA) == pytest.approx(35.0)
