"""SwapMath.computeSwapStep: v3-core's published steps, and what any step may and may not do."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from venues.amm.v3_core import encode_price_sqrt, expand_to_18_decimals

from hedgekeeper.venues.amm.errors import AmmError
from hedgekeeper.venues.amm.solidity_ints import Q96
from hedgekeeper.venues.amm.sqrt_price_math import get_next_sqrt_price_from_input, get_next_sqrt_price_from_output
from hedgekeeper.venues.amm.swap_math import SwapStep, compute_swap_step
from hedgekeeper.venues.amm.tick_math import MAX_SQRT_RATIO, MIN_SQRT_RATIO

PRICE_ONE = encode_price_sqrt(1, 1)
SQRT_PRICE_256 = 20282409603651670423947251286016


# Uniswap/v3-core test/SwapMath.spec.ts, #computeSwapStep
@pytest.mark.parametrize(
    ("current", "target", "liquidity", "remaining", "fee_pips", "expected"),
    [
        # exact amount in that gets capped at price target in one for zero
        (PRICE_ONE, encode_price_sqrt(101, 100), expand_to_18_decimals(2), expand_to_18_decimals(1), 600,
         SwapStep(encode_price_sqrt(101, 100), 9975124224178055, 9925619580021728, 5988667735148)),
        # exact amount out that gets capped at price target in one for zero
        (PRICE_ONE, encode_price_sqrt(101, 100), expand_to_18_decimals(2), -expand_to_18_decimals(1), 600,
         SwapStep(encode_price_sqrt(101, 100), 9975124224178055, 9925619580021728, 5988667735148)),
        # amount out is capped at the desired amount out
        (417332158212080721273783715441582, 1452870262520218020823638996, 159344665391607089467575320103, -1, 1,
         SwapStep(417332158212080721273783715441581, 1, 1, 1)),
        # target price of 1 uses partial input amount
        (2, 1, 1, 3915081100057732413702495386755767, 1,
         SwapStep(1, 39614081257132168796771975168, 0, 39614120871253040049813)),
        # entire input amount taken as fee
        (2413, 79887613182836312, 1985041575832132834610021537970, 10, 1872, SwapStep(2413, 0, 0, 10)),
        # handles intermediate insufficient liquidity in zero for one exact output case
        (SQRT_PRICE_256, SQRT_PRICE_256 * 11 // 10, 1024, -4, 3000,
         SwapStep(SQRT_PRICE_256 * 11 // 10, 26215, 0, 79)),
        # handles intermediate insufficient liquidity in one for zero exact output case
        (SQRT_PRICE_256, SQRT_PRICE_256 * 9 // 10, 1024, -263000, 3000,
         SwapStep(SQRT_PRICE_256 * 9 // 10, 1, 26214, 1)),
    ],
)  # fmt: skip
def test_swap_step_matches_published_values(
    current: int, target: int, liquidity: int, remaining: int, fee_pips: int, expected: SwapStep
) -> None:
    assert compute_swap_step(current, target, liquidity, remaining, fee_pips) == expected


# Uniswap/v3-core test/SwapMath.spec.ts: "exact amount in that is fully spent in one for zero"
def test_exact_input_that_falls_short_of_the_target_is_spent_in_full() -> None:
    step = compute_swap_step(PRICE_ONE, encode_price_sqrt(1000, 100), 2 * 10**18, 10**18, 600)
    assert (step.amount_in, step.fee_amount) == (999400000000000000, 600000000000000)
    assert step.amount_out == 666399946655997866
    whole_input_less_fee = get_next_sqrt_price_from_input(PRICE_ONE, 2 * 10**18, 10**18 - step.fee_amount, False)
    assert step.sqrt_price_next_x96 == whole_input_less_fee


# Uniswap/v3-core test/SwapMath.spec.ts: "exact amount out that is fully received in one for zero"
def test_exact_output_that_falls_short_of_the_target_is_received_in_full() -> None:
    step = compute_swap_step(PRICE_ONE, encode_price_sqrt(10000, 100), 2 * 10**18, -(10**18), 600)
    assert (step.amount_in, step.fee_amount, step.amount_out) == (2 * 10**18, 1200720432259356, 10**18)
    assert step.sqrt_price_next_x96 == get_next_sqrt_price_from_output(PRICE_ONE, 2 * 10**18, 10**18, False)


sqrt_prices = st.integers(MIN_SQRT_RATIO, MAX_SQRT_RATIO - 1)
liquidities = st.one_of(st.integers(1, 2**128 - 1), st.integers(10**12, 10**24))
remaining_amounts = st.one_of(st.integers(-(10**30), 10**30), st.integers(-(2**200), 2**200)).filter(bool)
fees = st.one_of(st.sampled_from([0, 100, 500, 3000, 10000]), st.integers(0, 999_999))


@given(current=sqrt_prices, target=sqrt_prices, liquidity=liquidities, remaining=remaining_amounts, fee_pips=fees)
def test_a_step_stays_between_its_prices_and_never_pays_more_than_the_exact_curve(
    current: int, target: int, liquidity: int, remaining: int, fee_pips: int
) -> None:
    try:
        step = compute_swap_step(current, target, liquidity, remaining, fee_pips)
    except AmmError:  # only outputs beyond what the range can price are refused
        assert remaining < 0
        return
    lower, upper = sorted((current, target))
    assert lower <= step.sqrt_price_next_x96 <= upper
    if remaining > 0:
        assert step.amount_in + step.fee_amount <= remaining
        if step.sqrt_price_next_x96 != target:
            assert step.amount_in + step.fee_amount == remaining  # stopped short: the whole input is used
    else:
        assert step.amount_out <= -remaining
    # The fee is at least fee_pips of the whole input (fee + amount_in).
    assert step.fee_amount * 1_000_000 >= (step.amount_in + step.fee_amount) * fee_pips
    # Against the exact curve between the start and the stop: pay in at least, get out at most.
    start, stop = current, step.sqrt_price_next_x96
    token0_moved = Fraction(liquidity * Q96 * abs(start - stop), start * stop)
    token1_moved = Fraction(liquidity * abs(start - stop), Q96)
    paid_in, paid_out = (token0_moved, token1_moved) if current >= target else (token1_moved, token0_moved)
    assert step.amount_in >= paid_in and step.amount_out <= paid_out


def test_a_fee_of_100_percent_is_refused() -> None:
    with pytest.raises(AmmError, match="fee_pips = 1000000 must be below"):
        compute_swap_step(PRICE_ONE, PRICE_ONE // 2, 10**18, 10**18, 1_000_000)
