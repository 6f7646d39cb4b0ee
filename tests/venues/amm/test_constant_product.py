"""Constant-product pools: Uniswap v2's published swaps, its formulas, and what no swap may do."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgekeeper.venues.amm.constant_product import ConstantProductPool
from hedgekeeper.venues.amm.errors import AmmError, InsufficientLiquidity, IntegerOutOfRange

E18 = 10**18


# Uniswap/v2-core test/UniswapV2Pair.spec.ts, swapTestCases: [swapAmount, token0Amount, token1Amount,
# expectedOutput]; the pair pays expectedOutput and reverts ('UniswapV2: K') at expectedOutput + 1.
@pytest.mark.parametrize(
    ("swap_amount", "reserve0", "reserve1", "expected_output"),
    [
        (1 * E18, 5 * E18, 10 * E18, 1662497915624478906),
        (1 * E18, 10 * E18, 5 * E18, 453305446940074565),
        (2 * E18, 5 * E18, 10 * E18, 2851015155847869602),
        (2 * E18, 10 * E18, 5 * E18, 831248957812239453),
        (1 * E18, 10 * E18, 10 * E18, 906610893880149131),
        (1 * E18, 100 * E18, 100 * E18, 987158034397061298),
        (1 * E18, 1000 * E18, 1000 * E18, 996006981039903216),
    ],
)
def test_amount_out_matches_the_pairs_published_swaps(
    swap_amount: int, reserve0: int, reserve1: int, expected_output: int
) -> None:
    pool = ConstantProductPool(reserve0, reserve1)
    assert pool.amount_out(swap_amount, zero_for_one=True) == expected_output
    # Uniswap/v2-core test/UniswapV2Pair.spec.ts, swap:token0: Sync(reserve0 + swapAmount, reserve1 - output)
    after = pool.swap_exact_input(swap_amount, zero_for_one=True).pool
    assert (after.reserve0, after.reserve1) == (reserve0 + swap_amount, reserve1 - expected_output)


# Uniswap/v2-periphery test/UniswapV2Router02.spec.ts, swapTokensForExactTokens: 1e18 out of (5e18, 10e18) costs
# 557227237267357629; UniswapV2Router01.spec.ts: getAmountOut(2, 100, 100) = 1 and getAmountIn(1, 100, 100) = 2.
def test_amount_in_and_small_amounts_match_the_routers_published_values() -> None:
    assert ConstantProductPool(5 * E18, 10 * E18).amount_in(E18, zero_for_one=True) == 557227237267357629
    assert ConstantProductPool(100, 100).amount_out(2, zero_for_one=True) == 1
    assert ConstantProductPool(100, 100).amount_in(1, zero_for_one=True) == 2


@given(
    amount_in=st.integers(1, 10**30),
    reserve_in=st.integers(1, 2**112 - 1),
    reserve_out=st.integers(1, 2**112 - 1),
)
def test_the_default_fee_is_the_contracts_997_over_1000(
    amount_in: int, reserve_in: int, reserve_out: int
) -> None:
    pool = ConstantProductPool(reserve_in, reserve_out)
    contract = amount_in * 997 * reserve_out // (reserve_in * 1000 + amount_in * 997)  # getAmountOut
    assert pool.amount_out(amount_in, zero_for_one=True) == contract
    amount_out = min(amount_in, reserve_out - 1)
    if amount_out > 0:
        contract_in = reserve_in * amount_out * 1000 // ((reserve_out - amount_out) * 997) + 1  # getAmountIn
        assert pool.amount_in(amount_out, zero_for_one=True) == contract_in


pools = st.builds(
    ConstantProductPool,
    st.integers(10**3, 10**30),
    st.integers(10**3, 10**30),
    st.sampled_from([0, 500, 2500, 3000, 10000]),
)


@given(pool=pools, amount_in=st.integers(1, 10**28), zero_for_one=st.booleans())
def test_a_swap_never_lowers_k_and_pays_out_at_most_the_exact_curve(
    pool: ConstantProductPool, amount_in: int, zero_for_one: bool
) -> None:
    try:
        result = pool.swap_exact_input(amount_in, zero_for_one)
    except AmmError:  # an input too small to buy one base unit
        assert pool.amount_out(amount_in, zero_for_one) == 0
        return
    reserve_in, reserve_out = (pool.reserve0, pool.reserve1) if zero_for_one else (pool.reserve1, pool.reserve0)
    effective_in = Fraction(amount_in * (1_000_000 - pool.fee_pips), 1_000_000)
    exact_out = effective_in * reserve_out / (reserve_in + effective_in)
    assert exact_out - 1 < result.amount_out <= exact_out
    after = result.pool
    assert after.reserve0 * after.reserve1 >= pool.reserve0 * pool.reserve1


@given(pool=pools, amount_in=st.integers(1, 10**28), zero_for_one=st.booleans())
def test_swapping_there_and_back_returns_no_more_than_was_paid(
    pool: ConstantProductPool, amount_in: int, zero_for_one: bool
) -> None:
    try:
        there = pool.swap_exact_input(amount_in, zero_for_one)
        back = there.pool.swap_exact_input(there.amount_out, not zero_for_one)
    except AmmError:
        return  # an amount too small to buy anything on one leg: nothing to round-trip
    assert back.amount_out <= amount_in


@given(pool=pools, amount_out=st.integers(1, 10**28), zero_for_one=st.booleans())
def test_an_exact_output_swap_delivers_what_is_asked_for_the_least_input(
    pool: ConstantProductPool, amount_out: int, zero_for_one: bool
) -> None:
    reserve_out = pool.reserve1 if zero_for_one else pool.reserve0
    if amount_out >= reserve_out:
        with pytest.raises(InsufficientLiquidity, match="not below the output reserve"):
            pool.swap_exact_output(amount_out, zero_for_one)
        return
    result = pool.swap_exact_output(amount_out, zero_for_one)
    assert result.amount_out == amount_out
    assert pool.amount_out(result.amount_in, zero_for_one) >= amount_out
    assert result.amount_in == 1 or pool.amount_out(result.amount_in - 1, zero_for_one) <= amount_out
    assert result.pool.reserve0 * result.pool.reserve1 >= pool.reserve0 * pool.reserve1


def test_fee_is_the_fee_share_of_the_input_rounded_up() -> None:
    result = ConstantProductPool(10**6, 10**6, fee_pips=3000).swap_exact_input(1001, zero_for_one=False)
    assert result.fee == 4  # 1001 * 0.003 = 3.003
    assert ConstantProductPool(10**6, 4 * 10**6).mid_price_raw() == 4.0


_EMPTY0, _EMPTY1, _SMALL = ConstantProductPool(0, 100), ConstantProductPool(100, 0), ConstantProductPool(100, 100)
_NEAR_FULL = ConstantProductPool(2**112 - 2**10, 2**111)


# Uniswap/v2-periphery test/UniswapV2Router01.spec.ts (getAmountOut, getAmountIn: the revert reasons) and
# UniswapV2Pair.sol (INSUFFICIENT_OUTPUT_AMOUNT, OVERFLOW of the uint112 reserves).
@pytest.mark.parametrize(
    ("pool", "call", "error", "message"),
    [
        (_SMALL, lambda p: p.amount_out(0, True), AmmError, "INSUFFICIENT_INPUT_AMOUNT"),
        (_SMALL, lambda p: p.amount_in(0, True), AmmError, "INSUFFICIENT_OUTPUT_AMOUNT"),
        (_EMPTY0, lambda p: p.amount_out(2, True), InsufficientLiquidity, "INSUFFICIENT_LIQUIDITY"),
        (_EMPTY1, lambda p: p.amount_in(1, True), InsufficientLiquidity, "INSUFFICIENT_LIQUIDITY"),
        (_SMALL, lambda p: p.amount_in(100, True), InsufficientLiquidity, "output reserve"),
        (_SMALL, lambda p: p.swap_exact_input(1, True), AmmError, "buys nothing"),
        (_NEAR_FULL, lambda p: p.swap_exact_input(2**20, True), IntegerOutOfRange, "uint112"),
        (_SMALL, lambda p: p.amount_out(-1, True), IntegerOutOfRange, "amount_in = -1"),
        (_SMALL, lambda p: p.amount_out(1.5, True), AmmError, "must be an int"),
    ],
)
def test_swaps_the_contracts_refuse_are_refused(pool, call, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        call(pool)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [((2**112, 1), "reserve0 = .* outside uint112"), ((1, -1), "reserve1 = -1"), ((1, 1, 10**6), "fee_pips")],
)
def test_pool_states_outside_the_pair_types_are_refused(arguments: tuple[int, ...], message: str) -> None:
    with pytest.raises(AmmError, match=message):
        ConstantProductPool(*arguments)
