"""The Whalley-Wilmott band: its closed form, its comparative statics, and the policy around it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgekeeper.policy.decision import Greek
from hedgekeeper.policy.whalley_wilmott import WhalleyWilmottPolicy, whalley_wilmott_half_width

from policy.policy_builders import PROFILE, state

positive = st.floats(1e-6, 1e6, allow_nan=False, allow_infinity=False)
costs = st.floats(1e-6, 0.01)
gammas = st.floats(1e-7, 1e-2)
aversions = st.floats(1e-8, 1e-2)


@pytest.mark.parametrize(
    ("cost", "spot", "gamma", "aversion", "rate", "horizon"),
    [
        (0.0005, 100_000.0, 2e-4, 1e-4, 0.0, 0.0),
        (0.001, 2_500.0, -0.05, 1e-3, 0.05, 0.25),
        (1e-4, 60.0, 3.0, 0.5, 0.1, 2.0),
    ],
)
def test_half_width_matches_closed_form(
    cost: float, spot: float, gamma: float, aversion: float, rate: float, horizon: float
) -> None:
    expected = np.cbrt(3.0 * np.exp(-rate * horizon) * cost * spot * gamma**2 / (2.0 * aversion))
    half_width = whalley_wilmott_half_width(cost, spot, gamma, aversion, rate, horizon)
    assert half_width == pytest.approx(expected, rel=1e-12)


@given(cost=costs, spot=positive, gamma=gammas, aversion=aversions, factor=st.floats(1.01, 100.0))
def test_half_width_widens_with_cost_and_narrows_with_risk_aversion(
    cost: float, spot: float, gamma: float, aversion: float, factor: float
) -> None:
    base = whalley_wilmott_half_width(cost, spot, gamma, aversion)
    assert whalley_wilmott_half_width(cost * factor, spot, gamma, aversion) > base
    assert whalley_wilmott_half_width(cost, spot, gamma, aversion * factor) < base
    assert whalley_wilmott_half_width(cost * factor, spot, gamma, aversion) == pytest.approx(base * factor ** (1 / 3))


@given(
    cost=costs, spot=positive, gamma=gammas, aversion=aversions, factor=st.floats(-100.0, 100.0).filter(bool)
)
def test_half_width_scales_with_gamma_to_two_thirds(
    cost: float, spot: float, gamma: float, aversion: float, factor: float
) -> None:
    base = whalley_wilmott_half_width(cost, spot, gamma, aversion)
    scaled = whalley_wilmott_half_width(cost, spot, gamma * factor, aversion)
    assert scaled == pytest.approx(abs(factor) ** (2 / 3) * base, rel=1e-9)


def test_half_width_shrinks_with_discounting() -> None:
    assert whalley_wilmott_half_width(5e-4, 1e5, 2e-4, 1e-4, rate=0.05, horizon_years=1.0) == pytest.approx(
        whalley_wilmott_half_width(5e-4, 1e5, 2e-4, 1e-4) * math.exp(-0.05 / 3)
    )


POLICY = WhalleyWilmottPolicy(profile=PROFILE, hedge_to="edge", risk_aversion_per_usd=1e-4)
HALF_WIDTH = whalley_wilmott_half_width(0.0005, 100_000.0, 2e-4, 1e-4)  # 0.3107 coin


@pytest.mark.parametrize(
    ("delta_coin", "act"),
    [(HALF_WIDTH * (1 - 1e-9), False), (-HALF_WIDTH * (1 - 1e-9), False), (HALF_WIDTH * (1 + 1e-9), True),
     (-HALF_WIDTH * (1 + 1e-9), True)],
)
def test_policy_fires_just_outside_the_band(delta_coin: float, act: bool) -> None:
    decision = POLICY.decide(state(delta_coin=delta_coin, gamma_coin_per_usd=2e-4))
    assert decision.act is act
    assert decision.trigger == ("whalley_wilmott" if act else "")


def test_policy_rebalances_to_the_band_edge_with_numbers_and_cost() -> None:
    decision = POLICY.decide(state(delta_coin=0.5, gamma_coin_per_usd=2e-4))
    assert decision.reasons == (
        "delta_coin 0.5000 above no-trade band upper 0.3107",
        "Whalley-Wilmott half-width 0.3107 coin around target 0.0000 (cost 5.00 bps, spot 100000.00, "
        "gamma 0.0002 coin per USD, risk aversion 0.0001 per USD), floor 0.0000, profile band [-2.5000, 2.5000]",
    )
    assert decision.goal == {
        Greek.DELTA_COIN: (-HALF_WIDTH, HALF_WIDTH),
        Greek.VEGA_USD_PER_VOL_PT: (-5_000.0, 1_000.0),
        Greek.WEIGHT: (0.15, 0.25),
    }
    assert decision.expected_cost_usd == pytest.approx(0.0005 * (0.5 - HALF_WIDTH) * 100_000.0)


def test_policy_hedging_to_target_sets_delta_goal_to_target() -> None:
    policy = WhalleyWilmottPolicy(profile=PROFILE, hedge_to="target", risk_aversion_per_usd=1e-4)
    decision = policy.decide(state(delta_coin=-0.5, gamma_coin_per_usd=2e-4))
    assert decision.goal[Greek.DELTA_COIN] == (0.0, 0.0)
    assert decision.expected_cost_usd == pytest.approx(0.0005 * 0.5 * 100_000.0)


def test_band_never_extends_past_the_profile_band() -> None:
    # gamma 0.01 coin per USD gives a half-width of 4.2 coin, beyond the profile's 2.5
    decision = POLICY.decide(state(delta_coin=3.0, gamma_coin_per_usd=0.01))
    assert decision.act
    assert decision.goal[Greek.DELTA_COIN] == (-2.5, 2.5)


def test_band_has_floor_for_a_book_without_gamma() -> None:
    policy = WhalleyWilmottPolicy(
        profile=PROFILE, hedge_to="edge", risk_aversion_per_usd=1e-4, min_half_width_coin=0.2
    )
    assert not policy.decide(state(delta_coin=0.2)).act
    assert policy.decide(state(delta_coin=0.2001)).goal[Greek.DELTA_COIN] == (-0.2, 0.2)
    assert POLICY.decide(state(delta_coin=1e-9)).act  # no gamma, no floor: any deviation


def test_band_is_centred_on_the_usd_delta_target() -> None:
    # ETH: delta_usd target 50,000 at spot 2,500 is 20 coin; the half-width is 1.23 coin
    decision = POLICY.decide(state(underlying="ETH", spot_usd=2_500.0, delta_coin=22.0, gamma_coin_per_usd=0.01))
    half_width = whalley_wilmott_half_width(0.0005, 2_500.0, 0.01, 1e-4)
    assert decision.act
    assert decision.goal == {Greek.DELTA_COIN: pytest.approx((20.0 - half_width, 20.0 + half_width))}
