"""Threshold, time and oracle-deviation triggers fire exactly at their thresholds, with reasons, goals."""

from __future__ import annotations

import pytest

from hedgekeeper.policy.decision import Greek, HedgeMemory
from hedgekeeper.policy.triggers import OracleDeviationPolicy, ThresholdPolicy, TimePolicy

from policy.policy_builders import AS_OF_NS, HOUR_NS, PROFILE, SECOND_NS, remembered, state

BTC_BANDS = {
    Greek.DELTA_COIN: (-2.5, 2.5), Greek.VEGA_USD_PER_VOL_PT: (-5_000.0, 1_000.0), Greek.WEIGHT: (0.15, 0.25)
}
BTC_TARGETS = {Greek.DELTA_COIN: (0.0, 0.0), Greek.VEGA_USD_PER_VOL_PT: (0.0, 0.0), Greek.WEIGHT: (0.2, 0.2)}


# --- threshold, band mode ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("delta_coin", "act"),
    [(2.5 - 1e-9, False), (2.5, False), (2.5 + 1e-9, True), (-2.5, False), (-2.5 - 1e-9, True)],
)
def test_band_threshold_fires_only_strictly_outside_the_band(delta_coin: float, act: bool) -> None:
    decision = ThresholdPolicy(profile=PROFILE, hedge_to="edge").decide(state(delta_coin=delta_coin))
    assert decision.act is act
    assert decision.trigger == ("threshold" if act else "")


def test_band_threshold_reasons_give_every_measure_with_its_numbers() -> None:
    decision = ThresholdPolicy(profile=PROFILE, hedge_to="edge").decide(state(delta_coin=3.4, weight=0.34))
    assert decision.reasons == (
        "delta_coin 3.4000 above band upper 2.5000",
        "vega_usd_per_vol_pt 0.00 inside band [-5000.00, 1000.00]",
        "weight 0.3400 above band upper 0.2500",
    )


def test_band_threshold_skip_says_every_measure_is_inside() -> None:
    decision = ThresholdPolicy(profile=PROFILE, hedge_to="edge").decide(state(delta_coin=-1.2))
    assert not decision.act and decision.goal == {}
    assert decision.reasons[0] == "delta_coin -1.2000 inside band [-2.5000, 2.5000]"


@pytest.mark.parametrize(
    ("hedge_to", "delta_goal"), [("edge", BTC_BANDS[Greek.DELTA_COIN]), ("target", BTC_TARGETS[Greek.DELTA_COIN])]
)
def test_band_threshold_moves_what_fired_and_keeps_the_rest_in_band(hedge_to: str, delta_goal: tuple) -> None:
    decision = ThresholdPolicy(profile=PROFILE, hedge_to=hedge_to).decide(state(delta_coin=-3.0))
    assert decision.goal == {**BTC_BANDS, Greek.DELTA_COIN: delta_goal}


def test_band_threshold_on_delta_usd_compares_usd_and_sets_coin_goal() -> None:
    policy = ThresholdPolicy(profile=PROFILE, hedge_to="target")
    inside = policy.decide(state(underlying="ETH", spot_usd=2_500.0, delta_coin=40.0))
    outside = policy.decide(state(underlying="ETH", spot_usd=2_500.0, delta_coin=40.1))
    assert not inside.act
    assert outside.reasons == ("delta_usd 100250.00 above band upper 100000.00",)
    assert outside.goal == {Greek.DELTA_COIN: (20.0, 20.0)}


def test_threshold_without_bands_skips_and_says_so() -> None:
    decision = ThresholdPolicy(profile=PROFILE, hedge_to="edge").decide(state(underlying="SOL", delta_coin=1e6))
    assert not decision.act
    assert decision.reasons == ("no bands for SOL in the risk profile",)


# --- threshold, relative mode -------------------------------------------------------------

RELATIVE = ThresholdPolicy(
    profile=PROFILE, hedge_to="edge", relative=0.25, floors={"delta_coin": 0.5, "vega_usd_per_vol_pt": 100.0}
)


@pytest.mark.parametrize(
    ("weight", "act"), [(0.25 - 1e-9, False), (0.15 + 1e-9, False), (0.25 + 1e-9, True), (0.15 - 1e-9, True)]
)
def test_relative_threshold_fires_beyond_fraction_of_target(weight: float, act: bool) -> None:
    # tolerance = max(25% of |0.2|, no floor) = 0.05
    assert RELATIVE.decide(state(weight=weight)).act is act


@pytest.mark.parametrize(
    ("delta_coin", "act"), [(0.5, False), (-0.5, False), (0.5 + 1e-9, True), (-0.5 - 1e-9, True)]
)
def test_relative_threshold_uses_floor_when_target_is_zero(delta_coin: float, act: bool) -> None:
    assert RELATIVE.decide(state(delta_coin=delta_coin)).act is act


def test_relative_threshold_reasons_and_goal_use_the_tolerance() -> None:
    decision = RELATIVE.decide(state(delta_coin=0.3, weight=0.12))
    assert decision.reasons == (
        "delta_coin 0.3000 is 0.3000 from target 0.0000, within tolerance 0.5000",
        "vega_usd_per_vol_pt 0.00 is 0.00 from target 0.00, within tolerance 100.00",
        "weight 0.1200 is 0.0800 from target 0.2000, above tolerance 0.0500",
    )
    assert decision.goal[Greek.DELTA_COIN] == (-0.5, 0.5)
    assert decision.goal[Greek.WEIGHT] == pytest.approx((0.15, 0.25))


