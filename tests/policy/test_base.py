"""Banded measures, goals, and the Policy contract: every built policy decides purely."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings

from hedgekeeper.policy.base import banded_measures, delta_target_coin, distance_outside, intersect_goals
from hedgekeeper.policy.config import build_policy, load_policy_config
from hedgekeeper.policy.decision import Greek, PolicyInput

from policy.policy_builders import PROFILE, config_table, policy_inputs, snapshot


def test_delta_usd_band_compares_in_usd_and_sets_goal_in_coin() -> None:
    eth = snapshot(underlying="ETH", spot_usd=2_500.0, delta_coin=50.0)
    (measure,) = banded_measures(eth, PROFILE.bands("ETH"))
    assert (measure.name, measure.greek, measure.value) == ("delta_usd", Greek.DELTA_COIN, 125_000.0)
    assert measure.describe() == "delta_usd 125000.00 above band upper 100000.00"
    assert measure.goal("edge") == (0.0, 40.0)
    assert measure.goal("target") == (20.0, 20.0)
    assert delta_target_coin([measure]) == 20.0


def test_measures_follow_profile_fields_and_skip_unbanded_greeks() -> None:
    measures = banded_measures(snapshot(vega_usd_per_vol_pt=-6_000.0), PROFILE.bands("BTC"))
    assert [m.name for m in measures] == ["delta_coin", "vega_usd_per_vol_pt", "weight"]
    assert measures[1].describe() == "vega_usd_per_vol_pt -6000.00 below band lower -5000.00"
    assert banded_measures(snapshot(underlying="SOL"), PROFILE.bands("SOL")) == ()
    assert delta_target_coin(()) == 0.0


@pytest.mark.parametrize(
    ("value", "distance"), [(3.0, 0.5), (2.5, 0.0), (-2.5, 0.0), (0.0, 0.0), (-4.0, -1.5)]
)
def test_distance_outside_is_signed_and_zero_on_edges(value: float, distance: float) -> None:
    assert distance_outside(value, (-2.5, 2.5)) == distance


def test_intersect_goals_narrows_each_greek_and_keeps_the_others() -> None:
    goal = intersect_goals([
        {Greek.DELTA_COIN: (-2.5, 2.5), Greek.WEIGHT: (0.15, 0.25)},
        {Greek.DELTA_COIN: (-0.3, 0.4)},
        {Greek.DELTA_COIN: (-1.0, 1.0), Greek.VEGA_USD_PER_VOL_PT: (-5_000.0, 1_000.0)},
    ])
    assert goal == {
        Greek.DELTA_COIN: (-0.3, 0.4), Greek.WEIGHT: (0.15, 0.25), Greek.VEGA_USD_PER_VOL_PT: (-5_000.0, 1_000.0),
    }


CONFIGS: dict[str, dict[str, Any]] = {
    "threshold": config_table("threshold", threshold={}),
    "relative": config_table(
        "threshold", threshold={"relative": 0.2, "floors": {"delta_coin": 0.5, "vega_usd_per_vol_pt": 500.0}}
    ),
    "time": config_table("time", time={"interval_s": 3_600}),
    "oracle_deviation": config_table("oracle_deviation", oracle_deviation={"deviation": 0.01, "heartbeat_s": 7_200}),
    "whalley_wilmott": config_table("whalley_wilmott", whalley_wilmott={"risk_aversion_per_usd": 1e-4}),
    "hybrid_all_with_cost": config_table(
        "hybrid", hybrid={"combine": "all", "members": ["threshold", "oracle_deviation"]},
        threshold={}, oracle_deviation={"deviation": 0.01},
        cost_aware={"risk_aversion_per_usd": 1e-4, "horizon_hours": 24},
    ),
    "hybrid_any_with_cost": config_table(
        "hybrid", hybrid={"combine": "any", "members": ["whalley_wilmott", "time"]},
        whalley_wilmott={"risk_aversion_per_usd": 1e-4, "min_half_width_coin": 0.1}, time={"interval_s": 60},
        cost_aware={"risk_aversion_per_usd": 1e-4, "horizon_hours": 24},
    ),
}


@pytest.mark.parametrize("name", CONFIGS)
@settings(max_examples=60, deadline=None)
@given(state=policy_inputs())
def test_decide_is_pure(name: str, state: PolicyInput) -> None:
    policy = build_policy(load_policy_config(CONFIGS[name]), PROFILE)
    policy_before, state_before = copy.deepcopy(policy), copy.deepcopy(state)
    first = policy.decide(state)
    first.goal.clear()  # a caller mutating its decision must not reach the next one
    second, third = policy.decide(state), policy.decide(state)
    assert second == third
    assert second.ts_ns == state.risk.ts_ns and second.underlying == state.risk.underlying
    assert policy == policy_before and state == state_before
