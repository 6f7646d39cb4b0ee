"""Solidity integer types as ranges on Python ints: a value outside its type is where the contract reverts.

Python ints never overflow, so every port in this package checks its inputs and
results against the type the contract declares (``uint256``, ``uint160``,
``uint128``, ``int256``, ``int128``, ...) with these two functions.
"""

from __future__ import annotations

from hedgekeeper.venues.amm.errors import AmmError, IntegerOutOfRange

Q96 = 1 << 96
Q128 = 1 << 128
UINT256_MAX = (1 << 256) - 1
UINT160_MAX = (1 << 160) - 1
UINT128_MAX = (1 << 128) - 1


def _require_int(name: str, value: object) -> int:
    if type(value) is not int:  # bool is an int subclass, and a float here is a units mistake
        raise AmmError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    return value


def as_uint(name: str, value: int, bits: int) -> int:
    """Return ``value`` if it is an int in ``[0, 2**bits)``, the range of a Solidity ``uint<bits>``.

    Raises
    ------
    AmmError
        ``value`` is not an int (a float or a bool is refused, never rounded).
    IntegerOutOfRange
        ``value`` is negative or at least ``2**bits``.

    Examples
    --------
    >>> as_uint("fee_pips", 2**24 - 1, 24)
    16777215
    >>> as_uint("fee_pips", 2**24, 24)
    Traceback (most recent call last):
    ...
    hedgekeeper.venues.amm.errors.IntegerOutOfRange: fee_pips = 16777216 is outside uint24
    """
    _require_int(name, value)
    if value < 0 or value >> bits:
        raise IntegerOutOfRange(f"{name} = {value} is outside uint{bits}")
    return value


def as_int(name: str, value: int, bits: int) -> int:
    """Return ``value`` if it is an int in ``[-2**(bits-1), 2**(bits-1))``, a Solidity ``int<bits>``.

    Examples
    --------
    >>> as_int("tick", -(2**23), 24)
    -8388608
    >>> as_int("tick", 2**23, 24)
    Traceback (most recent call last):
    ...
    hedgekeeper.venues.amm.errors.IntegerOutOfRange: tick = 8388608 is outside int24
    """
    _require_int(name, value)
    half = 1 << (bits - 1)
    if not -half <= value < half:
        raise IntegerOutOfRange(f"{name} = {value} is outside int{bits}")
    return value
