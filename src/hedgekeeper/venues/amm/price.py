"""Reading a v3 pool's price: Q64.96 square roots to and from human prices with token decimals.

A pool's raw price is token1 base units per token0 base unit, ``(sqrt_price_x96 / 2**96) ** 2``.
In whole tokens it is scaled by ``10 ** (decimals0 - decimals1)``. For the
mainnet USDC/WETH pools token0 is USDC (6 decimals) and token1 WETH (18), so the
price reads in WETH per USDC and USD per ETH is its inverse.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

from hedgekeeper.venues.amm.errors import AmmError
from hedgekeeper.venues.amm.solidity_ints import as_uint
from hedgekeeper.venues.amm.tick_math import MAX_SQRT_RATIO, MIN_SQRT_RATIO


def require_decimals(name: str, decimals: int) -> int:
    """Return ``decimals`` if it is an ERC-20 decimals count: an int in [0, 77]."""
    if as_uint(name, decimals, 8) > 77:  # 10**77 < 2**256 <= 10**78
        raise AmmError(f"{name} = {decimals} is above 77")
    return decimals


def sqrt_price_x96_to_price(sqrt_price_x96: int, decimals0: int, decimals1: int) -> float:
    """Return the pool price in whole token1 per whole token0.

    Parameters
    ----------
    sqrt_price_x96 : int, Q64.96 uint160, positive
    decimals0, decimals1 : int, the tokens' ERC-20 decimals

    Returns
    -------
    float, token1 per token0 (whole tokens), correctly rounded from the exact rational

    Examples
    --------
    A USDC (token0, 6) / WETH (token1, 18) pool at 1/3000 WETH per USDC:

    >>> price = sqrt_price_x96_to_price(1446501726624926424152087597500850, 6, 18)
    >>> round(1 / price, 4)
    3000.0
    """
    if as_uint("sqrt_price_x96", sqrt_price_x96, 160) == 0:
        raise AmmError("sqrt_price_x96 must be positive")
    exponent = require_decimals("decimals0", decimals0) - require_decimals("decimals1", decimals1)
    return float(Fraction(sqrt_price_x96**2, 1 << 192) * Fraction(10) ** exponent)


def price_to_sqrt_price_x96(price: float, decimals0: int, decimals1: int) -> int:
    """Return ``floor(sqrt(raw price) * 2**96)`` for ``price`` in whole token1 per whole token0.

    The float is read as its shortest decimal (``repr``), then computed exactly.

    Raises
    ------
    AmmError
        ``price`` is not finite and positive, or its square root is outside
        ``[MIN_SQRT_RATIO, MAX_SQRT_RATIO)``.

    Examples
    --------
    >>> price_to_sqrt_price_x96(1 / 3000, 6, 18)
    1446501726624926424152087597500850
    """
    if not (isinstance(price, float | int) and math.isfinite(price) and price > 0):
        raise AmmError(f"price = {price!r} must be a finite positive number")
    exponent = require_decimals("decimals1", decimals1) - require_decimals("decimals0", decimals0)
    raw = Fraction(Decimal(repr(price))) * Fraction(10) ** exponent
    sqrt_price_x96 = math.isqrt(math.floor(raw * (1 << 192)))  # floor(sqrt(floor(v))) = floor(sqrt(v))
    if not MIN_SQRT_RATIO <= sqrt_price_x96 < MAX_SQRT_RATIO:
        raise AmmError(f"price {price} gives sqrt_price_x96 {sqrt_price_x96}, outside the pool's range")
    return sqrt_price_x96