# --- time ---------------------------------------------------------------------------------

HOURLY = TimePolicy(profile=PROFILE, hedge_to="target", interval_ns=HOUR_NS)


def test_time_policy_acts_on_first_decision() -> None:
    decision = HOURLY.decide(state())
    assert decision.act and decision.trigger == "time"
    assert decision.reasons == ("no rebalance yet",)
    assert decision.goal == BTC_TARGETS


@pytest.mark.parametrize(("elapsed_ns", "act"), [(HOUR_NS - 1, False), (HOUR_NS, True), (HOUR_NS + 1, True)])
def test_time_policy_acts_from_the_interval_boundary(elapsed_ns: int, act: bool) -> None:
    decision = HOURLY.decide(state(memory=HedgeMemory(last_rebalance_ts_ns=AS_OF_NS - elapsed_ns)))
    assert decision.act is act


def test_time_policy_acts_whatever_the_market_does_and_says_how_long() -> None:
    decision = HOURLY.decide(state(memory=remembered(7_200.0)))  # book well inside its bands
    assert decision.act
    assert decision.reasons == ("7200 s since the last rebalance, reached interval 3600 s",)
    skipped = HOURLY.decide(state(memory=remembered(1_800.0), delta_coin=9.0))  # far outside
    assert not skipped.act
    assert skipped.reasons == ("1800 s since the last rebalance, below interval 3600 s",)


def test_time_policy_hedging_to_edge_keeps_the_bands_as_goal() -> None:
    policy = TimePolicy(profile=PROFILE, hedge_to="edge", interval_ns=HOUR_NS)
    assert policy.decide(state()).goal == BTC_BANDS


# --- oracle deviation -----------------------------------------------------------------------

ONE_PERCENT = OracleDeviationPolicy(profile=PROFILE, hedge_to="target", deviation=0.01)
WITH_HEARTBEAT = OracleDeviationPolicy(
    profile=PROFILE, hedge_to="target", deviation=0.01, heartbeat_ns=2 * HOUR_NS
)


def test_oracle_deviation_acts_on_first_decision() -> None:
    decision = ONE_PERCENT.decide(state())
    assert decision.act and decision.trigger == "oracle_deviation"
    assert decision.goal == BTC_TARGETS


@pytest.mark.parametrize(
    ("oracle_usd", "act"),
    [(101_000.0, False), (99_000.0, False), (101_000.01, True), (98_999.99, True), (100_500.0, False)],
)
def test_oracle_deviation_fires_strictly_beyond_the_deviation(oracle_usd: float, act: bool) -> None:
    decision = ONE_PERCENT.decide(state(memory=remembered(60.0), oracle_usd=oracle_usd, spot_usd=100_000.0))
    assert decision.act is act


def test_oracle_deviation_reads_the_oracle_before_spot() -> None:
    # spot moved 5%, the oracle did not: no action; and the reason names the source
    decision = ONE_PERCENT.decide(state(memory=remembered(60.0), oracle_usd=100_200.0, spot_usd=105_000.0))
    assert not decision.act
    assert decision.reasons == (
        "oracle 100200.00 moved +0.20% since the last rebalance at 100000.00, within deviation 1.00%",
    )


def test_oracle_deviation_falls_back_to_spot() -> None:
    decision = ONE_PERCENT.decide(state(memory=remembered(60.0), spot_usd=97_500.0))
    assert decision.act
    assert decision.reasons == (
        "spot 97500.00 moved -2.50% since the last rebalance at 100000.00, above deviation 1.00%",
    )


@pytest.mark.parametrize(("seconds_ago", "act"), [(7_199.0, False), (7_200.0, True)])
def test_oracle_heartbeat_fires_at_the_boundary_without_a_move(seconds_ago: float, act: bool) -> None:
    decision = WITH_HEARTBEAT.decide(state(memory=remembered(seconds_ago), spot_usd=100_100.0))
    assert decision.act is act
    assert decision.trigger == ("oracle_deviation:heartbeat" if act else "")
    assert decision.reasons[1] == (
        f"{seconds_ago:g} s since the last rebalance, {'reached' if act else 'below'} heartbeat 7200 s"
    )


def test_oracle_without_heartbeat_never_acts_on_time_alone() -> None:
    assert not ONE_PERCENT.decide(state(memory=remembered(10 * 86_400.0), spot_usd=100_100.0)).act


def test_oracle_heartbeat_acts_when_no_rebalance_time_is_remembered() -> None:
    decision = WITH_HEARTBEAT.decide(state(memory=HedgeMemory(last_reference_usd=100_000.0)))
    assert decision.act and decision.trigger == "oracle_deviation:heartbeat"


def test_oracle_deviation_price_move_wins_over_heartbeat() -> None:
    decision = WITH_HEARTBEAT.decide(state(memory=remembered(3 * HOUR_NS / SECOND_NS), spot_usd=110_000.0))
    assert decision.trigger == "oracle_deviation"
