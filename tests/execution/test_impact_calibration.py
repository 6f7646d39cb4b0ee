"""Impact calibration: the square-root law fitted to book walks, against books of known shape."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hedgekeeper.errors import BadData
from hedgekeeper.execution.book_walk import walk_levels
from hedgekeeper.execution.impact_calibration import (
    SquareRootImpact,
    book_walk_cost_usd,
    fit_square_root_impact,
)
from hedgekeeper.market.events import BookUpdate
from hedgekeeper.market.order_book import OrderBook
from hedgekeeper.planner.impact import square_root_impact
from hedgekeeper.venues.orders import Side

MID_USD = 50_000.0


def book_with_depth(size_of_distance, tick_usd: float, levels: int) -> OrderBook:
    """Return a book whose level at ``j`` ticks from the mid holds ``size_of_distance(j * tick)`` coin, each side."""
    distances = tick_usd * np.arange(1, levels + 1)
    bids = tuple((MID_USD - d, float(size_of_distance(d))) for d in distances)
    asks = tuple((MID_USD + d, float(size_of_distance(d))) for d in distances)
    book = OrderBook()
    book.apply(BookUpdate(0, "X", bids, asks, True))
    return book


@pytest.mark.parametrize("side", [Side.BUY, Side.SELL])
@pytest.mark.parametrize(("density_per_usd", "vol", "volume_coin"), [(0.5, 0.6, 20_000.0), (20.0, 0.3, 5_000.0)])
def test_fit_recovers_the_coefficient_of_a_book_whose_depth_grows_linearly_with_distance(
    side: Side, density_per_usd: float, vol: float, volume_coin: float
) -> None:
    # k d coin per USD of price at distance d: Q(d) = k d^2 / 2, so walking Q costs (2/3) sqrt(2/k) Q^(3/2).
    tick = 0.5
    book = book_with_depth(lambda d: density_per_usd * d * tick, tick, 3000)
    fit = fit_square_root_impact(book, side, vol=vol, daily_volume_coin=volume_coin)
    expected = (2 / 3) * math.sqrt(2 / density_per_usd) * math.sqrt(volume_coin) / (MID_USD * vol / math.sqrt(365))
    assert fit.law.coefficient == pytest.approx(expected, rel=2e-3)
    assert fit.exponent == pytest.approx(0.5, abs=2e-3)
    np.testing.assert_allclose(fit.law.cost_usd(fit.sizes_coin, MID_USD), fit.walk_cost_usd, rtol=5e-3)


def test_fit_on_a_flat_book_finds_exponent_near_one_and_brackets_the_walk() -> None:
    # Equal sizes at every tick: walking Q costs about Q^2 tick / (2 size), an impact linear in Q.
    book = book_with_depth(lambda d: 2.0, 1.0, 2000)
    fit = fit_square_root_impact(book, Side.BUY, vol=0.5, daily_volume_coin=10_000.0)
    assert fit.exponent == pytest.approx(1.0, abs=0.05)
    gap = fit.law.cost_usd(fit.sizes_coin, MID_USD) - fit.walk_cost_usd
    assert np.any(gap > 0.0) and np.any(gap < 0.0)
    per_size = fit.walk_cost_usd / SquareRootImpact(1.0, 0.5, 10_000.0).cost_usd(fit.sizes_coin, MID_USD)
    assert per_size.min() < fit.law.coefficient < per_size.max()
    assert fit.law.coefficient == pytest.approx(math.exp(np.mean(np.log(per_size))), rel=1e-12)


def test_law_cost_matches_the_planners_square_root_curve_at_its_breakpoints() -> None:
    vol, volume, mid = 0.8, 30_000.0, 60_000.0
    law = SquareRootImpact(0.7, vol, volume)
    curve = square_root_impact(mid, vol / math.sqrt(365), volume, coefficient=0.7)
    breakpoints = np.array(curve.breakpoints_contracts)
    np.testing.assert_allclose(law.cost_usd(breakpoints, mid), curve.cost_usd(breakpoints), rtol=1e-12)
    np.testing.assert_allclose(law.cost_usd(-breakpoints, 2 * mid), 2 * curve.cost_usd(breakpoints), rtol=1e-12)


def test_walk_cost_is_the_distance_from_the_mid_of_each_coin_taken() -> None:
    levels = [(MID_USD + 1.0, 1.0), (MID_USD + 3.0, 2.0)]
    walk = walk_levels(levels, 2.5)
    assert book_walk_cost_usd(levels, Side.BUY, MID_USD, 2.5) == pytest.approx(1.0 + 1.5 * 3.0)
    assert book_walk_cost_usd(levels, Side.BUY, MID_USD, 2.5) == pytest.approx(2.5 * (walk.average_price_usd - MID_USD))
    bids = [(MID_USD - 2.0, 1.0)]
    assert book_walk_cost_usd(bids, Side.SELL, MID_USD, 0.5) == pytest.approx(1.0)


def test_fitted_law_scales_its_cost_with_volatility() -> None:
    fit = fit_square_root_impact(book_with_depth(lambda d: d, 1.0, 500), Side.BUY, vol=0.4, daily_volume_coin=1e4)
    calmer = SquareRootImpact(fit.law.coefficient, 0.2, 1e4)
    np.testing.assert_allclose(calmer.cost_usd([1.0, 50.0], MID_USD), 0.5 * fit.law.cost_usd([1.0, 50.0], MID_USD))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"vol": 0.0, "daily_volume_coin": 1e4}, "vol must be > 0"),
        ({"vol": 0.5, "daily_volume_coin": 1e4, "sizes_coin": [1.0, 1e9]}, "beyond the visible depth"),
        ({"vol": 0.5, "daily_volume_coin": 1e4, "sizes_coin": [1.0]}, "at least two sizes"),
        ({"vol": 0.5, "daily_volume_coin": -1.0}, "daily_volume_coin must be > 0"),
    ],
)
def test_bad_fit_inputs_are_refused_naming_the_problem(kwargs: dict, message: str) -> None:
    with pytest.raises(BadData, match=message):
        fit_square_root_impact(book_with_depth(lambda d: 1.0, 1.0, 10), Side.BUY, **kwargs)


def test_fit_on_a_one_sided_book_is_refused() -> None:
    book = OrderBook()
    book.apply(BookUpdate(0, "X", (), ((101.0, 1.0),), True))
    with pytest.raises(BadData, match="no mid"):
        fit_square_root_impact(book, Side.BUY, vol=0.5, daily_volume_coin=1e4)
