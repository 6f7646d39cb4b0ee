"""TickMath: v3-core's published values, the definition of the tick of a price, and round trips."""

from __future__ import annotations

from decimal import Context, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from venues.amm.v3_core import encode_price_sqrt

from hedgekeeper.venues.amm.errors import AmmError
from hedgekeeper.venues.amm.tick_math import (
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    MIN_TICK,
    get_sqrt_ratio_at_tick,
    get_tick_at_sqrt_ratio,
)

# Prices anywhere, and prices one unit either side of a tick's ratio, where an off-by-one would show.
sqrt_prices = st.one_of(
    st.integers(MIN_SQRT_RATIO, MAX_SQRT_RATIO - 1),
    st.tuples(st.integers(MIN_TICK, MAX_TICK - 1), st.integers(-1, 1)).map(
        lambda tick_offset: min(
            max(get_sqrt_ratio_at_tick(tick_offset[0]) + tick_offset[1], MIN_SQRT_RATIO), MAX_SQRT_RATIO - 1
        )
    ),
)


# Uniswap/v3-core test/TickMath.spec.ts, #getSqrtRatioAtTick: min tick, min tick +1, max tick - 1, max tick
@pytest.mark.parametrize(
    ("tick", "sqrt_price_x96"),
    [
        (MIN_TICK, 4295128739),
        (MIN_TICK + 1, 4295343490),
        (MAX_TICK - 1, 1461373636630004318706518188784493106690254656249),
        (MAX_TICK, 1461446703485210103287273052203988822378723970342),
    ],
)
def test_sqrt_ratio_at_the_tick_bounds_matches_published_values(tick: int, sqrt_price_x96: int) -> None:
    assert get_sqrt_ratio_at_tick(tick) == sqrt_price_x96


# Uniswap/v3-core test/TickMath.spec.ts, #getTickAtSqrtRatio: ratio of min tick, of min tick + 1,
# of max tick - 1, and closest to max tick
@pytest.mark.parametrize(
    ("sqrt_price_x96", "tick"),
    [
        (MIN_SQRT_RATIO, MIN_TICK),
        (4295343490, MIN_TICK + 1),
        (1461373636630004318706518188784493106690254656249, MAX_TICK - 1),
        (MAX_SQRT_RATIO - 1, MAX_TICK - 1),
    ],
)
def test_tick_at_the_ratio_bounds_matches_published_values(sqrt_price_x96: int, tick: int) -> None:
    assert get_tick_at_sqrt_ratio(sqrt_price_x96) == tick


# Uniswap/v3-core test/TickMath.spec.ts: MIN_SQRT_RATIO and MAX_SQRT_RATIO are the ratios at the tick bounds
def test_ratio_constants_are_the_ratios_at_the_tick_bounds() -> None:
    assert get_sqrt_ratio_at_tick(MIN_TICK) == MIN_SQRT_RATIO
    assert get_sqrt_ratio_at_tick(MAX_TICK) == MAX_SQRT_RATIO


# Uniswap/v3-core test/TickMath.spec.ts: "throws for too low / too high" on both functions
def test_out_of_range_ticks_and_ratios_are_refused() -> None:
    for tick in (MIN_TICK - 1, MAX_TICK + 1):
        with pytest.raises(AmmError, match="'T'"):
            get_sqrt_ratio_at_tick(tick)
    for sqrt_price_x96 in (MIN_SQRT_RATIO - 1, MAX_SQRT_RATIO):
        with pytest.raises(AmmError, match="'R'"):
            get_tick_at_sqrt_ratio(sqrt_price_x96)


# Uniswap/v3-core test/TickMath.spec.ts: "is at most off by 1/100th of a bips" against sqrt(1.0001**tick) * 2**96
@pytest.mark.parametrize(
    "abs_tick", [50, 100, 250, 500, 1_000, 2_500, 3_000, 4_000, 5_000, 50_000, 150_000, 250_000, 500_000, 738_203]
)
def test_sqrt_ratio_is_within_a_hundredth_of_a_bip_of_the_exact_power(abs_tick: int) -> None:
    context = Context(prec=80)
    for tick in (-abs_tick, abs_tick):
        exact = context.multiply(context.power(Decimal("1.0001"), tick).sqrt(context), Decimal(2**96))
        relative_error = abs(Decimal(get_sqrt_ratio_at_tick(tick)) - exact) / exact
        assert relative_error < Decimal("0.000001")


# Uniswap/v3-core test/TickMath.spec.ts: for these ratios, "ratio is between the tick and tick+1"
@pytest.mark.parametrize(
    "sqrt_price_x96",
    [
        MIN_SQRT_RATIO,
        encode_price_sqrt(10**12, 1),
        encode_price_sqrt(10**6, 1),
        encode_price_sqrt(1, 64),
        encode_price_sqrt(1, 8),
        encode_price_sqrt(1, 2),
        encode_price_sqrt(1, 1),
        encode_price_sqrt(2, 1),
        encode_price_sqrt(8, 1),
        encode_price_sqrt(64, 1),
        encode_price_sqrt(1, 10**6),
        encode_price_sqrt(1, 10**12),
        MAX_SQRT_RATIO - 1,
    ],
)
def test_tick_of_a_ratio_brackets_it(sqrt_price_x96: int) -> None:
    tick = get_tick_at_sqrt_ratio(sqrt_price_x96)
    assert get_sqrt_ratio_at_tick(tick) <= sqrt_price_x96 < get_sqrt_ratio_at_tick(tick + 1)


# MAX_TICK's ratio is MAX_SQRT_RATIO, which no pool price reaches (the range is half-open).
@given(tick=st.integers(MIN_TICK, MAX_TICK - 1))
def test_tick_of_a_ticks_own_ratio_is_the_tick(tick: int) -> None:
    assert get_tick_at_sqrt_ratio(get_sqrt_ratio_at_tick(tick)) == tick


@given(sqrt_price_x96=sqrt_prices)
def test_tick_of_any_price_is_the_greatest_tick_at_or_below_it(sqrt_price_x96: int) -> None:
    tick = get_tick_at_sqrt_ratio(sqrt_price_x96)
    assert get_sqrt_ratio_at_tick(tick) <= sqrt_price_x96 < get_sqrt_ratio_at_tick(tick + 1)


@given(tick=st.integers(MIN_TICK, MAX_TICK - 1))
def test_sqrt_ratio_rises_with_the_tick(tick: int) -> None:
    assert get_sqrt_ratio_at_tick(tick) < get_sqrt_ratio_at_tick(tick + 1)
