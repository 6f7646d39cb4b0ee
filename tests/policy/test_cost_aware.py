"""The cost-aware skip acts exactly when the risk removed is worth more than the hedge costs."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from hedgekeeper.policy.cost_aware import (
    CostAwareSkip,
    break_even_delta_coin,
    hedge_benefit_usd,
    hedge_cost_usd,
)
from hedgekeeper.policy.decision import Greek
from hedgekeeper.policy.triggers import ThresholdPolicy

from policy.policy_builders import PROFILE, state, verdict

DAY_YEARS = 1 / 365


def skipping(policy: object, aversion: float = 1e-4, horizon_years: float = DAY_YEARS) -> CostAwareSkip:
    return CostAwareSkip(policy, risk_aversion_per_usd=aversion, horizon_years=horizon_years)


@given(
    delta_coin=st.floats(2.5, 10.0, exclude_min=True) | st.floats(-10.0, -2.5, exclude_max=True),
    spot_usd=st.floats(1_000.0, 200_000.0),
    vol=st.floats(0.05, 2.0),
    cost_fraction=st.floats(0.0, 0.01),
    aversion=st.floats(1e-7, 1e-2),
    horizon_years=st.floats(1e-4, 0.1),
)
def test_skip_exactly_when_cost_is_not_below_benefit(
    delta_coin: float, spot_usd: float, vol: float, cost_fraction: float, aversion: float, horizon_years: float
) -> None:
    excess = delta_coin - max(-2.5, min(2.5, delta_coin))
    benefit = aversion / 2 * (excess * spot_usd * vol) ** 2 * horizon_years
    cost = cost_fraction * abs(excess) * spot_usd
    assume(abs(benefit - cost) > 1e-9 * max(benefit, cost))
    inner = ThresholdPolicy(profile=PROFILE, hedge_to="edge")
    decision = skipping(inner, aversion, horizon_years).decide(
        state(delta_coin=delta_coin, spot_usd=spot_usd, vol=vol, cost_fraction=cost_fraction)
    )
    assert decision.act is (benefit > cost)
    assert decision.expected_cost_usd == pytest.approx(cost)
    assert decision.expected_benefit_usd == pytest.approx(benefit)
    assert decision.trigger == ("threshold" if benefit > cost else "cost_aware_skip")
    assert (decision.goal == {}) is (benefit <= cost)


@pytest.mark.parametrize(("delta_coin", "act"), [(2.5 + 0.1013, False), (2.5 + 0.1014, True)])
def test_break_even_is_where_benefit_meets_cost(delta_coin: float, act: bool) -> None:
    # 5 bps, spot 100,000, vol 60%, one day, risk aversion 1e-4 per USD: break-even 0.10139 coin
    assert break_even_delta_coin(100_000.0, 0.6, 0.0005, 1e-4, DAY_YEARS) == pytest.approx(0.1013889, rel=1e-6)
    decision = skipping(ThresholdPolicy(profile=PROFILE, hedge_to="edge")).decide(state(delta_coin=delta_coin))
    assert decision.act is act


def test_skip_reason_gives_the_trade_off_with_its_numbers() -> None:
    decision = skipping(ThresholdPolicy(profile=PROFILE, hedge_to="edge")).decide(state(delta_coin=2.6))
    assert decision.reasons == (
        "delta_coin 2.6000 above band upper 2.5000",
        "vega_usd_per_vol_pt 0.00 inside band [-5000.00, 1000.00]",
        "weight 0.2000 inside band [0.1500, 0.2500]",
        "skipped: expected cost 5.00 USD not below benefit 4.93 USD (excess delta 0.1000 coin, break-even "
        "0.1014 coin; spot 100000.00, vol 60.00%, horizon 24 h, cost 5.00 bps, risk aversion 0.0001 per USD)",
    )


def test_hedging_to_target_prices_the_whole_trade() -> None:
    # the excess to the target (2.6 coin) is worth hedging where the excess to the edge (0.1) is not
    decision = skipping(ThresholdPolicy(profile=PROFILE, hedge_to="target")).decide(state(delta_coin=2.6))
    assert decision.act
    assert decision.expected_cost_usd == pytest.approx(hedge_cost_usd(2.6, 100_000.0, 0.0005))
    assert decision.expected_benefit_usd == pytest.approx(hedge_benefit_usd(2.6, 100_000.0, 0.6, 1e-4, DAY_YEARS))
    assert decision.reasons[-1].startswith("worth it: expected benefit 3333.70 USD above cost 130.00 USD")


def test_forced_and_idle_decisions_pass_unchanged() -> None:
    forced = verdict(True, trigger="hard_limit:leverage", forced=True, goal={Greek.DELTA_COIN: (0.0, 0.0)})
    idle = verdict(False, reasons=("delta_coin 0.1000 inside band [-2.5000, 2.5000]",))
    tiny_excess = state(delta_coin=0.001, cost_fraction=0.01)
    assert skipping(forced).decide(tiny_excess) == forced.decide(tiny_excess)
    assert skipping(idle).decide(tiny_excess) == idle.decide(tiny_excess)


@pytest.mark.parametrize(
    ("goal", "fields", "why"),
    [
        ({Greek.WEIGHT: (0.0, 0.1)}, {}, "the goal sets no delta"),
        ({Greek.DELTA_COIN: (-1.0, 1.0), Greek.VEGA_USD_PER_VOL_PT: (-5_000.0, 1_000.0)},
         {"delta_coin": 1.01, "vega_usd_per_vol_pt": 2_000.0},
         "vega_usd_per_vol_pt outside the goal; only delta risk is priced"),
        ({Greek.DELTA_COIN: (-1.0, 1.0)}, {"delta_coin": 1.01, "vol": 0.0},
         "risk.vol is 0.0, so the risk removed cannot be priced"),
    ],
)
def test_decisions_it_cannot_price_pass_with_a_reason(goal: dict, fields: dict, why: str) -> None:
    inner = verdict(True, trigger="threshold", reasons=("inner",), goal=goal)
    decision = skipping(inner).decide(state(cost_fraction=0.01, **fields))
    assert decision.act and decision.trigger == "threshold"
    assert decision.reasons == ("inner", f"cost-aware skip not evaluated: {why}")
