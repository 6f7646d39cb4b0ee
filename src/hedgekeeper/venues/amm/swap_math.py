"""``SwapMath.computeSwapStep`` of Uniswap v3-core: one swap step within a single liquidity range.

A step starts at the current sqrt price and runs toward a target (the next
initialized tick, a word boundary or the price limit) with constant liquidity.
It stops at the target, or earlier where the remaining amount runs out, and
reports what was paid in (excluding the fee), paid out, and the fee.
"""

from __future__ import annotations

from typing import NamedTuple

from hedgekeeper.venues.amm.errors import AmmError
from hedgekeeper.venues.amm.full_math import mul_div, mul_div_rounding_up
from hedgekeeper.venues.amm.solidity_ints import as_int, as_uint
from hedgekeeper.venues.amm.sqrt_price_math import (
    get_amount0_delta,
    get_amount1_delta,
    get_next_sqrt_price_from_input,
    get_next_sqrt_price_from_output,
)

FEE_DENOMINATOR_PIPS = 1_000_000


class SwapStep(NamedTuple):
    """One step's outcome.

    Attributes
    ----------
    sqrt_price_next_x96 : int, Q64.96, the price where the step stops
    amount_in : int, base units of the input token paid in, fee excluded
    amount_out : int, base units of the output token paid out
    fee_amount : int, base units of the input token kept as fee
    """

    sqrt_price_next_x96: int
    amount_in: int
    amount_out: int
    fee_amount: int


def require_fee_pips(fee_pips: int) -> int:
    """Return ``fee_pips`` if it is an int in ``[0, 1_000_000)`` (hundredths of a bip; 3000 is 0.30%)."""
    as_uint("fee_pips", fee_pips, 24)
    if fee_pips >= FEE_DENOMINATOR_PIPS:
        raise AmmError(f"fee_pips = {fee_pips} must be below {FEE_DENOMINATOR_PIPS} (100%)")
    return fee_pips


def compute_swap_step(
    sqrt_price_current_x96: int,
    sqrt_price_target_x96: int,
    liquidity: int,
    amount_remaining: int,
    fee_pips: int,
) -> SwapStep:
    """Return the step from the current toward the target price, as ``SwapMath.computeSwapStep``.

    The direction follows the prices: a target at or below the current price
    swaps token0 in (``zero_for_one``). ``amount_remaining >= 0`` is an exact
    input (fee included) still to spend; a negative one an exact output still to
    receive.

    Parameters
    ----------
    sqrt_price_current_x96, sqrt_price_target_x96 : int, Q64.96 uint160
    liquidity : int, uint128, active over the whole step
    amount_remaining : int, int256, base units (input token if >= 0, output token if < 0)
    fee_pips : int, in hundredths of a bip (3000 = 0.30%), below 1e6

    Returns
    -------
    SwapStep

    Examples
    --------
    1 token1 toward price 1.01 (capped there) with liquidity 2e18 and a 0.06% fee
    (v3-core ``SwapMath.spec.ts``; 1.01 is sqrt price 79623317895830914510639640423):

    >>> step = compute_swap_step(2**96, 79623317895830914510639640423, 2 * 10**18, 10**18, 600)
    >>> step.sqrt_price_next_x96 == 79623317895830914510639640423
    True
    >>> step.amount_in, step.amount_out, step.fee_amount
    (9975124224178055, 9925619580021728, 5988667735148)
    """
    as_uint("sqrt_price_current_x96", sqrt_price_current_x96, 160)
    as_uint("sqrt_price_target_x96", sqrt_price_target_x96, 160)
    as_uint("liquidity", liquidity, 128)
    as_int("amount_remaining", amount_remaining, 256)
    require_fee_pips(fee_pips)
    zero_for_one = sqrt_price_current_x96 >= sqrt_price_target_x96
    exact_in = amount_remaining >= 0
    amount_in = amount_out = 0

    if exact_in:
        remaining_less_fee = mul_div(amount_remaining, FEE_DENOMINATOR_PIPS - fee_pips, FEE_DENOMINATOR_PIPS)
        amount_in = (
            get_amount0_delta(sqrt_price_target_x96, sqrt_price_current_x96, liquidity, True)
            if zero_for_one
            else get_amount1_delta(sqrt_price_current_x96, sqrt_price_target_x96, liquidity, True)
        )
        if remaining_less_fee >= amount_in:
            sqrt_price_next = sqrt_price_target_x96
        else:
            sqrt_price_next = get_next_sqrt_price_from_input(
                sqrt_price_current_x96, liquidity, remaining_less_fee, zero_for_one
            )
    else:
        amount_out = (
            get_amount1_delta(sqrt_price_target_x96, sqrt_price_current_x96, liquidity, False)
            if zero_for_one
            else get_amount0_delta(sqrt_price_current_x96, sqrt_price_target_x96, liquidity, False)
        )
        if -amount_remaining >= amount_out:
            sqrt_price_next = sqrt_price_target_x96
        else:
            sqrt_price_next = get_next_sqrt_price_from_output(
                sqrt_price_current_x96, liquidity, -amount_remaining, zero_for_one
            )

    reached_target = sqrt_price_next == sqrt_price_target_x96
    if zero_for_one:
        if not (reached_target and exact_in):
            amount_in = get_amount0_delta(sqrt_price_next, sqrt_price_current_x96, liquidity, True)
        if not (reached_target and not exact_in):
            amount_out = get_amount1_delta(sqrt_price_next, sqrt_price_current_x96, liquidity, False)
    else:
        if not (reached_target and exact_in):
            amount_in = get_amount1_delta(sqrt_price_current_x96, sqrt_price_next, liquidity, True)
        if not (reached_target and not exact_in):
            amount_out = get_amount0_delta(sqrt_price_current_x96, sqrt_price_next, liquidity, False)

    if not exact_in and amount_out > -amount_remaining:  # never pay out more than asked
        amount_out = -amount_remaining

    if exact_in and not reached_target:  # the target was not reached: what is left of the input is fee
        fee_amount = amount_remaining - amount_in
    else:
        fee_amount = mul_div_rounding_up(amount_in, fee_pips, FEE_DENOMINATOR_PIPS - fee_pips)
    return SwapStep(sqrt_price_next, amount_in, amount_out, fee_amount)
