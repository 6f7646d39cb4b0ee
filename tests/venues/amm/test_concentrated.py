"""Concentrated-liquidity pools: v3-core's recorded pool swaps, and what any swap must do.

Independent truths: the snapshot of v3-core's pool swap tests, a full walk of the contract's loop
against the shortcut across empty words, a constant-product pool with the same virtual reserves,
the liquidity of the positions spanning the final tick, and the exact curve in rationals.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from venues.amm.v3_core import encode_price_sqrt, get_max_tick, get_min_tick
from venues.amm.v3_pool_swaps import RESULTS, SWAPS, build_pool, run_swap

from hedgekeeper.venues.amm.concentrated import ConcentratedPool, ConcentratedSwapResult
from hedgekeeper.venues.amm.constant_product import ConstantProductPool
from hedgekeeper.venues.amm.errors import AmmError
from hedgekeeper.venues.amm.solidity_ints import Q96
from hedgekeeper.venues.amm.tick_math import (
    MAX_SQRT_RATIO,
    MIN_SQRT_RATIO,
    get_sqrt_ratio_at_tick,
    get_tick_at_sqrt_ratio,
)
from hedgekeeper.venues.amm.tick_table import TickTable


# Uniswap/v3-core test/UniswapV3Pool.swaps.spec.ts with test/__snapshots__/UniswapV3Pool.swaps.spec.ts.snap
# (amount0Delta, amount1Delta, tickAfter per pool and swap; the data is in v3_pool_swaps.py).
@pytest.mark.parametrize(("pool_description", "swap_description", "expected"), RESULTS)
def test_swap_matches_v3_cores_recorded_pool_swaps(
    pool_description: str, swap_description: str, expected: tuple[int, int, int] | None
) -> None:
    pool = build_pool(pool_description)
    if expected is None:
        with pytest.raises(AmmError, match="'SPL'"):
            run_swap(pool, swap_description)
        return
    result = run_swap(pool, swap_description)
    zero_for_one = SWAPS[swap_description].zero_for_one
    amount0_delta, amount1_delta = (
        (result.amount_in, -result.amount_out) if zero_for_one else (-result.amount_out, result.amount_in)
    )
    assert (amount0_delta, amount1_delta, result.pool.tick) == expected


# Uniswap/v3-core test/__snapshots__/UniswapV3Pool.swaps.spec.ts.snap: tickBefore of the pools it initializes
@pytest.mark.parametrize(
    ("pool_description", "tick"),
    [
        ("close to max price", 880340),
        ("close to min price", -880303),
        ("medium fee, 10:1 price, 2e18 max range liquidity", 23027),
        ("medium fee, 1:10 price, 2e18 max range liquidity", -23028),
        ("initialized at the max ratio", 887271),
        ("initialized at the min ratio", -887272),
    ],
)
def test_initial_tick_matches_v3_core(pool_description: str, tick: int) -> None:
    assert build_pool(pool_description).tick == tick


Position = tuple[int, int, int]


@st.composite
def positions_and_prices(draw: st.DrawFn, spacings: list[int]) -> tuple[list[Position], int, int, int]:
    """A few positions laid out in quarters of a bitmap word (so that gaps span whole words), and a price."""
    spacing = draw(st.sampled_from(spacings))
    quarter_word = 64 * spacing
    positions = [
        (start * quarter_word, (start + length) * quarter_word, liquidity)
        for start, length, liquidity in draw(
            st.lists(
                st.tuples(st.integers(-35, 35), st.integers(1, 30), st.integers(10**15, 10**21)), max_size=4
            )
        )
    ]
    tick = draw(st.integers(-44 * quarter_word, 44 * quarter_word))
    offset = draw(st.sampled_from([0, 1, 2**40]))  # on a tick's price, just above it, or inside its range
    sqrt_price = get_sqrt_ratio_at_tick(tick) + offset
    return positions, sqrt_price, draw(st.sampled_from([0, 500, 3000, 10000])), spacing


def _build(case: tuple[list[Position], int, int, int]) -> ConcentratedPool:
    positions, sqrt_price, fee_pips, spacing = case
    return ConcentratedPool.from_positions(sqrt_price, positions, fee_pips=fee_pips, tick_spacing=spacing)


swap_amounts = st.one_of(st.integers(1, 10**21), st.integers(1, 10**3))


def _swap_with(
    pool: ConcentratedPool, exact_input: bool, zero_for_one: bool, amount: int, limit: int | None = None
) -> ConcentratedSwapResult:
    return (pool.swap_exact_input if exact_input else pool.swap_exact_output)(amount, zero_for_one, limit)


def _with_far_zero_net_tick(pool: ConcentratedPool, zero_for_one: bool) -> ConcentratedPool:
    # A tick at the far end whose net is 0: the loop now always has an initialized tick ahead and walks
    # every empty word, as the contract does, instead of taking the shortcut.
    spacing = pool.tick_spacing
    far = get_min_tick(spacing) if zero_for_one else get_max_tick(spacing)
    ticks = [(tick, net) for tick, net in pool.ticks.ticks]
    assume(all(tick != far for tick, _ in ticks))
    table = TickTable(spacing, (*ticks, (far, 0)))
    return ConcentratedPool(pool.sqrt_price_x96, pool.tick, pool.liquidity, pool.fee_pips, spacing, table)


# Price limits: the default, a tick's price (on a bitmap word's first tick, where the walk's last step
# lands exactly, or anywhere), or one unit above it.
limit_ticks = st.one_of(
    st.none(),
    st.tuples(st.integers(-17, 17), st.sampled_from([0, 1])).map(lambda word_offset: ("word", *word_offset)),
    st.tuples(st.integers(-800_000, 800_000), st.sampled_from([0, 1])).map(lambda tick_offset: ("tick", *tick_offset)),
)


def _limit(spec: tuple[str, int, int] | None, tick_spacing: int) -> int | None:
    if spec is None:
        return None
    kind, where, offset = spec
    tick = where * 256 * tick_spacing if kind == "word" else where - where % tick_spacing
    return get_sqrt_ratio_at_tick(tick) + offset


@given(
    case=positions_and_prices([60, 200]),
    exact_input=st.booleans(),
    zero_for_one=st.booleans(),
    amount=swap_amounts,
    limit_spec=limit_ticks,
)
def test_the_shortcut_across_empty_words_ends_where_the_full_walk_ends(
    case: tuple[list[Position], int, int, int],
    exact_input: bool,
    zero_for_one: bool,
    amount: int,
    limit_spec: tuple[str, int, int] | None,
) -> None:
    pool = _build(case)
    walked_pool = _with_far_zero_net_tick(pool, zero_for_one)
    limit = _limit(limit_spec, pool.tick_spacing)
    try:
        result = _swap_with(pool, exact_input, zero_for_one, amount, limit)
    except AmmError as error:  # a limit on the wrong side, or a price at the edge with no room to move
        with pytest.raises(type(error)):
            _swap_with(walked_pool, exact_input, zero_for_one, amount, limit)
        return
    walked = _swap_with(walked_pool, exact_input, zero_for_one, amount, limit)
    after, walked_after = result.pool, walked.pool
    assert (result.amount_in, result.amount_out, result.fee) == (walked.amount_in, walked.amount_out, walked.fee)
    assert (after.sqrt_price_x96, after.tick, after.liquidity) == (
        walked_after.sqrt_price_x96,
        walked_after.tick,
        walked_after.liquidity,
    )
    far = walked_pool.ticks.ticks[0 if zero_for_one else -1].tick
    assert result.ticks_crossed == tuple(tick for tick in walked.ticks_crossed if tick != far)


def _active_liquidity(positions: list[Position], tick: int) -> int:
    return sum(liquidity for lower, upper, liquidity in positions if lower <= tick < upper)


def _exact_amounts(positions: list[Position], start: int, end: int) -> tuple[Fraction, Fraction]:
    """Token0 and token1 that the positions' liquidity exchanges between two sqrt prices, exactly."""
    low, high = sorted((start, end))
    bounds = sorted({low, high} | {get_sqrt_ratio_at_tick(t) for p in positions for t in p[:2]})
    token0 = token1 = Fraction(0)
    for a, b in zip(bounds, bounds[1:]):
        if low <= a and b <= high:
            liquidity = _active_liquidity(positions, get_tick_at_sqrt_ratio(a))
            token0 += Fraction(liquidity * Q96 * (b - a), a * b)
            token1 += Fraction(liquidity * (b - a), Q96)
    return token0, token1


