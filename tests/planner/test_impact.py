"""Impact curves: convex piecewise-linear, and the square-root law interpolated."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hedgekeeper.planner import ImpactCurve, MalformedPlanRequest, square_root_impact


def test_book_walk_curve_fills_levels_in_order() -> None:
    curve = ImpactCurve(breakpoints_contracts=(2.0, 5.0), marginal_cost_usd=(1.0, 3.0, 10.0))
    sizes = np.array([0.0, 1.0, 2.0, 4.0, 5.0, 7.0])
    np.testing.assert_allclose(curve.cost_usd(sizes), [0.0, 1.0, 2.0, 8.0, 11.0, 31.0])
    np.testing.assert_allclose(curve.cost_usd(-sizes), curve.cost_usd(sizes))


def test_square_root_curve_is_exact_at_breakpoints_above_between_and_tangent_beyond() -> None:
    price, volatility, volume = 100_000.0, 0.03, 10_000.0
    curve = square_root_impact(price, volatility, volume)

    def law(size: np.ndarray) -> np.ndarray:
        return volatility * np.sqrt(size / volume) * size * price

    breakpoints = np.array(curve.breakpoints_contracts)
    np.testing.assert_allclose(curve.cost_usd(breakpoints), law(breakpoints), rtol=1e-12)
    between = (breakpoints[:-1] + breakpoints[1:]) / 2
    assert np.all(curve.cost_usd(between) > law(between))
    last = breakpoints[-1]
    tail_slope = (curve.cost_usd(2 * last) - curve.cost_usd(last)) / last
    tangent = 1.5 * volatility * price * math.sqrt(last / volume)
    assert tail_slope == pytest.approx(tangent, rel=1e-12)


@pytest.mark.parametrize(
    ("breakpoints", "marginal", "problem"),
    [
        ((1.0,), (2.0, 1.0), "non-decreasing"),
        ((), (-1.0,), "non-decreasing"),
        ((2.0, 1.0), (0.0, 1.0, 2.0), "strictly increasing"),
        ((1.0,), (1.0,), "one more marginal cost"),
        ((float("nan"),), (0.0, 1.0), "finite"),
    ],
)
def test_non_convex_or_malformed_curve_is_refused(
    breakpoints: tuple[float, ...], marginal: tuple[float, ...], problem: str
) -> None:
    with pytest.raises(MalformedPlanRequest, match=problem):
        ImpactCurve(breakpoints_contracts=breakpoints, marginal_cost_usd=marginal)


@pytest.mark.parametrize(
    ("arguments", "name"),
    [
        ((0.0, 0.03, 1e4), "price_usd"),
        ((1e5, float("nan"), 1e4), "daily_volatility"),
        ((1e5, 0.03, -1.0), "daily_volume_contracts"),
    ],
)
def test_square_root_impact_names_the_bad_argument(
    arguments: tuple[float, float, float], name: str
) -> None:
    with pytest.raises(MalformedPlanRequest, match=name):
        square_root_impact(*arguments)


def test_square_root_impact_refuses_unordered_breakpoints() -> None:
    with pytest.raises(MalformedPlanRequest, match="breakpoints_fraction_of_volume"):
        square_root_impact(1e5, 0.03, 1e4, breakpoints_fraction_of_volume=(0.1, 0.01))
