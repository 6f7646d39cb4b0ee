"""``SqrtPriceMath`` of Uniswap v3-core: how far an amount moves the price, and what a price move is worth.

With liquidity ``L`` active and ``sqrt_price_x96`` the Q64.96 square root of the
price (token1 per token0, base units), the virtual reserves are ``x = L / sqrtP``
of token0 and ``y = L * sqrtP`` of token1. Adding ``dx`` of token0 moves the
price to ``L * sqrtP / (L + dx * sqrtP)``; adding ``dy`` of token1 to
``sqrtP + dy / L``. Between prices ``a < b`` the token0 amount is
``L * (b - a) / (a * b)`` and the token1 amount ``L * (b - a)``.

Each function rounds the way the contract does (always in the pool's favour) and
raises where it reverts. Amounts are integers in token base units (wei).
"""

from __future__ import annotations

from hedgekeeper.venues.amm.errors import AmmError, InsufficientLiquidity, IntegerOutOfRange
from hedgekeeper.venues.amm.full_math import div_rounding_up, mul_div, mul_div_rounding_up
from hedgekeeper.venues.amm.solidity_ints import Q96, UINT160_MAX, UINT256_MAX, as_uint


def get_next_sqrt_price_from_amount0_rounding_up(
    sqrt_price_x96: int, liquidity: int, amount: int, add: bool
) -> int:
    """Return the sqrt price after adding (or removing) ``amount`` of token0, rounded up.

    ``L * sqrtP / (L +- amount * sqrtP)``, or ``L / (L / sqrtP +- amount)`` when the
    product overflows 256 bits, as ``SqrtPriceMath.getNextSqrtPriceFromAmount0RoundingUp``.

    Parameters
    ----------
    sqrt_price_x96 : int, Q64.96 uint160, the price before
    liquidity : int, uint128
    amount : int, uint256, token0 base units
    add : bool, True to add token0 to the virtual reserves, False to take it out

    Raises
    ------
    InsufficientLiquidity
        Removing at least the virtual token0 reserves.
    IntegerOutOfRange
        The result leaves uint160.
    """
    as_uint("sqrt_price_x96", sqrt_price_x96, 160)
    as_uint("liquidity", liquidity, 128)
    as_uint("amount", amount, 256)
    if amount == 0:  # the contract short-circuits: the formula need not return the input price
        return sqrt_price_x96
    numerator1 = liquidity << 96
    product = amount * sqrt_price_x96
    if add:
        if product <= UINT256_MAX and numerator1 + product <= UINT256_MAX:
            return mul_div_rounding_up(numerator1, sqrt_price_x96, numerator1 + product)
        denominator = numerator1 // sqrt_price_x96 + amount
        if denominator > UINT256_MAX:
            raise IntegerOutOfRange(f"numerator1 / sqrtP + amount = {denominator} is outside uint256")
        return div_rounding_up(numerator1, denominator)
    if product > UINT256_MAX or numerator1 <= product:
        raise InsufficientLiquidity(
            f"removing {amount} of token0 empties virtual reserves of {numerator1 // sqrt_price_x96}"
            f" (liquidity {liquidity}, sqrt_price_x96 {sqrt_price_x96})"
        )
    return as_uint(
        "next sqrt_price_x96", mul_div_rounding_up(numerator1, sqrt_price_x96, numerator1 - product), 160
    )


def get_next_sqrt_price_from_amount1_rounding_down(
    sqrt_price_x96: int, liquidity: int, amount: int, add: bool
) -> int:
    """Return the sqrt price after adding (or removing) ``amount`` of token1, rounded down.

    ``sqrtP +- amount / L`` in Q64.96, as ``SqrtPriceMath.getNextSqrtPriceFromAmount1RoundingDown``.

    Raises
    ------
    InsufficientLiquidity
        Removing at least the virtual token1 reserves.
    IntegerOutOfRange
        The result leaves uint160.
    """
    as_uint("sqrt_price_x96", sqrt_price_x96, 160)
    as_uint("amount", amount, 256)
    if as_uint("liquidity", liquidity, 128) == 0:
        raise IntegerOutOfRange("division by zero liquidity")
    if add:
        quotient = (amount << 96) // liquidity if amount <= UINT160_MAX else mul_div(amount, Q96, liquidity)
        return as_uint("next sqrt_price_x96", sqrt_price_x96 + quotient, 160)
    quotient = (
        div_rounding_up(amount << 96, liquidity)
        if amount <= UINT160_MAX
        else mul_div_rounding_up(amount, Q96, liquidity)
    )
    if sqrt_price_x96 <= quotient:
        raise InsufficientLiquidity(
            f"removing {amount} of token1 empties virtual reserves of {mul_div(liquidity, sqrt_price_x96, Q96)}"
            f" (liquidity {liquidity}, sqrt_price_x96 {sqrt_price_x96})"
        )
    return sqrt_price_x96 - quotient


