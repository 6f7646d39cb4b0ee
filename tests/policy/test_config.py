"""The [policy] table: validation naming the field, and build_policy's layers, hard limits outermost."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hedgekeeper.errors import ConfigError
from hedgekeeper.policy import config as policy_config
from hedgekeeper.policy.config import build_policy, load_policy_config
from hedgekeeper.policy.cost_aware import CostAwareSkip
from hedgekeeper.policy.hard_limits import HardLimits
from hedgekeeper.policy.hybrid import AllOf, AnyOf
from hedgekeeper.policy.risk_profile import load_risk_profile
from hedgekeeper.policy.triggers import OracleDeviationPolicy, ThresholdPolicy, TimePolicy
from hedgekeeper.policy.whalley_wilmott import WhalleyWilmottPolicy

from policy.policy_builders import HOUR_NS, PROFILE, SECOND_NS, config_table


def test_module_example_loads_from_toml_and_builds_layers(tmp_path: Path) -> None:
    example = policy_config.__doc__.split("::\n", 1)[1]
    path = tmp_path / "book.toml"
    path.write_text("\n".join(line.strip() for line in example.splitlines()))
    profile = load_risk_profile({"BTC": {"delta_coin": {"target": 0.0, "width": 2.5},
                                         "weight": {"target": 0.2, "width": 0.05}}})
    policy = build_policy(load_policy_config(path), profile)
    assert isinstance(policy, HardLimits)
    assert (policy.min_liquidation_distance, policy.max_leverage) == (0.15, 5.0)
    assert isinstance(policy.policy, CostAwareSkip)
    assert policy.policy.horizon_years == pytest.approx(1 / 365)
    assert policy.policy.policy == AnyOf((
        ThresholdPolicy(profile=profile, hedge_to="edge", relative=0.2, floors={"delta_coin": 0.5}),
        TimePolicy(profile=profile, hedge_to="edge", interval_ns=HOUR_NS),
        OracleDeviationPolicy(profile=profile, hedge_to="edge", deviation=0.005, heartbeat_ns=86_400 * SECOND_NS),
        WhalleyWilmottPolicy(profile=profile, hedge_to="edge", risk_aversion_per_usd=1e-4),
    ))


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        (config_table("threshold", threshold={}), ThresholdPolicy(profile=PROFILE, hedge_to="edge")),
        (config_table("time", time={"interval_s": 3600}),
         TimePolicy(profile=PROFILE, hedge_to="edge", interval_ns=HOUR_NS)),
        (config_table("oracle_deviation", oracle_deviation={"deviation": 0.01}),
         OracleDeviationPolicy(profile=PROFILE, hedge_to="edge", deviation=0.01)),
        (config_table("whalley_wilmott", whalley_wilmott={"risk_aversion_per_usd": 1e-4, "rate": 0.03,
                                                           "horizon_years": 0.5, "min_half_width_coin": 0.1}),
         WhalleyWilmottPolicy(profile=PROFILE, hedge_to="edge", risk_aversion_per_usd=1e-4, rate=0.03,
                              horizon_years=0.5, min_half_width_coin=0.1)),
        (config_table("hybrid", hybrid={"combine": "all", "members": ["time", "threshold"]},
                      time={"interval_s": 1.5}, threshold={}),
         AllOf((TimePolicy(profile=PROFILE, hedge_to="edge", interval_ns=1_500_000_000),
                ThresholdPolicy(profile=PROFILE, hedge_to="edge")))),
    ],
)
def test_each_kind_builds_its_policy_directly_within_hard_limits(
    table: dict[str, Any], expected: object
) -> None:
    policy = build_policy(load_policy_config(table), PROFILE)
    assert policy == HardLimits(expected, profile=PROFILE, min_liquidation_distance=0.1, max_leverage=5.0)


TIME = {"time": {"interval_s": 60}}


@pytest.mark.parametrize(
    ("table", "field"),
    [
        ({**config_table("time", **TIME), "hard_limits": None}, "policy.hard_limits: Field required"),
        ({**config_table("time", **TIME), "hard_limits": {"max_leverage": 5.0}},
         "policy.hard_limits.min_liquidation_distance: Field required"),
        ({**config_table("time", **TIME), "hard_limits": {"min_liquidation_distance": 1.5, "max_leverage": 5.0}},
         "policy.hard_limits.min_liquidation_distance: Input should be less than 1"),
        ({**config_table("time", **TIME), "hard_limits": {"min_liquidation_distance": 0.1, "max_leverage": 0}},
         "policy.hard_limits.max_leverage: Input should be greater than 0"),
        ({**config_table("time", **TIME), "hedge_to": None}, "policy.hedge_to: Field required"),
        ({**config_table("time", **TIME), "hedge_to": "middle"},
         "policy.hedge_to: Input should be 'edge' or 'target'"),
        (config_table("tme", **TIME), "policy.kind: Input should be"),
        (config_table("time"), r"policy: kind = 'time' needs a \[policy.time\] table"),
        (config_table("time", threshold={}, **TIME),
         r"policy: \[policy.threshold\] is given but kind = 'time' does not use it"),
        (config_table("time", time={"interval_s": 0}), "policy.time.interval_s: Input should be greater than 0"),
        (config_table("time", time={"interval": 60}), "policy.time.interval_s: Field required"),
        (config_table("oracle_deviation", oracle_deviation={"deviation": 0.01, "heartbeat_s": -1}),
         "policy.oracle_deviation.heartbeat_s: Input should be greater than 0"),
        (config_table("threshold", threshold={"floors": {"delta_coin": 0.5}}),
         "policy.threshold: floors apply only with relative"),
        (config_table("threshold", threshold={"relative": 0.1, "floors": {"delta_coin": -1}}),
         "policy.threshold.floors.delta_coin: Input should be greater than or equal to 0"),
        (config_table("whalley_wilmott", whalley_wilmott={"risk_aversion_per_usd": 0}),
         "policy.whalley_wilmott.risk_aversion_per_usd: Input should be greater than 0"),
        (config_table("hybrid", **TIME), r"policy: kind = 'hybrid' needs a \[policy.hybrid\] table"),
        (config_table("hybrid", hybrid={"combine": "any", "members": ["time"]}, **TIME),
         "policy.hybrid.members: Tuple should have at least 2 items"),
        (config_table("hybrid", hybrid={"combine": "any", "members": ["time", "time"]}, **TIME),
         r"policy.hybrid.members: members must be distinct, got \['time', 'time'\]"),
        (config_table("hybrid", hybrid={"combine": "any", "members": ["time", "hybrid"]}, **TIME),
         r"policy.hybrid.members\[1\]: Input should be"),
        (config_table("hybrid", hybrid={"combine": "most", "members": ["time", "threshold"]}, threshold={}, **TIME),
         "policy.hybrid.combine: Input should be 'any' or 'all'"),
        (config_table("hybrid", hybrid={"combine": "any", "members": ["time", "threshold"]}, **TIME),
         r"policy: kind = 'hybrid' needs a \[policy.threshold\] table"),
        (config_table("time", cost_aware={"risk_aversion_per_usd": 1e-4}, **TIME),
         "policy.cost_aware.horizon_hours: Field required"),
        (config_table("time", **TIME,
                      cost_aware={"risk_aversion_per_usd": 1e-4, "horizon_hours": 24, "gamma": 1}),
         "policy.cost_aware.gamma: Extra inputs are not permitted"),
    ],
)
def test_bad_field_is_an_error_naming_it(table: dict[str, Any], field: str) -> None:
    table = {key: value for key, value in table.items() if value is not None}
    with pytest.raises(ConfigError, match=field):
        load_policy_config(table)


def test_relative_mode_needs_a_floor_for_each_zero_target() -> None:
    table = config_table("threshold", threshold={"relative": 0.2, "floors": {"delta_coin": 0.5}})
    config = load_policy_config(table)
    message = (r"policy\.threshold\.floors\.vega_usd_per_vol_pt: required in relative mode, "
               r"since profile\.BTC\.vega_usd_per_vol_pt has target 0")
    with pytest.raises(ConfigError, match=message):
        build_policy(config, PROFILE)
    weight_only = load_risk_profile({"BTC": {"weight": {"target": 0.2, "width": 0.05}}})
    assert isinstance(build_policy(config, weight_only).policy, ThresholdPolicy)


def test_missing_policy_table_and_malformed_file_are_errors(tmp_path: Path) -> None:
    path = tmp_path / "book.toml"
    path.write_text("[profile.BTC]\ndelta_coin = { target = 0.0, width = 2.5 }\n")
    with pytest.raises(ConfigError, match=r"book.toml: no \[policy\] table"):
        load_policy_config(path)
    path.write_text("[policy\nkind = 'time'\n")
    with pytest.raises(ConfigError, match="book.toml: malformed TOML"):
        load_policy_config(path)
    path.write_text("policy = 1\n")
    with pytest.raises(ConfigError, match=r"book.toml: \[policy\] must be a table"):
        load_policy_config(path)
