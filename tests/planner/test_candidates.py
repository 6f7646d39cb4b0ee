"""Candidates: lot ranges, costs, margin, and errors that name the field."""

from __future__ import annotations

import math

import numpy as np
import pytest
from planner.brute_force import DELTA, GAMMA, perpetual

from hedgekeeper.planner import Candidate, ImpactCurve, MalformedPlanRequest
from hedgekeeper.portfolio.instruments import example_instruments


def test_from_instrument_takes_id_lot_and_minimum_size() -> None:
    call = Candidate.from_instrument(example_instruments()[1], sensitivities={GAMMA: 310.0},
                                     price_usd=5_000.0, cost_fraction=0.003)
    assert call.instrument_id == "BTC-27JUN25-110000-C.DERIBIT"
    assert (call.lot_size, call.min_size) == (0.1, 0.1)
    assert call.sensitivity(GAMMA) == 310.0 and call.sensitivity(DELTA) == 0.0


def test_lot_range_rounds_limits_to_whole_lots_without_float_error() -> None:
    candidate = perpetual(lot_size=0.1, position=0.7, min_position=-6.0, max_position=7.0)
    assert candidate.lot_range == (-67, 63)


def test_position_beyond_its_limit_may_stay_or_move_toward_it() -> None:
    candidate = perpetual(position=12.0, min_position=-10.0, max_position=10.0)
    assert candidate.lot_range == (-22, 0)


def test_unbounded_position_gives_infinite_lot_range() -> None:
    assert perpetual().lot_range == (-math.inf, math.inf)


def test_min_lots_rounds_minimum_size_up_to_lots() -> None:
    assert perpetual(lot_size=0.1, min_size=0.25, min_position=-1, max_position=1).min_lots == 3
    assert perpetual(lot_size=0.1, min_size=0.3, min_position=-1, max_position=1).min_lots == 3
    assert perpetual(lot_size=1.0, min_size=0.0).min_lots == 1


def test_trade_cost_is_proportional_plus_impact() -> None:
    impact = ImpactCurve(breakpoints_contracts=(100.0,), marginal_cost_usd=(0.0, 0.01))
    candidate = perpetual(impact=impact)
    fees, impact = candidate.trade_cost_usd([-300.0, 50.0])
    np.testing.assert_allclose(fees, [1.5, 0.25])
    np.testing.assert_allclose(impact, [2.0, 0.0])


def test_initial_margin_is_linear_on_each_side() -> None:
    candidate = perpetual(initial_margin_long_usd=0.2, initial_margin_short_usd=0.5)
    np.testing.assert_allclose(candidate.initial_margin_usd([-10.0, 0.0, 10.0]), [5.0, 0.0, 2.0])


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"lot_size": -1.0}, "lot_size must be > 0, got -1.0"),
        ({"lot_size": 0.0}, "lot_size must be > 0"),
        ({"price_usd": float("nan")}, "price_usd must be a finite number, got nan"),
        ({"cost_fraction": -0.001}, "cost_fraction must be >= 0"),
        ({"position": float("inf")}, "position must be a finite number"),
        ({"min_position": 5.0, "max_position": -5.0},
         "min_position 5.0 is above max_position -5.0"),
        ({"sensitivities": {"theta_usd_per_day": 1.0}}, "unknown Greek 'theta_usd_per_day'"),
        ({"sensitivities": {DELTA: float("nan")}},
         "sensitivity delta_coin must be a finite number"),
        ({"min_size": 5.0}, "min_size 5.0 is above the lot size 1.0, which needs finite"),
        ({"initial_margin_short_usd": -1.0}, "initial_margin_short_usd must be >= 0"),
        ({"lot_size": "1"}, "lot_size must be a number, got '1'"),
        ({"impact": None}, "impact must be an ImpactCurve"),
    ],
)
def test_malformed_candidate_names_itself_and_the_field(fields: dict, problem: str) -> None:
    named = r"candidate 'BTC-PERPETUAL\.DERIBIT': .*" + problem
    with pytest.raises(MalformedPlanRequest, match=named):
        perpetual(**fields)


def test_greek_keys_may_be_their_names() -> None:
    assert perpetual(sensitivities={"delta_coin": 2.0}).sensitivity(DELTA) == 2.0
