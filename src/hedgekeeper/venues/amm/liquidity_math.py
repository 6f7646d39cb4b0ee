"""``LiquidityMath.addDelta`` of Uniswap v3-core: a signed change applied to an unsigned liquidity."""

from __future__ import annotations

from hedgekeeper.venues.amm.errors import IntegerOutOfRange
from hedgekeeper.venues.amm.solidity_ints import UINT128_MAX, as_int, as_uint


def add_delta(liquidity: int, delta: int) -> int:
    """Return ``liquidity + delta``, refusing to leave uint128 (the contract's ``'LS'`` and ``'LA'``).

    Parameters
    ----------
    liquidity : int, uint128
    delta : int, int128

    Examples
    --------
    >>> add_delta(1, -1), add_delta(1, 1)
    (0, 2)
    >>> add_delta(3, -4)
    Traceback (most recent call last):
    ...
    hedgekeeper.venues.amm.errors.IntegerOutOfRange: liquidity 3 + -4 underflows (LiquidityMath 'LS')
    """
    result = as_uint("liquidity", liquidity, 128) + as_int("delta", delta, 128)
    if result < 0:
        raise IntegerOutOfRange(f"liquidity {liquidity} + {delta} underflows (LiquidityMath 'LS')")
    if result > UINT128_MAX:
        raise IntegerOutOfRange(f"liquidity {liquidity} + {delta} overflows uint128 (LiquidityMath 'LA')")
    return result