@given(
    case=positions_and_prices([10, 60, 200]),
    exact_input=st.booleans(),
    zero_for_one=st.booleans(),
    amount=swap_amounts,
)
def test_a_swap_pays_out_no_more_than_the_exact_curve_and_rounds_by_wei(
    case: tuple[list[Position], int, int, int], exact_input: bool, zero_for_one: bool, amount: int
) -> None:
    positions = case[0]
    pool = _build(case)
    try:
        result = _swap_with(pool, exact_input, zero_for_one, amount)
    except AmmError:
        return
    after = result.pool
    # The active liquidity after is what the positions spanning the final tick hold, and crossing
    # each tick changed it by that tick's liquidity_net.
    assert after.liquidity == _active_liquidity(positions, after.tick)
    sign = -1 if zero_for_one else 1
    nets = sum(pool.ticks.liquidity_net(tick) for tick in result.ticks_crossed)
    assert after.liquidity - pool.liquidity == sign * nets
    assert list(result.ticks_crossed) == sorted(result.ticks_crossed, reverse=zero_for_one)
    # Amounts against the exact piecewise curve between the start and end prices.
    token0, token1 = _exact_amounts(positions, pool.sqrt_price_x96, after.sqrt_price_x96)
    exact_in, exact_out = (token0, token1) if zero_for_one else (token1, token0)
    paid_in = result.amount_in - result.fee
    assert paid_in >= exact_in and result.amount_out <= exact_out  # rounding always favours the pool
    # Each step rounds its amounts by under a base unit and its price by under one Q64.96 unit,
    # which at the lowest price on the path is worth this much of each token:
    words = abs(after.tick - pool.tick) // (256 * pool.tick_spacing) + 2
    steps = words + len(result.ticks_crossed)
    most_liquidity = sum(liquidity for _, _, liquidity in positions)
    lowest = min(pool.sqrt_price_x96, after.sqrt_price_x96)
    price_unit0, price_unit1 = Fraction(most_liquidity * Q96, lowest**2), Fraction(most_liquidity, Q96)
    unit_in, unit_out = (price_unit0, price_unit1) if zero_for_one else (price_unit1, price_unit0)
    assert paid_in <= exact_in + steps * (1 + unit_in)
    assert result.amount_out >= exact_out - steps * (1 + unit_out)
    if exact_input:
        assert result.amount_in <= amount
    else:
        assert result.amount_out <= amount
    # The fee is at least its share of the input.
    assert result.fee * 1_000_000 >= result.amount_in * pool.fee_pips - steps * 1_000_000


