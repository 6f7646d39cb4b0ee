"""Conversions between float analytics and the contracts' integers.

Pure functions. ``to_fixed`` goes through the float's shortest decimal form
(``repr``), so ``to_fixed(0.8) == 8 * 10**17`` exactly; ``from_fixed`` divides.
"""

from __future__ import annotations

from decimal import Decimal

FIXED_ONE = 10**18
"""1.0 in the contracts' 18-decimal fixed point."""


def to_fixed(value: float, decimals: int = 18) -> int:
    """Return ``value`` scaled by ``10**decimals``, truncated toward zero.

    Parameters
    ----------
    value : float, finite
    decimals : int, >= 0 (18 for the contracts' fixed point, a token's decimals for base units)

    Returns
    -------
    int

    Examples
    --------
    >>> to_fixed(0.8), to_fixed(2500.5, 8), to_fixed(-1.25, 6)
    (800000000000000000, 250050000000, -1250000)
    """
    return int(Decimal(repr(float(value))).scaleb(decimals))


def from_fixed(value: int, decimals: int = 18) -> float:
    """Return the integer ``value`` divided by ``10**decimals`` as a float.

    Examples
    --------
    >>> from_fixed(-1_250_000, 6)
    -1.25
    """
    return float(Decimal(value).scaleb(-decimals))