def _require_price_and_liquidity(sqrt_price_x96: int, liquidity: int) -> None:
    if as_uint("sqrt_price_x96", sqrt_price_x96, 160) == 0:
        raise AmmError("sqrt_price_x96 must be positive")
    if as_uint("liquidity", liquidity, 128) == 0:
        raise AmmError("liquidity must be positive")


def get_next_sqrt_price_from_input(
    sqrt_price_x96: int, liquidity: int, amount_in: int, zero_for_one: bool
) -> int:
    """Return the sqrt price after swapping ``amount_in`` in, as ``SqrtPriceMath.getNextSqrtPriceFromInput``.

    Rounds so that the price never passes where the exact amount would take it.

    Parameters
    ----------
    sqrt_price_x96 : int, Q64.96 uint160, positive
    liquidity : int, uint128, positive
    amount_in : int, uint256, base units of token0 if ``zero_for_one`` else token1
    zero_for_one : bool, True when token0 is paid in (the price falls)

    Examples
    --------
    0.1 token1 into liquidity 1e18 at price 1 (v3-core ``SqrtPriceMath.spec.ts``):

    >>> get_next_sqrt_price_from_input(2**96, 10**18, 10**17, False)
    87150978765690771352898345369
    """
    _require_price_and_liquidity(sqrt_price_x96, liquidity)
    if zero_for_one:
        return get_next_sqrt_price_from_amount0_rounding_up(sqrt_price_x96, liquidity, amount_in, True)
    return get_next_sqrt_price_from_amount1_rounding_down(sqrt_price_x96, liquidity, amount_in, True)


def get_next_sqrt_price_from_output(
    sqrt_price_x96: int, liquidity: int, amount_out: int, zero_for_one: bool
) -> int:
    """Return the sqrt price after taking ``amount_out`` out, as ``SqrtPriceMath.getNextSqrtPriceFromOutput``.

    Rounds so that the price moves at least far enough to pay ``amount_out``.

    Parameters
    ----------
    amount_out : int, uint256, base units of token1 if ``zero_for_one`` else token0

    Raises
    ------
    InsufficientLiquidity
        ``amount_out`` reaches the virtual reserves of the output token.
    """
    _require_price_and_liquidity(sqrt_price_x96, liquidity)
    if zero_for_one:
        return get_next_sqrt_price_from_amount1_rounding_down(sqrt_price_x96, liquidity, amount_out, False)
    return get_next_sqrt_price_from_amount0_rounding_up(sqrt_price_x96, liquidity, amount_out, False)


def _ordered(sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int) -> tuple[int, int]:
    as_uint("sqrt_ratio_a_x96", sqrt_ratio_a_x96, 160)
    as_uint("sqrt_ratio_b_x96", sqrt_ratio_b_x96, 160)
    if sqrt_ratio_a_x96 > sqrt_ratio_b_x96:
        return sqrt_ratio_b_x96, sqrt_ratio_a_x96
    return sqrt_ratio_a_x96, sqrt_ratio_b_x96


def get_amount0_delta(sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int, liquidity: int, round_up: bool) -> int:
    """Return the token0 amount between two sqrt prices, ``L * (b - a) / (a * b)``, as ``getAmount0Delta``.

    Parameters
    ----------
    sqrt_ratio_a_x96, sqrt_ratio_b_x96 : int, Q64.96 uint160, in either order, positive
    liquidity : int, uint128
    round_up : bool, round up (amounts paid in) or down (amounts paid out)

    Returns
    -------
    int, token0 base units

    Examples
    --------
    From price 1 to 1.21 with liquidity 1e18 (v3-core ``SqrtPriceMath.spec.ts``; 1.1 * 2**96 floored):

    >>> get_amount0_delta(2**96, 87150978765690771352898345369, 10**18, True)
    90909090909090910
    """
    lower, upper = _ordered(sqrt_ratio_a_x96, sqrt_ratio_b_x96)
    if lower == 0:
        raise AmmError("sqrt prices must be positive")
    numerator1 = as_uint("liquidity", liquidity, 128) << 96
    numerator2 = upper - lower
    if round_up:
        return div_rounding_up(mul_div_rounding_up(numerator1, numerator2, upper), lower)
    return mul_div(numerator1, numerator2, upper) // lower


def get_amount1_delta(sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int, liquidity: int, round_up: bool) -> int:
    """Return the token1 amount between two sqrt prices, ``L * (b - a)``, as ``getAmount1Delta``.

    Returns
    -------
    int, token1 base units

    Examples
    --------
    >>> get_amount1_delta(2**96, 87150978765690771352898345369, 10**18, True)
    100000000000000000
    """
    lower, upper = _ordered(sqrt_ratio_a_x96, sqrt_ratio_b_x96)
    as_uint("liquidity", liquidity, 128)
    if round_up:
        return mul_div_rounding_up(liquidity, upper - lower, Q96)
    return mul_div(liquidity, upper - lower, Q96)
