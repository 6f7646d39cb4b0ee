"""Quiet regions: rigorous bounds over cells, and where each policy promises to stay silent."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from policy.policy_builders import AS_OF_NS, HOUR_NS, state, verdict
from scipy.interpolate import CubicHermiteSpline

from hedgekeeper.policy.cost_aware import CostAwareSkip
from hedgekeeper.policy.decision import HedgeMemory
from hedgekeeper.policy.hard_limits import HardLimits
from hedgekeeper.policy.hybrid import AllOf, AnyOf
from hedgekeeper.policy.quiet import (
    FOREVER_NS,
    Quiet,
    RiskCells,
    all_quiet,
    any_quiet,
    hermite_bounds,
    interval_over_positive,
    interval_product,
)
from hedgekeeper.policy.risk_profile import load_risk_profile
from hedgekeeper.policy.triggers import OracleDeviationPolicy, ThresholdPolicy, TimePolicy
from hedgekeeper.policy.whalley_wilmott import WhalleyWilmottPolicy, whalley_wilmott_half_width

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
SPOTS = np.linspace(95_000.0, 105_000.0, 11)  # ten cells of 1,000 USD
DELTA_PROFILE = load_risk_profile({"BTC": {"delta_coin": {"target": 0.0, "width": 2.0}}})


def node_bounds(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the bounds of a linear interpolant between consecutive node values."""
    return np.minimum(values[:-1], values[1:]), np.maximum(values[:-1], values[1:])


def cells(delta_nodes: np.ndarray, *, gamma: float = 0.0, equity_usd: float = 1e6, gross_usd: float = 1e6,
          liquidation: tuple[float | None, float | None] = (None, None)) -> RiskCells:
    """Return cells over ``SPOTS`` with a delta linear between nodes, other measures flat."""
    flat = np.full(len(SPOTS) - 1, 1.0)
    return RiskCells(
        spot_low_usd=SPOTS[:-1], spot_high_usd=SPOTS[1:], delta_coin=node_bounds(delta_nodes),
        equity_usd=(flat * equity_usd, flat * equity_usd), gamma_coin_per_usd=(flat * gamma, flat * gamma),
        vega_usd_per_vol=(flat * 0.0, flat * 0.0), gross_notional_usd=(flat * gross_usd, flat * gross_usd),
        liquidation_spots_usd=liquidation,
    )


RISING = cells(np.linspace(-2.5, 2.5, 11))  # delta -2.5 at 95,000 to 2.5 at 105,000, 0.5 per cell


@given(finite, finite, finite, finite, st.floats(1e-3, 1e3))
def test_hermite_bounds_contain_the_cubic_everywhere_on_the_cell(y0: float, y1: float, m0: float, m1: float,
                                                                 width: float) -> None:
    low, high = hermite_bounds(*(np.array([x]) for x in (y0, y1, m0, m1, width)))
    curve = CubicHermiteSpline([0.0, width], [y0, y1], [m0, m1])(np.linspace(0.0, width, 1001))
    assert low[0] <= curve.min() and curve.max() <= high[0]


def test_hermite_bounds_of_a_straight_line_are_its_ends() -> None:
    low, high = hermite_bounds(np.array([1.0]), np.array([3.0]), np.array([2.0]), np.array([2.0]), np.array([1.0]))
    assert low[0] == pytest.approx(1.0, abs=1e-9) and high[0] == pytest.approx(3.0, abs=1e-9)


