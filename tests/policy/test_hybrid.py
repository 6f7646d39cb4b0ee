"""Any-of and all-of combinations: when they act, their trigger, reasons, goal and estimates."""

from __future__ import annotations

import pytest

from hedgekeeper.policy.decision import Greek
from hedgekeeper.policy.hybrid import AllOf, AnyOf
from hedgekeeper.policy.triggers import OracleDeviationPolicy, ThresholdPolicy

from policy.policy_builders import PROFILE, remembered, state, verdict

THRESHOLD = verdict(True, trigger="threshold", reasons=("delta_coin 3.4000 above band upper 2.5000",),
                    goal={Greek.DELTA_COIN: (-2.5, 2.5), Greek.WEIGHT: (0.15, 0.25)}, expected_cost_usd=9.0)
TIME = verdict(True, trigger="time", reasons=("7200 s since the last rebalance, reached interval 3600 s",),
               goal={Greek.DELTA_COIN: (0.0, 0.0)}, expected_cost_usd=20.0, expected_benefit_usd=5.0)
QUIET = verdict(False, reasons=("1800 s since the last rebalance, below interval 3600 s",))


@pytest.mark.parametrize(
    ("members", "any_acts", "all_acts"),
    [((THRESHOLD, TIME), True, True), ((THRESHOLD, QUIET), True, False), ((QUIET, QUIET), False, False)],
)
def test_any_acts_on_one_member_and_all_on_every_member(
    members: tuple, any_acts: bool, all_acts: bool
) -> None:
    assert AnyOf(members).decide(state()).act is any_acts
    assert AllOf(members).decide(state()).act is all_acts


def test_combined_decision_names_fired_members_and_keeps_all_reasons() -> None:
    decision = AnyOf((QUIET, THRESHOLD)).decide(state())
    assert decision.trigger == "any(threshold)"
    assert decision.reasons == (
        "any-of: 1 of 2 members fired (threshold)",
        "1800 s since the last rebalance, below interval 3600 s",
        "delta_coin 3.4000 above band upper 2.5000",
    )
    skipped = AllOf((QUIET, THRESHOLD)).decide(state())
    assert (skipped.trigger, skipped.goal) == ("", {})
    assert skipped.reasons[0] == "all-of: 1 of 2 members fired (threshold)"


def test_combined_goal_intersects_fired_goals_and_takes_largest_estimates() -> None:
    decision = AllOf((THRESHOLD, TIME)).decide(state())
    assert decision.trigger == "all(threshold,time)"
    assert decision.goal == {Greek.DELTA_COIN: (0.0, 0.0), Greek.WEIGHT: (0.15, 0.25)}
    assert (decision.expected_cost_usd, decision.expected_benefit_usd) == (20.0, 5.0)
    assert AnyOf((THRESHOLD, QUIET)).decide(state()).goal == THRESHOLD.decision.goal


def test_combined_decision_is_forced_when_a_fired_member_is() -> None:
    forced = verdict(True, trigger="hard_limit:leverage", forced=True)
    assert AnyOf((QUIET, forced)).decide(state()).forced
    assert not AnyOf((QUIET, THRESHOLD)).decide(state()).forced


def test_all_of_threshold_and_oracle_waits_for_both_on_real_policies() -> None:
    policy = AllOf((
        ThresholdPolicy(profile=PROFILE, hedge_to="edge"),
        OracleDeviationPolicy(profile=PROFILE, hedge_to="target", deviation=0.01),
    ))
    out_of_band_price_still = state(delta_coin=3.0, memory=remembered(60.0), spot_usd=100_500.0)
    out_of_band_price_moved = state(delta_coin=3.0, memory=remembered(60.0), spot_usd=102_000.0)
    assert not policy.decide(out_of_band_price_still).act
    decision = policy.decide(out_of_band_price_moved)
    assert decision.act and decision.trigger == "all(threshold,oracle_deviation)"
    assert decision.goal[Greek.DELTA_COIN] == (0.0, 0.0)
