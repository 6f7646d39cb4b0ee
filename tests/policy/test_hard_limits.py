"""Hard limits force a rebalance to the delta target whatever the wrapped policy and skip rule say."""

from __future__ import annotations

import math

import pytest

from hedgekeeper.policy.cost_aware import CostAwareSkip
from hedgekeeper.policy.decision import Greek
from hedgekeeper.policy.hard_limits import HardLimits
from hedgekeeper.policy.triggers import ThresholdPolicy

from policy.policy_builders import PROFILE, state, verdict

IDLE = verdict(False, reasons=("delta_coin 2.4000 inside band [-2.5000, 2.5000]",))


def limited(policy: object) -> HardLimits:
    return HardLimits(policy, profile=PROFILE, min_liquidation_distance=0.1, max_leverage=5.0)


@pytest.mark.parametrize(
    ("fields", "forced", "trigger"),
    [
        ({"liquidation_distance": 0.1}, False, ""),
        ({"liquidation_distance": 0.1 - 1e-12}, True, "hard_limit:liquidation"),
        ({"liquidation_distance": math.inf}, False, ""),
        ({"leverage": 5.0}, False, ""),
        ({"leverage": 5.0 + 1e-12}, True, "hard_limit:leverage"),
        ({"liquidation_distance": math.nan}, True, "hard_limit:liquidation"),
        ({"leverage": math.nan}, True, "hard_limit:leverage"),
    ],
)
def test_limits_force_only_once_crossed(fields: dict, forced: bool, trigger: str) -> None:
    decision = limited(IDLE).decide(state(delta_coin=2.4, **fields))
    assert (decision.act, decision.forced, decision.trigger) == (forced, forced, trigger)


def test_uncrossed_limits_return_the_wrapped_decision_unchanged() -> None:
    inner = ThresholdPolicy(profile=PROFILE, hedge_to="edge")
    for delta_coin in (0.0, 3.0):
        calm = state(delta_coin=delta_coin, leverage=2.0, liquidation_distance=0.4)
        assert limited(inner).decide(calm) == inner.decide(calm)


def test_forced_rebalance_goes_to_delta_target_and_keeps_other_bands() -> None:
    decision = limited(IDLE).decide(state(delta_coin=2.4, liquidation_distance=0.05, leverage=6.0))
    assert decision.trigger == "hard_limit:liquidation"
    assert decision.reasons == (
        "liquidation distance 5.00% below minimum 10.00%",
        "leverage 6.00 above maximum 5.00",
        "delta_coin 2.4000 inside band [-2.5000, 2.5000]",
    )
    assert decision.goal == {
        Greek.DELTA_COIN: (0.0, 0.0), Greek.VEGA_USD_PER_VOL_PT: (-5_000.0, 1_000.0), Greek.WEIGHT: (0.15, 0.25),
    }
    assert decision.expected_cost_usd == pytest.approx(0.0005 * 2.4 * 100_000.0)


def test_forced_goal_narrows_an_acting_wrapped_goal() -> None:
    inner = verdict(True, trigger="threshold", goal={Greek.DELTA_COIN: (-2.5, 2.5), Greek.WEIGHT: (0.18, 0.22)})
    decision = limited(inner).decide(state(leverage=7.0))
    assert decision.goal[Greek.DELTA_COIN] == (0.0, 0.0)
    assert decision.goal[Greek.WEIGHT] == (0.18, 0.22)


def test_forced_goal_uses_the_usd_delta_target() -> None:
    decision = limited(IDLE).decide(state(underlying="ETH", spot_usd=2_500.0, delta_coin=35.0, leverage=9.0))
    assert decision.goal == {Greek.DELTA_COIN: (20.0, 20.0)}


def test_limits_force_even_where_policy_and_skip_rule_would_not_act() -> None:
    # delta 2.6 is 0.1 coin past the band: the cost-aware skip finds the hedge not worth it
    skipper = CostAwareSkip(ThresholdPolicy(profile=PROFILE, hedge_to="edge"), risk_aversion_per_usd=1e-4,
                            horizon_years=1 / 365)
    crossing = state(delta_coin=2.6, leverage=5.5)
    assert skipper.decide(crossing).trigger == "cost_aware_skip"
    decision = limited(skipper).decide(crossing)
    assert decision.act and decision.forced and decision.trigger == "hard_limit:leverage"
    assert decision.goal[Greek.DELTA_COIN] == (0.0, 0.0)
    assert decision.reasons[0] == "leverage 5.50 above maximum 5.00"
    assert decision.reasons[-1].startswith("skipped: expected cost")


def test_a_skip_rule_outside_the_limits_cannot_skip_a_forced_decision() -> None:
    wrongly_nested = CostAwareSkip(limited(IDLE), risk_aversion_per_usd=1e-9, horizon_years=1e-6)
    decision = wrongly_nested.decide(state(delta_coin=0.01, leverage=6.0, cost_fraction=0.01))
    assert decision.act and decision.forced