@given(st.lists(finite, min_size=4, max_size=4), st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_interval_product_contains_every_product(ends: list[float], s: float, t: float) -> None:
    a = (np.array([min(ends[:2])]), np.array([max(ends[:2])]))
    b = (np.array([min(ends[2:])]), np.array([max(ends[2:])]))
    x, y = a[0][0] + s * (a[1][0] - a[0][0]), b[0][0] + t * (b[1][0] - b[0][0])
    low, high = interval_product(a, b)
    assert low[0] <= x * y <= high[0]


def test_a_ratio_over_equity_that_may_reach_zero_is_unbounded() -> None:
    low, high = interval_over_positive((np.array([1.0, 1.0]), np.array([2.0, 2.0])),
                                       (np.array([-1.0, 4.0]), np.array([1.0, 8.0])))
    assert (low[0], high[0]) == (-math.inf, math.inf)
    assert low[1] == pytest.approx(0.125) and high[1] == pytest.approx(0.5)


def test_measure_names_outside_the_snapshot_are_refused() -> None:
    with pytest.raises(KeyError, match="theta"):
        RISING.measure("theta")


@pytest.mark.parametrize(("mask", "cell", "run"), [
    ([True, True, True], 1, (0, 2)),
    ([False, True, True, False], 2, (1, 2)),
    ([True, False], 1, None),
])
def test_run_around_finds_the_run_of_set_cells(mask: list[bool], cell: int, run: tuple[int, int] | None) -> None:
    assert Quiet(np.array(mask)).run_around(cell) == run


def test_all_quiet_is_never_quiet_when_one_member_never_is() -> None:
    assert all_quiet([Quiet(np.ones(3, dtype=bool)), None]) is None
    assert any_quiet([None, None]) is None


def test_threshold_is_quiet_in_the_cells_whose_delta_stays_in_the_band() -> None:
    region = ThresholdPolicy(profile=DELTA_PROFILE, hedge_to="edge").quiet(state(), RISING)
    # Cells 1..8 span delta [-2.0, 2.0]: the band is closed.
    assert region.cells.tolist() == [False] + [True] * 8 + [False]
    assert region.until_ns == FOREVER_NS and region.cost_fraction == (-math.inf, math.inf)


def test_relative_threshold_is_quiet_within_its_tolerance() -> None:
    profile = load_risk_profile({"BTC": {"delta_coin": {"target": 1.0, "width": 5.0}}})
    policy = ThresholdPolicy(profile=profile, hedge_to="target", relative=0.5, floors={"delta_coin": 1.2})
    # Tolerance max(0.5 * 1, 1.2) = 1.2 around 1: delta in [-0.2, 2.2], cells 5..8 ([0.0, 2.0]).
    assert policy.quiet(state(), RISING).cells.tolist() == [False] * 5 + [True] * 4 + [False]


def test_time_policy_is_quiet_everywhere_until_its_interval_elapses() -> None:
    policy = TimePolicy(profile=DELTA_PROFILE, hedge_to="target", interval_ns=HOUR_NS)
    assert policy.quiet(state(), RISING) is None  # no rebalance yet: it fires
    region = policy.quiet(state(memory=HedgeMemory(AS_OF_NS - 10, 100_000.0)), RISING)
    assert region.cells.all() and region.until_ns == AS_OF_NS - 10 + HOUR_NS


def test_oracle_deviation_on_spot_is_quiet_within_the_deviation() -> None:
    policy = OracleDeviationPolicy(profile=DELTA_PROFILE, hedge_to="edge", deviation=0.02, heartbeat_ns=HOUR_NS)
    memory = HedgeMemory(AS_OF_NS, 100_000.0)
    region = policy.quiet(state(memory=memory), RISING)
    # 98,000 to 102,000: cells 3..6.
    assert region.cells.tolist() == [False] * 3 + [True] * 4 + [False] * 3
    assert region.until_ns == AS_OF_NS + HOUR_NS


def test_oracle_deviation_on_an_oracle_does_not_depend_on_spot() -> None:
    policy = OracleDeviationPolicy(profile=DELTA_PROFILE, hedge_to="edge", deviation=0.02)
    memory = HedgeMemory(AS_OF_NS, 100_000.0)
    assert policy.quiet(state(memory=memory, oracle_usd=101_000.0), RISING).cells.all()
    assert policy.quiet(state(memory=memory, oracle_usd=103_000.0), RISING) is None


def test_whalley_wilmott_is_quiet_inside_the_band_at_the_cells_lowest_spot() -> None:
    policy = WhalleyWilmottPolicy(profile=DELTA_PROFILE, hedge_to="edge", risk_aversion_per_usd=1e-7)
    gamma = 1e-4
    region = policy.quiet(state(cost_fraction=0.0005), cells(np.linspace(-2.5, 2.5, 11), gamma=gamma))
    half_width = whalley_wilmott_half_width(0.0005, SPOTS[:-1], gamma, 1e-7)  # 1.92 to 1.94 coin
    lows, highs = node_bounds(np.linspace(-2.5, 2.5, 11))
    expected = (lows > -half_width) & (highs < half_width)
    assert region.cells.tolist() == expected.tolist() and expected.sum() == 6
    assert region.cost_fraction == (0.0005, math.inf)  # a higher cost only widens the band


def test_whalley_wilmott_with_a_usd_band_converts_the_band_per_cell() -> None:
    profile = load_risk_profile({"BTC": {"delta_usd": {"target": 0.0, "width": 150_000.0}}})
    policy = WhalleyWilmottPolicy(profile=profile, hedge_to="edge", risk_aversion_per_usd=1e-9)
    region = policy.quiet(state(cost_fraction=0.0005), cells(np.linspace(-2.5, 2.5, 11), gamma=1e-4))
    # The formula's band is wide; the profile's 150,000 USD is 1.53 coin at 98,000 (cell 2's
    # delta reaches -1.5 there) and 1.46 at 103,000 (cell 7's reaches 1.5 at 102,000).
    assert region.cells.tolist() == [False] * 2 + [True] * 5 + [False] * 3


def test_hard_limits_add_the_liquidation_distance_and_leverage() -> None:
    inner = verdict(False)
    policy = HardLimits(inner, profile=DELTA_PROFILE, min_liquidation_distance=0.05, max_leverage=5.0)
    near_liquidation = cells(np.zeros(11), liquidation=(92_000.0, None))
    # Distance spot / 92,000 - 1 >= 5% above 96,600: cells 2.. (from 97,000).
    assert policy.quiet(state(), near_liquidation).cells.tolist() == [False] * 2 + [True] * 8
    assert not policy.quiet(state(), cells(np.zeros(11), gross_usd=6e6)).cells.any()
    assert not policy.quiet(state(), cells(np.zeros(11), equity_usd=0.0)).cells.any()  # leverage inf


def test_combinations_and_the_cost_aware_skip_follow_their_members() -> None:
    threshold = ThresholdPolicy(profile=DELTA_PROFILE, hedge_to="edge")
    oracle = OracleDeviationPolicy(profile=DELTA_PROFILE, hedge_to="edge", deviation=0.02)
    given_state = state(memory=HedgeMemory(AS_OF_NS, 100_000.0))
    band = threshold.quiet(given_state, RISING).cells
    moves = oracle.quiet(given_state, RISING).cells
    assert AnyOf((threshold, oracle)).quiet(given_state, RISING).cells.tolist() == (band & moves).tolist()
    assert AllOf((threshold, oracle)).quiet(given_state, RISING).cells.tolist() == (band | moves).tolist()
    skip = CostAwareSkip(threshold, risk_aversion_per_usd=1e-4, horizon_years=1 / 365)
    assert skip.quiet(given_state, RISING).cells.tolist() == band.tolist()
    assert AnyOf((threshold, verdict(True, trigger="x"))).quiet(given_state, RISING) is None
