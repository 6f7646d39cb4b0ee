"""Book walks: fills never exceed the book, average between best and worst, cash conserved."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgekeeper.execution.book_walk import walk_levels
from hedgekeeper.execution.fees import FeeSchedule, VenueFees
from hedgekeeper.errors import ConfigError

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


def test_unknown_venue_fee_is_a_config_error_naming_it() -> None:
    fees = FeeSchedule(venues={"deribit": VenueFees(taker=0.0003, maker=-0.0001)})
    with pytest.raises(ConfigError, match="no fees configured for venue 'okx'"):
        fees.rates("okx")
