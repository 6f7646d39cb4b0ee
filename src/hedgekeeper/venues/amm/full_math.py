"""``FullMath`` and ``UnsafeMath`` of Uniswap v3-core: 512-bit ``a * b / d`` with floor or ceiling.

The contract multiplies into 512 bits so that ``a * b`` never overflows; Python
ints are unbounded, so the same result is the exact floor (or ceiling) of the
rational ``a * b / d``. What remains of the contract are its reverts: inputs are
``uint256``, ``d`` must be positive and the result must fit in ``uint256``.
"""

from __future__ import annotations

from hedgekeeper.venues.amm.errors import IntegerOutOfRange
from hedgekeeper.venues.amm.solidity_ints import UINT256_MAX, as_uint


def mul_div(a: int, b: int, denominator: int) -> int:
    """Return ``floor(a * b / denominator)``, as ``FullMath.mulDiv``.

    Parameters
    ----------
    a, b, denominator : int, uint256

    Raises
    ------
    IntegerOutOfRange
        An input outside uint256, a zero denominator, or a result of 2**256 or more.

    Examples
    --------
    >>> mul_div(2**128, 2**127, 3 * 2**127) == 2**128 // 3
    True
    """
    product = as_uint("a", a, 256) * as_uint("b", b, 256)
    if as_uint("denominator", denominator, 256) == 0:
        raise IntegerOutOfRange(f"mulDiv({a}, {b}, 0) divides by zero")
    result = product // denominator
    if result > UINT256_MAX:
        raise IntegerOutOfRange(f"mulDiv({a}, {b}, {denominator}) = {result} is outside uint256")
    return result


def mul_div_rounding_up(a: int, b: int, denominator: int) -> int:
    """Return ``ceil(a * b / denominator)``, as ``FullMath.mulDivRoundingUp``.

    Raises
    ------
    IntegerOutOfRange
        As ``mul_div``, or when rounding up takes the result to 2**256.

    Examples
    --------
    >>> mul_div_rounding_up(2**128, 2**127, 3 * 2**127) == 2**128 // 3 + 1
    True
    """
    result = mul_div(a, b, denominator)
    if (a * b) % denominator:
        if result == UINT256_MAX:
            raise IntegerOutOfRange(f"mulDivRoundingUp({a}, {b}, {denominator}) rounds up past uint256")
        result += 1
    return result


def div_rounding_up(x: int, y: int) -> int:
    """Return ``ceil(x / y)`` for uint256 ``x`` and positive ``y``, as ``UnsafeMath.divRoundingUp``.

    The contract's assembly returns 0 for ``y == 0``; every caller in v3-core
    requires ``y > 0`` first, so a zero ``y`` here is a bug and raises.

    Examples
    --------
    >>> div_rounding_up(7, 2), div_rounding_up(8, 2)
    (4, 4)
    """
    as_uint("x", x, 256)
    if as_uint("y", y, 256) == 0:
        raise IntegerOutOfRange(f"divRoundingUp({x}, 0) divides by zero")
    return -(-x // y)
