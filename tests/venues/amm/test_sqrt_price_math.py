"""SqrtPriceMath: v3-core's published values and reverts, and the exact rational amounts it rounds."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from venues.amm.v3_core import encode_price_sqrt, expand_to_18_decimals

from hedgekeeper.venues.amm.errors import AmmError, InsufficientLiquidity, IntegerOutOfRange
from hedgekeeper.venues.amm.solidity_ints import Q96, UINT128_MAX, UINT256_MAX
from hedgekeeper.venues.amm.sqrt_price_math import (
    get_amount0_delta,
    get_amount1_delta,
    get_next_sqrt_price_from_input,
    get_next_sqrt_price_from_output,
)
from hedgekeeper.venues.amm.tick_math import MAX_SQRT_RATIO, MIN_SQRT_RATIO

PRICE_ONE = encode_price_sqrt(1, 1)
# Uniswap/v3-core test/SqrtPriceMath.spec.ts: price 256 (2**96 * 256) with liquidity 1024 has virtual
# reserves of 4 token0 and 262144 token1.
SQRT_PRICE_256 = 20282409603651670423947251286016

sqrt_prices = st.integers(MIN_SQRT_RATIO, MAX_SQRT_RATIO - 1)
liquidities = st.one_of(st.integers(1, UINT128_MAX), st.integers(1, 10**24))
amounts = st.one_of(st.integers(0, 10**30), st.integers(0, UINT256_MAX))


# Uniswap/v3-core test/SqrtPriceMath.spec.ts, #getNextSqrtPriceFromInput
@pytest.mark.parametrize(
    ("sqrt_price_x96", "liquidity", "amount_in", "zero_for_one", "expected"),
    [
        (1, 1, 2**255, True, 1),  # any input amount cannot underflow the price
        (PRICE_ONE, 10**17, 0, True, PRICE_ONE),  # returns input price if amount in is zero
        (PRICE_ONE, 10**17, 0, False, PRICE_ONE),
        # returns the minimum price for max inputs
        (2**160 - 1, UINT128_MAX, UINT256_MAX - (UINT128_MAX << 96) // (2**160 - 1), True, 1),
        (PRICE_ONE, 10**18, 10**17, False, 87150978765690771352898345369),  # input amount of 0.1 token1
        (PRICE_ONE, 10**18, 10**17, True, 72025602285694852357767227579),  # input amount of 0.1 token0
        (PRICE_ONE, expand_to_18_decimals(10), 2**100, True, 624999999995069620),  # amountIn > type(uint96).max
        (PRICE_ONE, 1, UINT256_MAX // 2, True, 1),  # can return 1 with enough amountIn
        # swap computation: sqrtP * sqrtQ overflows
        (
            1025574284609383690408304870162715216695788925244,
            50015962439936049619261659728067971248,
            406,
            True,
            1025574284609383582644711336373707553698163132913,
        ),
    ],
)
def test_next_price_from_input_matches_published_values(
    sqrt_price_x96: int, liquidity: int, amount_in: int, zero_for_one: bool, expected: int
) -> None:
    assert get_next_sqrt_price_from_input(sqrt_price_x96, liquidity, amount_in, zero_for_one) == expected


# Uniswap/v3-core test/SqrtPriceMath.spec.ts, #getNextSqrtPriceFromOutput
@pytest.mark.parametrize(
    ("sqrt_price_x96", "liquidity", "amount_out", "zero_for_one", "expected"),
    [
        (SQRT_PRICE_256, 1024, 262143, True, 77371252455336267181195264),  # just less than the token1 reserves
        (PRICE_ONE, 10**17, 0, True, PRICE_ONE),
        (PRICE_ONE, 10**17, 0, False, PRICE_ONE),
        (PRICE_ONE, 10**18, 10**17, False, 88031291682515930659493278152),  # output amount of 0.1 token1
        (PRICE_ONE, 10**18, 10**17, True, 71305346262837903834189555302),  # output amount of 0.1 token1
    ],
)
def test_next_price_from_output_matches_published_values(
    sqrt_price_x96: int, liquidity: int, amount_out: int, zero_for_one: bool, expected: int
) -> None:
    assert get_next_sqrt_price_from_output(sqrt_price_x96, liquidity, amount_out, zero_for_one) == expected


# Uniswap/v3-core test/SqrtPriceMath.spec.ts: the "fails if ..." and "reverts if ..." cases
@pytest.mark.parametrize(
    ("function", "sqrt_price_x96", "liquidity", "amount", "zero_for_one", "error"),
    [
        (get_next_sqrt_price_from_input, 0, 0, 10**17, False, AmmError),  # price is zero
        (get_next_sqrt_price_from_input, 1, 0, 10**17, True, AmmError),  # liquidity is zero
        (get_next_sqrt_price_from_input, 2**160 - 1, 1024, 1024, False, IntegerOutOfRange),  # overflows the price
        (get_next_sqrt_price_from_output, 0, 0, 10**17, False, AmmError),
        (get_next_sqrt_price_from_output, 1, 0, 10**17, True, AmmError),
        (get_next_sqrt_price_from_output, SQRT_PRICE_256, 1024, 4, False, InsufficientLiquidity),  # = token0
        (get_next_sqrt_price_from_output, SQRT_PRICE_256, 1024, 5, False, InsufficientLiquidity),  # > token0
        (get_next_sqrt_price_from_output, SQRT_PRICE_256, 1024, 262145, True, InsufficientLiquidity),  # > token1
        (get_next_sqrt_price_from_output, SQRT_PRICE_256, 1024, 262144, True, InsufficientLiquidity),  # = token1
        (get_next_sqrt_price_from_output, PRICE_ONE, 1, UINT256_MAX, True, AmmError),  # impossible out (overflow)
        (get_next_sqrt_price_from_output, PRICE_ONE, 1, UINT256_MAX, False, AmmError),
    ],
)
def test_impossible_moves_are_refused(
    function, sqrt_price_x96: int, liquidity: int, amount: int, zero_for_one: bool, error: type[Exception]
) -> None:
    with pytest.raises(error):
        function(sqrt_price_x96, liquidity, amount, zero_for_one)


# Uniswap/v3-core test/SqrtPriceMath.spec.ts, #getAmount0Delta and #getAmount1Delta
def test_amount_deltas_match_published_values() -> None:
    price_121_100 = encode_price_sqrt(121, 100)
    assert get_amount0_delta(PRICE_ONE, encode_price_sqrt(2, 1), 0, True) == 0  # returns 0 if liquidity is 0
    assert get_amount0_delta(PRICE_ONE, PRICE_ONE, 0, True) == 0  # returns 0 if prices are equal
    assert get_amount1_delta(PRICE_ONE, encode_price_sqrt(2, 1), 0, True) == 0
    # returns 0.1 amount1 for price of 1 to 1.21
    assert get_amount0_delta(PRICE_ONE, price_121_100, 10**18, True) == 90909090909090910
    assert get_amount0_delta(PRICE_ONE, price_121_100, 10**18, False) == 90909090909090910 - 1
    assert get_amount1_delta(PRICE_ONE, price_121_100, 10**18, True) == 100000000000000000
    assert get_amount1_delta(PRICE_ONE, price_121_100, 10**18, False) == 100000000000000000 - 1
    # works for prices that overflow
    low, high = encode_price_sqrt(2**90, 1), encode_price_sqrt(2**96, 1)
    assert get_amount0_delta(low, high, 10**18, True) == get_amount0_delta(low, high, 10**18, False) + 1
    # swap computation: sqrtP * sqrtQ overflows
    sqrt_q = 1025574284609383582644711336373707553698163132913
    liquidity = 50015962439936049619261659728067971248
    assert get_amount0_delta(sqrt_q, 1025574284609383690408304870162715216695788925244, liquidity, True) == 406


def _rounded(exact: Fraction, round_up: bool) -> int:
    return math.ceil(exact) if round_up else math.floor(exact)


@given(a=sqrt_prices, b=sqrt_prices, liquidity=liquidities, round_up=st.booleans())
def test_amount0_delta_is_the_rounded_exact_amount(a: int, b: int, liquidity: int, round_up: bool) -> None:
    lower, upper = sorted((a, b))
    exact = Fraction(liquidity * Q96 * (upper - lower), lower * upper)  # L * (1/sqrtA - 1/sqrtB)
    assert get_amount0_delta(a, b, liquidity, round_up) == _rounded(exact, round_up)


@given(a=sqrt_prices, b=sqrt_prices, liquidity=liquidities, round_up=st.booleans())
def test_amount1_delta_is_the_rounded_exact_amount(a: int, b: int, liquidity: int, round_up: bool) -> None:
    exact = Fraction(liquidity * abs(b - a), Q96)  # L * (sqrtB - sqrtA)
    assert get_amount1_delta(a, b, liquidity, round_up) == _rounded(exact, round_up)


@given(sqrt_price=sqrt_prices, liquidity=liquidities, amount=amounts)
def test_token1_in_moves_the_price_up_by_amount_over_liquidity_rounded_down(
    sqrt_price: int, liquidity: int, amount: int
) -> None:
    exact = sqrt_price + Fraction(amount * Q96, liquidity)
    assume(exact < 2**160)
    assert get_next_sqrt_price_from_input(sqrt_price, liquidity, amount, False) == math.floor(exact)


@given(sqrt_price=sqrt_prices, liquidity=liquidities, amount=amounts)
def test_token0_in_moves_the_price_down_no_further_than_exact(
    sqrt_price: int, liquidity: int, amount: int
) -> None:
    if (liquidity << 96) // sqrt_price + amount > UINT256_MAX:  # even the overflow-safe formula overflows
        with pytest.raises(IntegerOutOfRange):
            get_next_sqrt_price_from_input(sqrt_price, liquidity, amount, True)
        return
    exact = Fraction(liquidity * Q96 * sqrt_price, liquidity * Q96 + amount * sqrt_price)
    result = get_next_sqrt_price_from_input(sqrt_price, liquidity, amount, True)
    # Rounded up; when L * sqrtP overflows the contract divides in two steps, which can round up by more.
    assert exact <= result <= sqrt_price
    if amount * sqrt_price + (liquidity << 96) <= UINT256_MAX:
        assert result == math.ceil(exact)


@given(sqrt_price=sqrt_prices, liquidity=liquidities, amount=amounts, zero_for_one=st.booleans())
def test_price_after_an_exact_output_pays_at_least_that_output(
    sqrt_price: int, liquidity: int, amount: int, zero_for_one: bool
) -> None:
    try:
        after = get_next_sqrt_price_from_output(sqrt_price, liquidity, amount, zero_for_one)
    except InsufficientLiquidity:
        reserve = Fraction(liquidity * sqrt_price, Q96) if zero_for_one else Fraction(liquidity * Q96, sqrt_price)
        assert amount >= reserve - 1  # only an output at (or within rounding of) the virtual reserves is refused
        return
    except IntegerOutOfRange:  # the exact price after goes through zero, or past uint160
        if zero_for_one:
            assert sqrt_price - Fraction(amount * Q96, liquidity) < 0
        else:
            assert Fraction(liquidity * Q96 * sqrt_price, liquidity * Q96 - amount * sqrt_price) > 2**160 - 1
        return
    if zero_for_one:
        assert after <= sqrt_price and get_amount1_delta(after, sqrt_price, liquidity, False) >= amount
    else:
        assert after >= sqrt_price and get_amount0_delta(sqrt_price, after, liquidity, False) >= amount
