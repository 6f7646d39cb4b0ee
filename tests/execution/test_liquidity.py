"""Liquidity sources: a book's cost is its walk plus the fee; a curve is sampled exactly on lots."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgekeeper.errors import BadData
from hedgekeeper.execution.book_walk import walk_levels
from hedgekeeper.execution.liquidity import BookSource, CostSegments, CurveSource, LiquiditySource
from hedgekeeper.market.events import BookUpdate
from hedgekeeper.market.order_book import OrderBook
from hedgekeeper.venues.orders import Side

BIDS = ((99.0, 2.0), (98.0, 3.0))
ASKS = ((101.0, 1.0), (102.5, 4.0))


@given(size=st.floats(0.0, 5.0), fee=st.floats(0.0, 0.005), mid=st.floats(95.0, 105.0),
       side=st.sampled_from([Side.BUY, Side.SELL]))
def test_book_cost_is_the_walk_against_the_reference_mid_plus_the_taker_fee(
    size: float, fee: float, mid: float, side: Side
) -> None:
    source = BookSource("a", "x", BIDS, ASKS, fee, mid)
    walk = walk_levels(ASKS if side is Side.BUY else BIDS, size)
    expected = 0.0 if size == 0.0 else (
        side.sign * (walk.average_price_usd - mid) * size + fee * walk.average_price_usd * size)
    assert source.cost_usd(size, side) == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_book_source_snapshots_the_book_and_costs_against_its_mid_by_default() -> None:
    book = OrderBook()
    book.apply(BookUpdate(0, "X", BIDS, ASKS, True))
    source = BookSource.from_book("a", "x", book, 0.0005, fixed_cost_usd=2.0)
    book.apply(BookUpdate(1, "X", (), ((101.0, 0.0),), False))
    assert source.reference_mid_usd == 100.0 and source.capacity_coin(Side.BUY) == 5.0
    assert source.cost_usd(1.0, Side.BUY) == pytest.approx(2.0 + 1.0 + 0.0005 * 101.0)
    assert BookSource.from_book("b", "y", book, 0.0, reference_mid_usd=90.0).reference_mid_usd == 90.0


def test_cost_beyond_capacity_is_refused_naming_the_source() -> None:
    with pytest.raises(BadData, match=r"source 'a': size 6 coin to buy is outside \[0, 5\]"):
        BookSource("a", "x", BIDS, ASKS, 0.0, 100.0).cost_usd(6.0, Side.BUY)


def test_curve_segments_reproduce_the_curve_on_every_lot() -> None:
    def curve(size: float, side: Side) -> float:
        return 3.0 * size + 0.4 * size**1.5 + (0.1 * size if side is Side.SELL else 0.0)

    source = CurveSource("pool", "chain", curve, max_buy_coin=2.05, max_sell_coin=10.0, fixed_cost_usd=7.0)
    segments = source.segments(Side.BUY, lot_coin=0.1, max_coin=50.0)
    lots = np.arange(21) * 0.1  # capacity 2.05 holds 20 lots
    np.testing.assert_allclose(segments.variable_usd(lots), [curve(x, Side.BUY) for x in lots], rtol=1e-12, atol=0)
    assert segments.capacity_coin == pytest.approx(2.0)
    assert source.cost_usd(1.0, Side.SELL) == pytest.approx(7.0 + curve(1.0, Side.SELL))
    assert source.segments(Side.SELL, 0.1, 0.55).capacity_coin == pytest.approx(0.5)


def test_curve_sampled_coarsely_stays_on_lots_and_above_the_convex_curve() -> None:
    source = CurveSource("pool", "chain", lambda q, side: q * q, max_buy_coin=1000.0, max_sell_coin=0.0,
                         max_samples=10)
    segments = source.segments(Side.BUY, lot_coin=1.0, max_coin=95.0)
    bounds = segments.bounds_coin
    assert bounds.size <= 12 and bounds[-1] == 95.0 and np.all(bounds == np.round(bounds))
    np.testing.assert_allclose(segments.bounds_cost_usd, bounds**2)
    sizes = np.linspace(0.0, 95.0, 191)
    assert np.all(segments.variable_usd(sizes) >= sizes**2 - 1e-9)
    assert source.segments(Side.SELL, 1.0, 95.0).capacity_coin == 0.0


def test_non_convex_curve_is_refused_naming_where_its_marginal_cost_falls() -> None:
    source = CurveSource("pool", "chain", lambda q, side: math.sqrt(q), max_buy_coin=3.0, max_sell_coin=3.0)
    with pytest.raises(BadData, match="marginal cost falls at 1 coin to buy"):
        source.segments(Side.BUY, 1.0, 3.0)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: BookSource("a", "x", BIDS, ASKS, -0.001, 100.0), "taker_fee_rate must be a number >= 0"),
        (lambda: BookSource("a", "x", BIDS, ASKS, 0.0, 0.0), "reference_mid_usd must be > 0"),
        (lambda: BookSource("a", "x", BIDS[::-1], ASKS, 0.0, 100.0), "bids must be best first"),
        (lambda: BookSource("a", "x", BIDS, ((101.0, math.nan),), 0.0, 100.0), "asks sizes must be finite"),
        (lambda: CurveSource("p", "c", lambda q, s: q, -1.0, 1.0), "max_buy_coin must be a number >= 0"),
        (lambda: CurveSource("p", "c", lambda q, s: q, 1.0, 1.0, max_samples=0), "max_samples must be >= 1"),
    ],
)
def test_bad_sources_are_refused_naming_the_field(make, message: str) -> None:
    with pytest.raises(BadData, match=message):
        make()


def test_both_sources_satisfy_the_protocol_the_router_uses() -> None:
    sources: list[LiquiditySource] = [
        BookSource("a", "x", BIDS, ASKS, 0.0, 100.0),
        CurveSource("p", "c", lambda q, s: q * q, 1.0, 1.0, fixed_cost_usd=1.0),
    ]
    for source in sources:
        segments = source.segments(Side.BUY, 0.5, 10.0)
        assert isinstance(segments, CostSegments)
        assert segments.capacity_coin == pytest.approx(source.capacity_coin(Side.BUY))
        assert source.cost_usd(segments.capacity_coin, Side.BUY) == pytest.approx(
            source.fixed_cost_usd + segments.variable_usd(segments.capacity_coin))
