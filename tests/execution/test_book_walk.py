"""Book walks: fills never exceed the book, average between best and worst, cash conserved."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgekeeper.execution.book_walk import walk_levels
from hedgekeeper.execution.fees import FeeSchedule, VenueFees
from hedgekeeper.errors import ConfigError
from hedgekeeper.market.events import BookUpdate
from hedgekeeper.market.order_book import OrderBook

levels_strategy = st.lists(
    st.tuples(st.floats(1.0, 1e5), st.floats(1e-6, 1e3)), min_size=1, max_size=20
).map(lambda rows: sorted({price: size for price, size in rows}.items()))


# Sizes below 1e-12 coin (subnormals included) carry no meaning and lose the price to rounding.
@given(levels=levels_strategy, size=st.one_of(st.just(0.0), st.floats(1e-12, 5e3)))
def test_walk_fills_what_the_book_holds_at_prices_it_shows(levels, size: float) -> None:
    result = walk_levels(levels, size)
    depth = sum(s for _, s in levels)
    assert result.filled_coin == pytest.approx(min(size, depth), rel=1e-12, abs=1e-12)
    if result.filled_coin > 0:
        assert levels[0][0] * (1 - 1e-12) <= result.average_price_usd <= result.worst_price_usd * (1 + 1e-12)
    else:
        assert math.isnan(result.average_price_usd)


def test_walk_cost_is_the_sum_over_levels_taken() -> None:
    result = walk_levels([(100.0, 1.0), (101.0, 2.0), (103.0, 5.0)], 4.0)
    assert result.filled_coin * result.average_price_usd == pytest.approx(100.0 + 2 * 101.0 + 103.0)
    assert result.worst_price_usd == 103.0


def _book() -> OrderBook:
    book = OrderBook()
    book.apply(BookUpdate(0, "X", ((100.0, 1.0), (99.5, 2.0), (99.0, 4.0)),
                          ((100.5, 1.0), (101.0, 2.0), (102.0, 4.0)), True))
    return book


@pytest.mark.parametrize(
    ("size_coin", "side", "average_usd", "worst_usd"),
    [(1.0, 1, 100.5, 100.5), (2.0, 1, 100.75, 101.0), (3.0, -1, (100.0 + 2 * 99.5) / 3, 99.5)],
)
def test_walking_a_books_levels_sweeps_from_the_best_level_away_from_the_mid(
    size_coin: float, side: int, average_usd: float, worst_usd: float,
) -> None:
    book = _book()
    result = walk_levels(book.levels(side), size_coin)
    assert result.filled_coin == size_coin and result.average_price_usd == pytest.approx(average_usd)
    assert result.worst_price_usd == worst_usd and side * (result.average_price_usd - book.mid_usd) > 0.0


def test_walking_a_book_fills_only_what_it_holds() -> None:
    assert walk_levels(_book().levels(1), 100.0).filled_coin == 7.0
    empty = walk_levels(OrderBook().levels(-1), 1.0)
    assert empty.filled_coin == 0.0 and math.isnan(empty.average_price_usd)


def test_unknown_venue_fee_is_a_config_error_naming_it() -> None:
    fees = FeeSchedule(venues={"deribit": VenueFees(taker=0.0003, maker=-0.0001)})
    with pytest.raises(ConfigError, match="no fees configured for venue 'okx'"):
        fees.rates("okx")
