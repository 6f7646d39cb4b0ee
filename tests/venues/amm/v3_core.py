"""Uniswap v3-core's test helpers (``test/shared/utilities.ts``), so its published vectors read as written.

``encode_price_sqrt`` reproduces ``encodePriceSqrt`` bit for bit: bignumber.js with
``DECIMAL_PLACES: 40`` rounds the quotient and the square root half-up to 40
decimals, then the product with 2**96 is floored (``integerValue(3)``).
"""

from __future__ import annotations

import math
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal

_CONTEXT = Context(prec=200)
_PLACES = Decimal(1).scaleb(-40)

FEE_LOW, FEE_MEDIUM, FEE_HIGH = 500, 3000, 10000
TICK_SPACINGS = {FEE_LOW: 10, FEE_MEDIUM: 60, FEE_HIGH: 200}


def encode_price_sqrt(reserve1: int, reserve0: int) -> int:
    """Return ``encodePriceSqrt(reserve1, reserve0)``: sqrt(reserve1 / reserve0) * 2**96, as v3-core's tests."""
    ratio = _CONTEXT.divide(Decimal(reserve1), Decimal(reserve0)).quantize(_PLACES, ROUND_HALF_UP, _CONTEXT)
    root = _CONTEXT.sqrt(ratio).quantize(_PLACES, ROUND_HALF_UP, _CONTEXT)
    return int(_CONTEXT.multiply(root, Decimal(2**96)).to_integral_value(ROUND_FLOOR, _CONTEXT))


def expand_to_18_decimals(amount: int) -> int:
    """Return ``expandTo18Decimals(amount)``."""
    return amount * 10**18


def get_min_tick(tick_spacing: int) -> int:
    """Return ``getMinTick``: the lowest usable tick, ``ceil(-887272 / spacing) * spacing``."""
    return math.ceil(-887272 / tick_spacing) * tick_spacing


def get_max_tick(tick_spacing: int) -> int:
    """Return ``getMaxTick``: the highest usable tick, ``floor(887272 / spacing) * spacing``."""
    return math.floor(887272 / tick_spacing) * tick_spacing