@given(case=positions_and_prices([10, 60]), zero_for_one=st.booleans(), amount=swap_amounts)
def test_exact_output_delivers_the_amount_unless_the_price_limit_stops_it(
    case: tuple[list[Position], int, int, int], zero_for_one: bool, amount: int
) -> None:
    pool = _build(case)
    try:
        result = pool.swap_exact_output(amount, zero_for_one)
    except AmmError:
        return
    limit = MIN_SQRT_RATIO + 1 if zero_for_one else MAX_SQRT_RATIO - 1
    if result.amount_out < amount:
        assert result.pool.sqrt_price_x96 == limit  # ran out of liquidity
        return
    assert result.amount_out == amount
    again = pool.swap_exact_input(result.amount_in, zero_for_one)
    assert again.amount_out >= amount  # paying what the exact-output swap charged buys at least as much


@given(case=positions_and_prices([10, 60]), zero_for_one=st.booleans(), amount=swap_amounts)
def test_swapping_there_and_back_never_returns_more_than_was_paid(
    case: tuple[list[Position], int, int, int], zero_for_one: bool, amount: int
) -> None:
    pool = _build(case)
    try:
        there = pool.swap_exact_input(amount, zero_for_one)
        back = there.pool.swap_exact_input(there.amount_out, not zero_for_one)
    except AmmError:
        return  # nothing came out, or the price sits at the edge
    assert back.amount_out <= there.amount_in


@given(case=positions_and_prices([60]), zero_for_one=st.booleans(), fraction_x32=st.integers(0, 2**32))
def test_a_price_limit_is_never_passed_and_stops_the_swap_when_reached(
    case: tuple[list[Position], int, int, int], zero_for_one: bool, fraction_x32: int
) -> None:
    pool = _build(case)
    edge = MIN_SQRT_RATIO + 1 if zero_for_one else MAX_SQRT_RATIO - 1
    limit = pool.sqrt_price_x96 + (edge - pool.sqrt_price_x96) * fraction_x32 // 2**32
    assume(limit != pool.sqrt_price_x96)
    result = pool.swap_exact_input(2**200, zero_for_one, limit)  # more than any pool here can absorb
    assert result.pool.sqrt_price_x96 == limit
    assert result.pool.tick in (get_tick_at_sqrt_ratio(limit), get_tick_at_sqrt_ratio(limit) - 1)


E18 = 10**18


