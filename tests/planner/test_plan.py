"""Plans are evaluated from lots alone: contracts, costs, Greeks, margin and violations."""

from __future__ import annotations

import pytest
from planner.brute_force import DELTA, GAMMA, VEGA, option, perpetual

from hedgekeeper.planner import PlanRequest, PlanStatus
from hedgekeeper.planner.plan import build_plan


def test_plan_reports_trades_greeks_margin_and_costs_split() -> None:
    call = option("BTC-C", delta=0.5, gamma=300.0, vega=100.0, position=1.0,
                  initial_margin_long_usd=5_000.0, initial_margin_short_usd=15_000.0)
    request = PlanRequest(greeks={DELTA: 1.0, GAMMA: 0.0, VEGA: -50.0},
                          goal={GAMMA: (-100.0, 100.0)}, candidates=[perpetual(), call])
    plan = build_plan(request, [0, -13], PlanStatus.OPTIMAL, 0.0, 0.01)
    [trade] = plan.trades
    assert (trade.instrument_id, trade.lots, trade.contracts) == ("BTC-C", -13, -1.3)
    assert trade.fees_and_spread_usd == pytest.approx(0.003 * 5_000.0 * 1.3)
    assert plan.fees_and_spread_usd == plan.cost_usd == trade.cost_usd and plan.impact_usd == 0.0
    assert plan.resulting_greeks == pytest.approx({DELTA: 0.35, GAMMA: -390.0, VEGA: -180.0})
    assert plan.initial_margin_change_usd == pytest.approx(0.3 * 15_000.0 - 1.0 * 5_000.0)
    assert plan.violations == pytest.approx({GAMMA: -290.0})
    assert not plan.reaches_goal
    assert "gamma_usd_per_pct -390 below goal lower -100 by 290" in plan.message


def test_lots_times_lot_size_are_exact_decimal_contracts() -> None:
    request = PlanRequest(greeks={DELTA: 0.0}, goal={DELTA: (-1.0, 1.0)},
                          candidates=[perpetual(lot_size=0.1)])
    assert build_plan(request, [3.0000004], PlanStatus.OPTIMAL, 0.0, 0.0).trades[0].contracts == 0.3
