"""The planner: least-cost trades into the goal, checked against closed forms and brute force."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from planner.brute_force import (
    DELTA,
    GAMMA,
    VEGA,
    WEIGHT,
    admissible,
    brute_force,
    option,
    perpetual,
    shortfall_and_cost,
)
from planner.typical import typical_candidates, typical_request
from scipy.optimize import milp as real_milp

from hedgekeeper.planner import (
    Candidate,
    ImpactCurve,
    MalformedPlanRequest,
    Plan,
    PlannerFailed,
    PlanRequest,
    PlanStatus,
    plan_trades,
    square_root_impact,
)
from hedgekeeper.planner import solve as solve_module

CALL = option("BTC-27JUN25-110000-C", delta=0.45, gamma=320.0, vega=125.0)
PUT = option("BTC-27JUN25-90000-P", delta=-0.35, gamma=290.0, vega=110.0)


def _contracts(plan: Plan) -> dict[str, float]:
    return {trade.instrument_id: trade.contracts for trade in plan.trades}


def _lots(plan: Plan, request: PlanRequest) -> np.ndarray:
    by_id = {trade.instrument_id: trade.lots for trade in plan.trades}
    return np.array([by_id.get(c.instrument_id, 0) for c in request.candidates], dtype=np.float64)


def _assert_inside(plan: Plan, request: PlanRequest) -> None:
    assert plan.reaches_goal, plan.message
    for greek, (lower, upper) in request.effective_goal.items():
        slack = 1e-6 * request.scale[greek]
        assert lower - slack <= plan.resulting_greeks[greek] <= upper + slack


# --- delta with one perpetual: closed form ------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    delta_milli=st.integers(-50_000, 50_000),
    lower_milli=st.integers(-5_000, 4_000),
    width_milli=st.integers(1, 6_000),
    contract_delta=st.sampled_from([1e-4, -1e-4, 1e-3, 0.01, -0.5]),
    lot_size=st.sampled_from([1.0, 0.1, 0.001, 10.0]),
)
def test_delta_only_hedge_trades_the_fewest_lots_that_reach_the_band_edge(
    delta_milli: int, lower_milli: int, width_milli: int, contract_delta: float, lot_size: float
) -> None:
    delta, lower, upper = delta_milli / 1000, lower_milli / 1000, (lower_milli + width_milli) / 1000
    step = contract_delta * lot_size
    if upper - lower < abs(step):
        return  # the interval is widened to one lot step: covered by the hedge-to-target tests
    perp = perpetual(sensitivities={DELTA: contract_delta}, lot_size=lot_size)
    request = PlanRequest(greeks={DELTA: delta}, goal={DELTA: (lower, upper)}, candidates=[perp])
    plan = plan_trades(request)

    # The fewest lots n with lower <= delta + step n <= upper, up to the plan's 1e-6-lot round-off.
    if lower <= delta <= upper:
        expected = 0
    else:
        needed = ((upper if delta > upper else lower) - delta) / step
        sells = (delta > upper) == (step > 0)
        expected = math.floor(needed + 1e-6) if sells else math.ceil(needed - 1e-6)
    assert plan.status is (PlanStatus.INSIDE_GOAL if expected == 0 else PlanStatus.OPTIMAL)
    assert [trade.lots for trade in plan.trades] == ([expected] if expected else [])
    _assert_inside(plan, request)


def test_already_inside_the_goal_trades_nothing_and_skips_the_solver() -> None:
    request = PlanRequest(greeks={DELTA: 1.0, GAMMA: 50.0}, goal={DELTA: (-2.5, 2.5)},
                          candidates=[perpetual(), CALL])
    plan = plan_trades(request)
    assert plan.status is PlanStatus.INSIDE_GOAL
    assert plan.trades == () and plan.cost_usd == 0.0 and plan.violations == {}
    assert plan.resulting_greeks == {DELTA: 1.0, GAMMA: 50.0}


# --- options for gamma and vega, the perpetual for the delta they add ---------------------------


def test_options_fix_gamma_and_vega_and_the_perpetual_fixes_their_delta() -> None:
    far_call = option("BTC-27JUN25-130000-C", delta=0.25, gamma=210.0, vega=140.0)
    request = PlanRequest(
        greeks={DELTA: 0.2, GAMMA: -20_000.0, VEGA: -8_000.0},
        goal={DELTA: (-0.5, 0.5), GAMMA: (-5_000.0, 5_000.0), VEGA: (-2_000.0, 2_000.0)},
        candidates=[perpetual(), CALL, far_call],
    )
    plan = plan_trades(request)
    assert plan.status is PlanStatus.OPTIMAL
    _assert_inside(plan, request)
    trades = _contracts(plan)
    assert all(trades.get(c.instrument_id, 0.0) >= 0 for c in (CALL, far_call))  # options bought
    option_delta = sum(trades.get(c.instrument_id, 0.0) * c.sensitivity(DELTA)
                       for c in (CALL, far_call))
    assert option_delta + 0.2 > 0.5  # the options alone would push delta above its band
    perp_delta = trades["BTC-PERPETUAL.DERIBIT"] * 1e-4
    # The perpetual brings delta back to the band's edge, within one lot.
    assert perp_delta == pytest.approx(0.5 - 0.2 - option_delta, abs=1e-4)


def test_a_put_offsets_the_calls_delta_when_that_is_cheaper_than_the_perpetual() -> None:
    request = PlanRequest(
        greeks={DELTA: 0.2, GAMMA: -20_000.0, VEGA: -8_000.0},
        goal={DELTA: (-0.5, 0.5), GAMMA: (-5_000.0, 5_000.0), VEGA: (-2_000.0, 2_000.0)},
        candidates=[perpetual(), CALL, PUT],
    )
    plan = plan_trades(request)
    _assert_inside(plan, request)
    assert {CALL.instrument_id, PUT.instrument_id} <= set(_contracts(plan))


def test_gamma_band_with_no_options_reports_the_residual_and_still_hedges_delta() -> None:
    request = PlanRequest(greeks={DELTA: 3.4, GAMMA: -20_000.0},
                          goal={DELTA: (-2.5, 2.5), GAMMA: (-5_000.0, 5_000.0)},
                          candidates=[perpetual()])
    plan = plan_trades(request)
    assert plan.status is PlanStatus.GOAL_UNREACHABLE
    assert plan.violations == pytest.approx({GAMMA: -15_000.0})
    assert _contracts(plan) == {"BTC-PERPETUAL.DERIBIT": -9000.0}
    assert "gamma_usd_per_pct -20000 below goal lower -5000 by 15000" in plan.message


# --- venues, impact and the split --------------------------------------------------------------


def test_cheapest_venue_is_preferred() -> None:
    dear = perpetual("BTC-PERPETUAL.DERIBIT", cost_fraction=0.0005)
    cheap = perpetual("BTCUSD-PERP.OTHER", cost_fraction=0.0002)
    request = PlanRequest(greeks={DELTA: 3.4}, goal={DELTA: (-2.5, 2.5)}, candidates=[dear, cheap])
    plan = plan_trades(request)
    assert _contracts(plan) == {"BTCUSD-PERP.OTHER": -9000.0}  # nothing on the dearer venue
    assert plan.cost_usd == pytest.approx(9000 * 10.0 * 0.0002)


def test_large_trade_splits_across_venues_as_brute_force_does() -> None:
    # Two venues, lots of 100 contracts; impact makes the cheap one dear beyond some size.
    def venue(instrument_id: str, cost_fraction: float, daily_volume: float) -> Candidate:
        return perpetual(instrument_id, cost_fraction=cost_fraction, lot_size=100.0,
                         min_position=-30_000.0, max_position=0.0,
                         impact=square_root_impact(10.0, 0.03, daily_volume))

    request = PlanRequest(greeks={DELTA: 5.0}, goal={DELTA: (-2.5, 2.5)},
                          candidates=[venue("CHEAP", 0.0002, 2e6), venue("DEEP", 0.0005, 2e7)])
    plan = plan_trades(request, relative_gap=0.0, absolute_gap_usd=0.0)
    best = brute_force(request, lot_bound=300)
    assert best.shortfall == 0.0
    assert plan.status is PlanStatus.OPTIMAL
    assert set(_contracts(plan)) == {"CHEAP", "DEEP"}
    assert plan.cost_usd == pytest.approx(best.cost_usd, rel=1e-9)
    np.testing.assert_array_equal(_lots(plan, request), best.lots)
    assert plan.impact_usd > 0


# --- limits and margin -------------------------------------------------------------------------


def test_position_limit_binds_and_the_dearer_venue_takes_the_rest() -> None:
    cheap = perpetual("CHEAP", cost_fraction=0.0002, min_position=-5_000.0)
    dear = perpetual("DEAR", cost_fraction=0.0005)
    request = PlanRequest(greeks={DELTA: 3.4}, goal={DELTA: (-2.5, 2.5)}, candidates=[cheap, dear])
    plan = plan_trades(request)
    assert _contracts(plan) == {"CHEAP": -5000.0, "DEAR": -4000.0}


def test_position_limit_alone_leaves_the_shortfall_reported() -> None:
    request = PlanRequest(greeks={DELTA: 3.4}, goal={DELTA: (-2.5, 2.5)},
                          candidates=[perpetual(position=-1_000.0, min_position=-5_000.0)])
    plan = plan_trades(request)
    assert plan.status is PlanStatus.GOAL_UNREACHABLE
    assert _contracts(plan) == {"BTC-PERPETUAL.DERIBIT": -4000.0}
    assert plan.violations == pytest.approx({DELTA: 0.5})


def test_margin_binds_and_the_venue_with_less_margin_takes_the_rest() -> None:
    cheap = perpetual("CHEAP", cost_fraction=0.0002, initial_margin_short_usd=1.0,
                      initial_margin_long_usd=1.0)
    lean = perpetual("LEAN", cost_fraction=0.0005, initial_margin_short_usd=0.1,
                     initial_margin_long_usd=0.1)
    request = PlanRequest(greeks={DELTA: 3.4}, goal={DELTA: (-2.5, 2.5)}, candidates=[cheap, lean],
                          margin_available_usd=3_000.0)
    plan = plan_trades(request)
    # x cheap + (9000 - x) * 0.1 <= 3000: at most 2333 contracts on the cheap venue.
    assert _contracts(plan) == {"CHEAP": -2333.0, "LEAN": -6667.0}
    assert plan.initial_margin_change_usd <= 3_000.0


def test_closing_a_position_frees_margin_for_the_hedge() -> None:
    # Short 4000 now: buying those back frees margin, so a buy needs none available.
    perp = perpetual(position=-4_000.0, initial_margin_short_usd=1.0)
    request = PlanRequest(greeks={DELTA: -3.4}, goal={DELTA: (-2.5, 2.5)}, candidates=[perp],
                          margin_available_usd=0.0)
    plan = plan_trades(request)
    assert _contracts(plan) == {"BTC-PERPETUAL.DERIBIT": 9000.0}
    assert plan.initial_margin_change_usd == pytest.approx(-4_000.0)


def test_minimum_size_overshoots_rather_than_trading_less() -> None:
    perp = perpetual(min_size=50.0, min_position=-1e5, max_position=1e5)
    request = PlanRequest(greeks={DELTA: 2.502}, goal={DELTA: (-2.5, 2.5)}, candidates=[perp])
    assert _contracts(plan_trades(request)) == {"BTC-PERPETUAL.DERIBIT": -50.0}


# --- hedge to target ---------------------------------------------------------------------------


def test_hedge_to_target_lands_within_half_a_lot_step() -> None:
    request = PlanRequest(greeks={DELTA: 0.12345678, GAMMA: -7_000.0},
                          goal={DELTA: (0.0, 0.0), GAMMA: (0.0, 0.0)},
                          candidates=[perpetual(), CALL])
    plan = plan_trades(request)
    assert plan.status is PlanStatus.OPTIMAL
    assert abs(plan.resulting_greeks[DELTA]) <= 0.5e-4 * (1 + 1e-9)
    half_a_call_lot = 0.5 * 0.1 * 320.0
    assert abs(plan.resulting_greeks[GAMMA]) <= half_a_call_lot * (1 + 1e-9)
    assert _contracts(plan)[CALL.instrument_id] == pytest.approx(21.9)


def test_hedge_to_target_with_explicit_tolerance() -> None:
    request = PlanRequest(greeks={DELTA: 3.4}, goal={DELTA: (0.0, 0.0)}, candidates=[perpetual()],
                          tolerance={DELTA: 0.01})
    plan = plan_trades(request)
    assert plan.resulting_greeks[DELTA] == pytest.approx(0.01)
    assert _contracts(plan) == {"BTC-PERPETUAL.DERIBIT": -33_900.0}


def test_hedge_to_exact_target_off_the_lot_grid_reports_the_nearest_residual() -> None:
    request = PlanRequest(greeks={DELTA: 0.12345678}, goal={DELTA: (0.0, 0.0)},
                          candidates=[perpetual()], tolerance={DELTA: 0.0})
    plan = plan_trades(request)
    assert plan.status is PlanStatus.GOAL_UNREACHABLE
    assert _contracts(plan) == {"BTC-PERPETUAL.DERIBIT": -1235.0}
    assert plan.violations[DELTA] == pytest.approx(0.12345678 - 0.1235)


# --- brute force on small cases ----------------------------------------------------------------

# Sensitivities, lots and goal edges on a dyadic grid keep every Greek exact in floating point,
# so that "inside" never depends on round-off and the brute force ranks exactly what HiGHS sees.
_GREEKS = (DELTA, GAMMA, VEGA)


@st.composite
def small_requests(draw: st.DrawFn) -> PlanRequest:
    count = draw(st.integers(1, 3))
    greeks = draw(st.lists(st.sampled_from(_GREEKS), min_size=1, max_size=3, unique=True))
    candidates = []
    for index in range(count):
        lot = draw(st.sampled_from([0.5, 1.0, 2.0]))
        position_lots = draw(st.integers(-3, 3))
        low, high = sorted(draw(st.lists(st.integers(-4, 4), min_size=2, max_size=2)))
        slopes = sorted(draw(st.lists(st.integers(0, 16), min_size=2, max_size=2)))
        candidates.append(Candidate(
            instrument_id=f"C{index}",
            sensitivities={g: draw(st.integers(-8, 8)) / 4 for g in greeks},
            price_usd=draw(st.sampled_from([1.0, 10.0, 100.0])),
            cost_fraction=draw(st.integers(0, 40)) / 1024,
            lot_size=lot,
            min_size=draw(st.sampled_from([0.0, lot, 2.5 * lot])),
            position=position_lots * lot,
            min_position=(position_lots + low) * lot,
            max_position=(position_lots + high) * lot,
            impact=ImpactCurve(breakpoints_contracts=(draw(st.sampled_from([1.0, 2.0, 4.0])),),
                               marginal_cost_usd=(slopes[0] / 8, slopes[1] / 8)),
            initial_margin_long_usd=float(draw(st.integers(0, 4))),
            initial_margin_short_usd=float(draw(st.integers(0, 8))),
        ))
    goal = {}
    for greek in greeks:
        lower = draw(st.integers(-40, 40)) / 8
        goal[greek] = (lower, lower + draw(st.integers(0, 24)) / 8)
    margin = draw(st.sampled_from([math.inf, 0.0, 5.0, 20.0]))
    return PlanRequest(greeks={g: draw(st.integers(-80, 80)) / 8 for g in greeks}, goal=goal,
                       candidates=candidates, margin_available_usd=margin)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=small_requests())
def test_planner_matches_brute_force_on_small_cases(request: PlanRequest) -> None:
    plan = plan_trades(request, relative_gap=0.0, absolute_gap_usd=0.0)
    best = brute_force(request, lot_bound=8)
    lots = _lots(plan, request)[np.newaxis]
    assert admissible(request, lots)[0]
    shortfall, cost = (float(value[0]) for value in shortfall_and_cost(request, lots))
    assert shortfall == pytest.approx(best.shortfall, rel=1e-9, abs=1e-9)
    assert plan.cost_usd == pytest.approx(best.cost_usd, rel=1e-9, abs=1e-12)
    assert cost == pytest.approx(plan.cost_usd, rel=1e-12, abs=1e-12)
    assert plan.reaches_goal == (best.shortfall == 0.0)
    assert (plan.status is PlanStatus.GOAL_UNREACHABLE) == (best.shortfall > 0.0)
    assert plan.cost_lower_bound_usd <= best.cost_usd * (1 + 1e-9) + 1e-9


# --- random feasible requests, realistic magnitudes ----------------------------------------------


@st.composite
def feasible_requests(draw: st.DrawFn) -> PlanRequest:
    """Draw candidates and a lot vector, then a goal and limits that this lot vector meets."""
    count = draw(st.integers(1, 8))
    greeks = draw(st.lists(st.sampled_from([*_GREEKS, WEIGHT]), min_size=1, max_size=4,
                           unique=True))
    magnitude = {DELTA: 1.0, GAMMA: 300.0, VEGA: 100.0, WEIGHT: 0.01}
    candidates, feasible_lots = [], []
    for index in range(count):
        lot = draw(st.sampled_from([0.001, 0.1, 1.0, 10.0]))
        lots = draw(st.integers(-30, 30))
        min_lots = draw(st.integers(1, max(1, abs(lots))))
        slack = draw(st.integers(0, 20))
        # Bounded away from 0 (or 0): a move below float resolution of the Greek is not a move.
        unit = st.one_of(st.just(0.0), st.floats(0.05, 2.0), st.floats(-2.0, -0.05))
        sensitivities = {g: draw(unit) * magnitude[g] / lot for g in greeks}
        candidates.append(Candidate(
            instrument_id=f"C{index}",
            sensitivities=sensitivities,
            price_usd=draw(st.floats(1.0, 1e5)),
            cost_fraction=draw(st.floats(0.0, 0.01)),
            lot_size=lot,
            min_size=min_lots * lot,
            min_position=(min(lots, 0) - slack) * lot,
            max_position=(max(lots, 0) + slack) * lot,
            impact=square_root_impact(draw(st.floats(1.0, 1e5)), 0.03, draw(st.floats(1e2, 1e6))),
            initial_margin_short_usd=draw(st.floats(0.0, 100.0)),
        ))
        feasible_lots.append(lots)
    current = {g: draw(st.floats(-10.0, 10.0)) * magnitude[g] * 10 for g in greeks}
    contracts = np.array(feasible_lots) * [c.lot_size for c in candidates]
    goal = {}
    for greek in greeks:
        moves = [c.sensitivity(greek) * x for c, x in zip(candidates, contracts, strict=True)]
        reached = current[greek] + sum(moves)
        below, above = (draw(st.floats(0.0, 3.0)) * magnitude[greek] for _ in range(2))
        goal[greek] = (reached - below, reached + above)
    margin = sum(float(c.initial_margin_usd(x)) for c, x in zip(candidates, contracts, strict=True))
    available = draw(st.sampled_from([margin, 1.5 * margin, math.inf]))
    return PlanRequest(greeks=current, goal=goal, candidates=candidates,
                       margin_available_usd=available)


def _margin_below_highs_resolution_request() -> PlanRequest:
    """Return the request hypothesis found: a short that adds 2e-9 USD of margin, none available.

    Delta -2 is reached by buying two lots of C5 (margin-free) or selling two lots
    of C4, at the same cost; a lot of C4 short adds 1e-9 USD of initial margin, and
    no margin is available. Four more Greeks and four candidates that cannot trade
    are as drawn.
    """
    greeks = (DELTA, GAMMA, VEGA, WEIGHT)
    flat = dict.fromkeys(greeks, 0.0)
    impact = square_root_impact(1.0, 0.03, 100.0)
    frozen = [Candidate(instrument_id=f"C{index}", sensitivities=flat, price_usd=1.0,
                        cost_fraction=0.0, lot_size=0.001, min_size=0.001, min_position=0.0,
                        max_position=0.0, impact=impact) for index in range(4)]
    short_takes_margin = Candidate(
        instrument_id="C4", sensitivities={**flat, DELTA: 0.1}, price_usd=1.0, cost_fraction=0.0,
        lot_size=10.0, min_size=10.0, min_position=-20.0, max_position=20.0, impact=impact,
        initial_margin_short_usd=1e-10,
    )
    long_is_free = Candidate(
        instrument_id="C5", sensitivities={**flat, DELTA: -0.1}, price_usd=1.0, cost_fraction=0.0,
        lot_size=10.0, min_size=20.0, min_position=0.0, max_position=20.0, impact=impact,
    )
    return PlanRequest(
        greeks=flat, goal={DELTA: (-2.0, -2.0), GAMMA: (0.0, 0.0), VEGA: (0.0, 0.0),
                           WEIGHT: (0.0, 0.0)},
        candidates=[*frozen, short_takes_margin, long_is_free], margin_available_usd=0.0,
    )


def test_margin_of_a_billionth_of_a_usd_a_lot_still_binds() -> None:
    # In USD, the margin row's coefficient (1e-9 USD a lot) is one HiGHS reads as 0.
    request = _margin_below_highs_resolution_request()
    plan = plan_trades(request)
    assert plan.status is PlanStatus.OPTIMAL
    assert _contracts(plan) == {"C5": 20.0}
    assert plan.initial_margin_change_usd == 0.0
    _assert_inside(plan, request)


def _immaterial_margin_request() -> PlanRequest:
    """Return a request hypothesis found: a lot's margin a 2e-7th of another's, none available.

    Gamma -300 is reached by selling a lot of C1 (1.2e-8 USD of margin) or, at a
    higher cost, by buying a lot each of C1 and C2 (none). C5 only takes 0.06 USD a
    lot: were the margin counted in C5's lots, C1's would be 2e-7 of one, within
    HiGHS' tolerance.
    """
    impact = square_root_impact(1.0, 0.03, 100.0)

    def candidate(name: str, gamma: float, lot: float, lowest: float, highest: float,
                  short_margin_usd: float) -> Candidate:
        return Candidate(instrument_id=name, sensitivities={GAMMA: gamma}, price_usd=1.0,
                         cost_fraction=0.0, lot_size=lot, min_size=lot, min_position=lowest,
                         max_position=highest, impact=impact,
                         initial_margin_short_usd=short_margin_usd)

    candidates = [candidate("C1", 3000.0, 0.1, -0.1, 0.2, 1.192092896e-07),
                  candidate("C2", -600_000.0, 0.001, 0.0, 0.001, 0.0),
                  candidate("C5", 0.0, 0.001, -0.001, 0.001, 60.0)]
    return PlanRequest(greeks={GAMMA: 0.0}, goal={GAMMA: (-300.0, -300.0)},
                       candidates=candidates, margin_available_usd=0.0)


def test_margin_of_a_lot_below_a_millionth_of_another_lots_still_binds() -> None:
    request = _immaterial_margin_request()
    plan = plan_trades(request)
    assert _contracts(plan) == {"C1": 0.1, "C2": 0.001}
    assert plan.initial_margin_change_usd == 0.0


def test_frozen_candidate_margin_does_not_scale_against_a_tiny_tradable_one() -> None:
    # 1e-303 USD a lot sets the margin scale; the frozen candidate's 1 USD would be 1e303 of it.
    tradable = perpetual("TINY", sensitivities={DELTA: 1000.0}, lot_size=0.001, min_position=0.0,
                         max_position=0.001, initial_margin_short_usd=1e-300)
    frozen = perpetual("FROZEN", min_position=0.0, max_position=0.0, initial_margin_short_usd=1.0)
    request = PlanRequest(greeks={DELTA: 0.0}, goal={DELTA: (1.0, 1.0)},
                          candidates=[tradable, frozen], margin_available_usd=0.0)
    plan = plan_trades(request)
    assert plan.status is PlanStatus.OPTIMAL
    assert _contracts(plan) == {"TINY": 0.001}


def _nearly_whole_lots_request() -> PlanRequest:
    """Return a request hypothesis found: branch and bound's lots break the margin once rounded.

    A lot of C3 takes a million times C1's margin. At HiGHS' default tolerance,
    branch and bound sells 3.99999901 lots of C3 and 1.00000099 of C1: gamma -2700
    and the margin at 0.048 USD, all that is available; rounded to 4 and 1 lots,
    the margin is 1.2e-8 USD beyond. Within it: sell 3 lots of C3 and 1 of C1, buy
    1 of C2.
    """
    impact = square_root_impact(1.0, 0.03, 100.0)

    def candidate(name: str, gamma: float, lot: float, lowest: float, highest: float,
                  short_margin_usd: float, cost_fraction: float = 0.0) -> Candidate:
        return Candidate(instrument_id=name, sensitivities={GAMMA: gamma}, price_usd=1.0,
                         cost_fraction=cost_fraction, lot_size=lot, min_size=lot,
                         min_position=lowest, max_position=highest, impact=impact,
                         initial_margin_short_usd=short_margin_usd)

    candidates = [candidate("C1", 3000.0, 0.1, -0.1, 0.2, 1.192092896e-07),
                  candidate("C2", -600_000.0, 0.001, 0.0, 0.001, 0.0, cost_fraction=0.0078125),
                  candidate("C3", 600_000.0, 0.001, -0.004, 0.0, 12.0)]
    return PlanRequest(greeks={GAMMA: 0.0}, goal={GAMMA: (-2700.0, -2700.0)},
                       candidates=candidates, margin_available_usd=0.048)


def test_branch_and_bound_lots_that_break_the_margin_once_rounded_are_solved_again() -> None:
    request = _nearly_whole_lots_request()
    plan = plan_trades(request)
    assert plan.status is PlanStatus.OPTIMAL
    assert _contracts(plan) == {"C1": -0.1, "C2": 0.001, "C3": -0.003}
    assert plan.initial_margin_change_usd <= 0.048
    _assert_inside(plan, request)


def test_branch_and_bound_lots_that_miss_the_goal_once_rounded_raise_planner_failed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def off_by_most_of_a_lot(*args: object, **kwargs: object) -> object:
        result = real_milp(*args, **kwargs)
        if kwargs.get("integrality") is None:
            result.status = 1  # a relaxation stopped early: not rounded
        elif result.x is not None:
            result.x[0] += 0.6  # the perpetual: -8999.4 lots, one fewer sold once rounded
        return result

    monkeypatch.setattr(solve_module, "milp", off_by_most_of_a_lot)
    request = PlanRequest(greeks={DELTA: 3.4}, goal={DELTA: (-2.5, 2.5)}, candidates=[perpetual()])
    with pytest.raises(PlannerFailed, match=r"lots \[-8999.0\], rounded, .* miss the goal"):
        plan_trades(request)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=feasible_requests())
@example(request=_margin_below_highs_resolution_request())
@example(request=_immaterial_margin_request())
@example(request=_nearly_whole_lots_request())
def test_plan_of_a_feasible_request_is_inside_every_band(request: PlanRequest) -> None:
    plan = plan_trades(request)
    assert plan.status in (PlanStatus.OPTIMAL, PlanStatus.INSIDE_GOAL)
    _assert_inside(plan, request)
    assert admissible(request, _lots(plan, request)[np.newaxis])[0]
    _assert_within_default_gap(plan)


def _assert_within_default_gap(plan: Plan) -> None:
    accepted_usd = max(1e-3 * plan.cost_usd, 0.01)
    noise_usd = 1e-9 * max(plan.cost_usd, 1.0)
    assert plan.cost_usd - plan.cost_lower_bound_usd <= accepted_usd + noise_usd


def test_typical_delta_hedge_is_settled_by_rounding_without_branch_and_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    branch_and_bound = []

    def counting(*args: object, **kwargs: object) -> object:
        branch_and_bound.append(kwargs.get("integrality") is not None)
        return real_milp(*args, **kwargs)

    monkeypatch.setattr(solve_module, "milp", counting)
    rng = np.random.default_rng(7)
    candidates = typical_candidates()
    for _ in range(10):
        request = typical_request(rng, three_greeks=False, candidates=candidates)
        plan = plan_trades(request)
        _assert_inside(plan, request)
        _assert_within_default_gap(plan)
    assert branch_and_bound and not any(branch_and_bound)


def test_typical_gamma_and_vega_hedge_is_within_the_gap_of_the_least_cost() -> None:
    rng = np.random.default_rng(7)
    candidates = typical_candidates()
    for _ in range(3):
        request = typical_request(rng, three_greeks=True, candidates=candidates)
        plan = plan_trades(request)
        assert plan.status is PlanStatus.OPTIMAL
        _assert_inside(plan, request)
        _assert_within_default_gap(plan)


# --- solver outcomes ---------------------------------------------------------------------------


def test_time_limit_with_a_solution_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    def stopped_early(*args: object, **kwargs: object) -> object:
        result = real_milp(*args, **kwargs)
        result.status = 1
        return result

    monkeypatch.setattr(solve_module, "milp", stopped_early)  # the relaxation too: not rounded
    request = PlanRequest(greeks={DELTA: 3.4}, goal={DELTA: (-2.5, 2.5)}, candidates=[perpetual()])
    plan = plan_trades(request)
    assert plan.status is PlanStatus.TIME_LIMITED and plan.reaches_goal


def test_solver_failure_raises_planner_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    def failed(*args: object, **kwargs: object) -> object:
        result = real_milp(*args, **kwargs)
        result.status, result.x, result.message = 4, None, "numerical trouble"
        return result

    monkeypatch.setattr(solve_module, "milp", failed)
    request = PlanRequest(greeks={DELTA: 3.4}, goal={DELTA: (-2.5, 2.5)}, candidates=[perpetual()])
    with pytest.raises(PlannerFailed, match="numerical trouble"):
        plan_trades(request)


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"time_limit_s": 0}, "time_limit_s must be > 0, got 0"),
        ({"relative_gap": -0.1}, "relative_gap must be a finite number >= 0, got -0.1"),
        ({"absolute_gap_usd": math.nan}, "absolute_gap_usd must be a finite number >= 0, got nan"),
    ],
)
def test_bad_solver_setting_is_malformed(settings: dict, problem: str) -> None:
    request = PlanRequest(greeks={DELTA: 3.4}, goal={DELTA: (-2.5, 2.5)}, candidates=[perpetual()])
    with pytest.raises(MalformedPlanRequest, match=problem):
        plan_trades(request, **settings)


def test_no_candidates_at_all_reports_the_violation() -> None:
    plan = plan_trades(PlanRequest(greeks={DELTA: 3.4}, goal={DELTA: (-2.5, 2.5)}, candidates=[]))
    assert plan.status is PlanStatus.GOAL_UNREACHABLE and plan.trades == ()
    assert plan.violations == pytest.approx({DELTA: 0.9})