@pytest.mark.parametrize("fee_pips", [0, 500, 3000])
@given(
    n=st.integers(2**10, 2**14),
    scale=st.integers(10**6, 10**12),
    amount=st.integers(10**3, 10**17),
    zero_for_one=st.booleans(),
)
def test_a_full_range_position_trades_like_a_constant_product_pool(
    fee_pips: int, n: int, scale: int, amount: int, zero_for_one: bool
) -> None:
    # sqrtP = n / 2**12 (price in [1/16, 16]) and L = scale * n * 2**12 make the virtual reserves
    # x = L / sqrtP = scale * 2**24 and y = L * sqrtP = scale * n**2 exact integers.
    sqrt_price = n * 2 ** (96 - 12)
    liquidity = scale * n * 2**12
    v3 = ConcentratedPool.from_positions(
        sqrt_price, [(get_min_tick(60), get_max_tick(60), liquidity)], fee_pips=fee_pips, tick_spacing=60
    )
    v2 = ConstantProductPool(scale * 2**24, scale * n**2, fee_pips)
    assume(amount < (v2.reserve0 if zero_for_one else v2.reserve1))  # at most doubles a reserve
    v3_result = v3.swap_exact_input(amount, zero_for_one)
    v2_out = v2.amount_out(amount, zero_for_one)
    # v3 stops at every bitmap word boundary (256 * 60 ticks). Each step rounds its input up and its
    # fee up (a base unit of input each, worth output_per_input of output) and floors its output.
    word = 256 * 60
    steps = abs(v3_result.pool.tick // word - v3.tick // word) + 2
    output_per_input = Fraction(v2.reserve1, v2.reserve0) if zero_for_one else Fraction(v2.reserve0, v2.reserve1)
    assert abs(v3_result.amount_out - v2_out) <= steps * (2 * math.ceil(output_per_input) + 1)


def test_mid_price_is_the_square_of_the_sqrt_price() -> None:
    pool = build_pool("medium fee, 10:1 price, 2e18 max range liquidity")
    assert pool.mid_price_raw() == pytest.approx(10.0, rel=1e-15)


def _consistent_state(**changes: int) -> dict[str, object]:
    table = TickTable.from_positions([(-600, 600, E18)], 60)
    state: dict[str, object] = {
        "sqrt_price_x96": encode_price_sqrt(1, 1),
        "tick": 0,
        "liquidity": E18,
        "fee_pips": 3000,
        "tick_spacing": 60,
        "ticks": table,
    }
    state.update(changes)
    return state


def test_explicit_state_may_sit_one_tick_below_a_tick_price_as_after_a_downward_crossing() -> None:
    at_600 = get_sqrt_ratio_at_tick(600)
    pool = ConcentratedPool(**_consistent_state(sqrt_price_x96=at_600, tick=599))  # type: ignore[arg-type]
    assert pool.tick == 599 and pool.liquidity == E18


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tick": 1}, "does not hold sqrt_price_x96"),
        ({"tick": -2}, "does not hold sqrt_price_x96"),
        ({"liquidity": E18 + 1}, "differs from 1000000000000000000, the ticks' sum"),
        ({"tick_spacing": 10}, "spacing 60 differs"),
        ({"fee_pips": 10**6}, "fee_pips"),
        ({"sqrt_price_x96": MAX_SQRT_RATIO}, "'R'"),
    ],
)
def test_inconsistent_pool_states_are_refused(changes: dict[str, int], message: str) -> None:
    with pytest.raises(AmmError, match=message):
        ConcentratedPool(**_consistent_state(**changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda pool: pool.swap_exact_input(0, True), "'AS'"),
        (lambda pool: pool.swap_exact_output(0, False), "'AS'"),
        (lambda pool: pool.swap_exact_input(-5, True), "'AS'"),
        (lambda pool: pool.swap_exact_input(2**255, True), "outside int256"),
        (lambda pool: pool.swap_exact_input(10, True, encode_price_sqrt(2, 1)), "below the price"),
        (lambda pool: pool.swap_exact_input(10, False, encode_price_sqrt(1, 2)), "above the price"),
        (lambda pool: pool.swap_exact_input(10, True, MIN_SQRT_RATIO), "'SPL'"),
        (lambda pool: pool.swap_exact_output(10, False, MAX_SQRT_RATIO), "'SPL'"),
    ],
)
def test_swaps_the_pool_refuses_are_refused(call, message: str) -> None:
    with pytest.raises(AmmError, match=message):
        call(ConcentratedPool(**_consistent_state()))  # type: ignore[arg-type]
