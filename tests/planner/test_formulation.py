"""The program's structure, and the exactness of its cost once the lots are fixed."""

from __future__ import annotations

import numpy as np
import pytest
from planner.brute_force import DELTA, GAMMA, delta_request, option, perpetual
from scipy.optimize import milp

from hedgekeeper.planner import ImpactCurve, square_root_impact
from hedgekeeper.planner.formulation import build_formulation, lot_grid_segments


def test_switches_only_for_minimum_sizes_above_one_lot() -> None:
    plain = build_formulation(delta_request())
    bounded = perpetual(min_size=5.0, min_position=-1e4, max_position=1e4)
    switched = build_formulation(delta_request(candidates=[bounded]))
    assert plain.integrality.sum() == 1
    assert switched.integrality.sum() == 3
    assert switched.rows.A.shape[0] == plain.rows.A.shape[0] + 5


def test_margin_rows_only_when_margin_is_limited_and_charged() -> None:
    charged = perpetual(initial_margin_short_usd=0.2, initial_margin_long_usd=0.2)
    unlimited = build_formulation(delta_request(candidates=[charged]))
    limited = build_formulation(delta_request(candidates=[charged], margin_available_usd=500.0))
    free = build_formulation(delta_request(margin_available_usd=500.0))
    assert limited.rows.A.shape[0] == unlimited.rows.A.shape[0] + 3
    assert free.rows.A.shape == unlimited.rows.A.shape


def test_margin_rows_count_in_margin_scales_so_tiny_rates_still_bind() -> None:
    # 1e-9 USD a lot: in USD, a coefficient HiGHS would read as 0.
    tiny = perpetual(lot_size=10.0, initial_margin_short_usd=1e-10, initial_margin_long_usd=3e-10)
    request = delta_request(candidates=[tiny], margin_available_usd=4e-9)
    formulation = build_formulation(request)
    matrix = formulation.rows.A.toarray()
    lots = formulation.lots_index[0]
    np.testing.assert_allclose(sorted(matrix[1:3, lots]), [-3.0, 1.0])  # M⁺ L / S_M, -M⁻ L / S_M
    assert formulation.rows.ub[3] == pytest.approx(4.0)  # A / S_M
    fewest_lots = np.zeros(len(formulation.cost_usd))
    fewest_lots[lots] = 1.0
    result = milp(fewest_lots, integrality=formulation.integrality,
                  bounds=formulation.bounds(allow_shortfall=True), constraints=formulation.rows,
                  options={"presolve": False})
    assert result.status == 0
    assert result.x[lots] == pytest.approx(-4.0)  # short 4 lots at 1e-9 USD each, no more


def test_candidate_that_cannot_trade_has_no_margin_rows() -> None:
    frozen = perpetual("FROZEN", min_position=0.0, max_position=0.0, initial_margin_short_usd=1.0)
    alone = build_formulation(delta_request(margin_available_usd=5.0))
    beside = build_formulation(delta_request(candidates=[perpetual(), frozen],
                                             margin_available_usd=5.0))
    net_trade_rows = 1
    assert beside.rows.A.shape[0] == alone.rows.A.shape[0] + net_trade_rows


def test_goal_problem_fixes_the_shortfall_at_zero() -> None:
    goal = {DELTA: (-2.5, 2.5), GAMMA: (-1.0, 1.0)}
    formulation = build_formulation(delta_request(greeks={DELTA: 3.4, GAMMA: 0.0}, goal=goal))
    shortfall = formulation.shortfall > 0
    assert shortfall.sum() == 4
    assert np.all(formulation.bounds(allow_shortfall=False).ub[shortfall] == 0.0)
    assert np.all(np.isinf(formulation.bounds(allow_shortfall=True).ub[shortfall]))


@pytest.mark.parametrize("lots", [[-7000, 3], [2500, -40], [0, 0], [-25000, 0]])
def test_cost_with_lots_fixed_is_the_candidates_cost(lots: list[int]) -> None:
    candidates = [
        perpetual(impact=square_root_impact(10.0, 0.03, 1e6)),
        option("BTC-C", delta=0.55, gamma=350.0, vega=130.0,
               impact=ImpactCurve(breakpoints_contracts=(1.0, 2.0),
                                  marginal_cost_usd=(5.0, 20.0, 80.0))),
    ]
    request = delta_request(greeks={DELTA: 0.0, GAMMA: 0.0},
                            goal={DELTA: (-100.0, 100.0), GAMMA: (-1e5, 1e5)},
                            candidates=candidates)
    formulation = build_formulation(request)
    bounds = formulation.bounds(allow_shortfall=False)
    bounds.lb[formulation.lots_index] = bounds.ub[formulation.lots_index] = lots
    result = milp(formulation.cost_usd, integrality=formulation.integrality, bounds=bounds,
                  constraints=formulation.rows)
    contracts = np.array(lots) * [1.0, 0.1]
    expected = sum(sum(c.trade_cost_usd(x)) for c, x in zip(candidates, contracts, strict=True))
    assert result.status == 0
    assert result.fun == pytest.approx(float(expected), rel=1e-9, abs=1e-9)


@pytest.mark.parametrize(
    ("breakpoints", "lot_size"),
    [((2.5, 7.0), 1.0), ((0.25, 0.3), 1.0), ((1e-12,), 0.1), ((), 0.5), ((3.0, 6.0), 1.5)],
)
def test_impact_on_the_lot_grid_is_exact_at_whole_lots_and_convex(
    breakpoints: tuple[float, ...], lot_size: float
) -> None:
    curve = ImpactCurve(breakpoints_contracts=breakpoints,
                        marginal_cost_usd=tuple(float(2**k) for k in range(len(breakpoints) + 1)))
    segments = lot_grid_segments(perpetual(lot_size=lot_size, impact=curve))
    widths, marginal = (np.array(column) for column in zip(*segments, strict=True))
    assert np.all(np.diff(marginal) >= -1e-12)
    finite = widths[np.isfinite(widths)]
    np.testing.assert_allclose(finite / lot_size, np.round(finite / lot_size), atol=1e-9)
    grid_curve = ImpactCurve(breakpoints_contracts=tuple(np.cumsum(finite)),
                             marginal_cost_usd=tuple(marginal))
    lots = np.arange(0, 12) * lot_size
    np.testing.assert_allclose(grid_curve.cost_usd(lots), curve.cost_usd(lots), rtol=1e-12,
                               atol=1e-12)
