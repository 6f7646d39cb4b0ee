"""Constant-product pools (Uniswap v2 and its forks): ``x * y = k`` with the fee taken from the input.

``UniswapV2Library.getAmountOut`` pays, for ``amount_in`` of one token,

    amount_out = floor(amount_in * g * reserve_out / (reserve_in + amount_in * g)),  g = 1 - fee

written with integers as ``amountIn * 997 * reserveOut / (reserveIn * 1000 + amountIn * 997)``
for the 0.30% fee. Here the fee is in hundredths of a bip and the fraction
``(1e6 - fee_pips) / 1e6`` is reduced first, so 3000 pips gives exactly the
contract's 997 / 1000 (and its uint256 overflow bounds). ``getAmountIn`` asks
the least input for a given output and adds 1 for rounding.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from math import gcd

from hedgekeeper.venues.amm.errors import AmmError, InsufficientLiquidity
from hedgekeeper.venues.amm.pool import SwapResult
from hedgekeeper.venues.amm.solidity_ints import as_uint
from hedgekeeper.venues.amm.swap_math import FEE_DENOMINATOR_PIPS, require_fee_pips

_RESERVE_BITS = 112  # UniswapV2Pair stores reserves as uint112


@dataclass(frozen=True, slots=True)
class ConstantProductPool:
    """A Uniswap v2 pair's reserves and fee.

    Attributes
    ----------
    reserve0, reserve1 : int, uint112, base units of token0 and token1
    fee_pips : int, hundredths of a bip (3000 = 0.30%, Uniswap v2's fee), in [0, 1e6)

    Examples
    --------
    Sell 1 WETH into a pool of 1000 WETH (token0) and 3,000,000 USDC (token1, 6 decimals):

    >>> pool = ConstantProductPool(1000 * 10**18, 3_000_000 * 10**6)
    >>> result = pool.swap_exact_input(10**18, zero_for_one=True)
    >>> result.amount_out / 1e6, result.pool.reserve0 == 1001 * 10**18
    (2988.020943, True)
    """

    reserve0: int
    reserve1: int
    fee_pips: int = 3000

    def __post_init__(self) -> None:
        as_uint("reserve0", self.reserve0, _RESERVE_BITS)
        as_uint("reserve1", self.reserve1, _RESERVE_BITS)
        require_fee_pips(self.fee_pips)

    def _reserves(self, zero_for_one: bool) -> tuple[int, int]:
        reserve_in, reserve_out = (self.reserve0, self.reserve1) if zero_for_one else (self.reserve1, self.reserve0)
        if reserve_in == 0 or reserve_out == 0:
            raise InsufficientLiquidity(
                f"reserves ({self.reserve0}, {self.reserve1}) are empty (UniswapV2Library: INSUFFICIENT_LIQUIDITY)"
            )
        return reserve_in, reserve_out

    def _fee_fraction(self) -> tuple[int, int]:
        kept = FEE_DENOMINATOR_PIPS - self.fee_pips
        common = gcd(kept, FEE_DENOMINATOR_PIPS)
        return kept // common, FEE_DENOMINATOR_PIPS // common

    def amount_out(self, amount_in: int, zero_for_one: bool) -> int:
        """Return the output for ``amount_in`` (base units of the input token), as ``getAmountOut``.

        Parameters
        ----------
        amount_in : int, positive, base units of token0 if ``zero_for_one`` else token1
        zero_for_one : bool, True when token0 is paid in

        Returns
        -------
        int, base units of the output token, rounded down

        Raises
        ------
        AmmError
            ``amount_in`` is not a positive uint256 (``INSUFFICIENT_INPUT_AMOUNT``).
        InsufficientLiquidity
            A reserve is empty.
        IntegerOutOfRange
            An intermediate product leaves uint256, where the contract's SafeMath reverts.
        """
        if as_uint("amount_in", amount_in, 256) == 0:
            raise AmmError("amount_in must be positive (UniswapV2Library: INSUFFICIENT_INPUT_AMOUNT)")
        reserve_in, reserve_out = self._reserves(zero_for_one)
        kept, whole = self._fee_fraction()
        amount_in_with_fee = as_uint("amountIn * feeFactor", amount_in * kept, 256)
        numerator = as_uint("amountInWithFee * reserveOut", amount_in_with_fee * reserve_out, 256)
        denominator = as_uint(
            "reserveIn * feeBase + amountInWithFee",
            reserve_in * whole + amount_in_with_fee,
            256,
        )
        return numerator // denominator

    def amount_in(self, amount_out: int, zero_for_one: bool) -> int:
        """Return the input needed to receive ``amount_out``, as ``getAmountIn`` (rounded down, plus 1).

        Parameters
        ----------
        amount_out : int, positive, below the output reserve; base units of token1 if
            ``zero_for_one`` else token0

        Returns
        -------
        int, base units of the input token

        Raises
        ------
        AmmError
            ``amount_out`` is not a positive uint256 (``INSUFFICIENT_OUTPUT_AMOUNT``).
        InsufficientLiquidity
            ``amount_out`` is at least the output reserve, or a reserve is empty.
        """
        if as_uint("amount_out", amount_out, 256) == 0:
            raise AmmError("amount_out must be positive (UniswapV2Library: INSUFFICIENT_OUTPUT_AMOUNT)")
        reserve_in, reserve_out = self._reserves(zero_for_one)
        if amount_out >= reserve_out:
            raise InsufficientLiquidity(f"amount_out {amount_out} is not below the output reserve {reserve_out}")
        kept, whole = self._fee_fraction()
        numerator = as_uint("reserveIn * amountOut * feeBase", reserve_in * amount_out * whole, 256)
        denominator = (reserve_out - amount_out) * kept
        return numerator // denominator + 1

    def _after(self, amount_in: int, amount_out: int, zero_for_one: bool) -> SwapResult[ConstantProductPool]:
        if zero_for_one:
            pool = replace(self, reserve0=self.reserve0 + amount_in, reserve1=self.reserve1 - amount_out)
        else:
            pool = replace(self, reserve0=self.reserve0 - amount_out, reserve1=self.reserve1 + amount_in)
        fee = -(-amount_in * self.fee_pips // FEE_DENOMINATOR_PIPS)
        return SwapResult(amount_in, amount_out, fee, pool)

    def swap_exact_input(self, amount_in: int, zero_for_one: bool) -> SwapResult[ConstantProductPool]:
        """Return the swap of exactly ``amount_in``: ``amount_out`` as ``getAmountOut``, reserves updated.

        ``fee`` is ``amount_in * fee_pips / 1e6`` rounded up, the part of the input
        the constant product does not price (the pair keeps it in its reserves).

        Raises
        ------
        AmmError
            As ``amount_out``, or an input too small to buy one base unit (the pair's
            ``INSUFFICIENT_OUTPUT_AMOUNT``).
        IntegerOutOfRange
            The input reserve would leave uint112 (the pair's ``OVERFLOW``).
        """
        amount_out = self.amount_out(amount_in, zero_for_one)
        if amount_out == 0:
            raise AmmError(f"amount_in {amount_in} buys nothing (UniswapV2: INSUFFICIENT_OUTPUT_AMOUNT)")
        return self._after(amount_in, amount_out, zero_for_one)

    def swap_exact_output(self, amount_out: int, zero_for_one: bool) -> SwapResult[ConstantProductPool]:
        """Return the swap that delivers exactly ``amount_out``, paying ``getAmountIn``; reserves updated.

        Raises
        ------
        InsufficientLiquidity
            ``amount_out`` is not below the output reserve: a v2 pair never delivers part.
        """
        return self._after(self.amount_in(amount_out, zero_for_one), amount_out, zero_for_one)

    def mid_price_raw(self) -> float:
        """Return ``reserve1 / reserve0``, token1 base units per token0 base unit, before fees."""
        return self._reserves(True)[1] / self.reserve0
