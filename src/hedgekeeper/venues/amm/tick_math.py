"""``TickMath`` of Uniswap v3-core: ticks to square-root prices and back, bit for bit.

A tick ``t`` stands for the price ``1.0001**t`` (token1 base units per token0 base
unit); prices are carried as their square root in Q64.96 fixed point,
``sqrt_price_x96 = sqrt(price) * 2**96``, a uint160. ``get_sqrt_ratio_at_tick``
rounds up and ``get_tick_at_sqrt_ratio`` returns the greatest tick whose ratio is
at or below the price, exactly as the contract does.
"""

from __future__ import annotations

from functools import lru_cache

from hedgekeeper.venues.amm.errors import AmmError
from hedgekeeper.venues.amm.solidity_ints import UINT256_MAX, as_int, as_uint

MIN_TICK = -887272
MAX_TICK = -MIN_TICK
MIN_SQRT_RATIO = 4295128739
MAX_SQRT_RATIO = 1461446703485210103287273052203988822378723970342

# sqrt(1.0001)**(-2**i) in Q128.128 for bit i of |tick|, the contract's magic numbers.
_INVERSE_POWERS = (
    0xFFFCB933BD6FAD37AA2D162D1A594001,
    0xFFF97272373D413259A46990580E213A,
    0xFFF2E50F5F656932EF12357CF3C7FDCC,
    0xFFE5CACA7E10E4E61C3624EAA0941CD0,
    0xFFCB9843D60F6159C9DB58835C926644,
    0xFF973B41FA98C081472E6896DFB254C0,
    0xFF2EA16466C96A3843EC78B326B52861,
    0xFE5DEE046A99A2A811C461F1969C3053,
    0xFCBE86C7900A88AEDCFFC83B479AA3A4,
    0xF987A7253AC413176F2B074CF7815E54,
    0xF3392B0822B70005940C7A398E4B70F3,
    0xE7159475A2C29B7443B29C7FA6E889D9,
    0xD097F3BDFD2022B8845AD8F792AA5825,
    0xA9F746462D870FDF8A65DC1F90E061E5,
    0x70D869A156D2A1B890BB3DF62BAF32F7,
    0x31BE135F97D08FD981231505542FCFA6,
    0x9AA508B5B7A84E1C677DE54F3E99BC9,
    0x5D6AF8DEDB81196699C329225EE604,
    0x2216E584F5FA1EA926041BEDFE98,
    0x48A170391F7DC42444E8FA2,
)


@lru_cache(maxsize=8192)
def get_sqrt_ratio_at_tick(tick: int) -> int:
    """Return ``sqrt(1.0001**tick) * 2**96`` rounded up, a uint160, as ``TickMath.getSqrtRatioAtTick``.

    Parameters
    ----------
    tick : int, int24 in ``[MIN_TICK, MAX_TICK]``

    Returns
    -------
    int, Q64.96 square root of the price in token1 base units per token0 base unit

    Raises
    ------
    AmmError
        ``|tick| > MAX_TICK`` (the contract's ``'T'``).

    Examples
    --------
    >>> get_sqrt_ratio_at_tick(0) == 2**96, get_sqrt_ratio_at_tick(MIN_TICK)
    (True, 4295128739)
    """
    as_int("tick", tick, 24)
    abs_tick = abs(tick)
    if abs_tick > MAX_TICK:
        raise AmmError(f"tick = {tick} is outside [{MIN_TICK}, {MAX_TICK}] (TickMath 'T')")
    ratio = _INVERSE_POWERS[0] if abs_tick & 1 else 1 << 128
    for bit, factor in enumerate(_INVERSE_POWERS[1:], start=1):
        if abs_tick >> bit & 1:
            ratio = (ratio * factor) >> 128
    if tick > 0:
        ratio = UINT256_MAX // ratio
    # Q128.128 to Q64.96, rounding up so that get_tick_at_sqrt_ratio of the result is tick.
    return (ratio >> 32) + (1 if ratio & 0xFFFFFFFF else 0)


def get_tick_at_sqrt_ratio(sqrt_price_x96: int) -> int:
    """Return the greatest tick whose ratio is at or below ``sqrt_price_x96``, as ``getTickAtSqrtRatio``.

    The contract's method: the binary logarithm to 14 fractional bits from the most
    significant bit and repeated squaring, scaled to base ``sqrt(1.0001)``, then the
    two candidate ticks its error bounds allow, settled by ``get_sqrt_ratio_at_tick``.

    Parameters
    ----------
    sqrt_price_x96 : int, Q64.96, in ``[MIN_SQRT_RATIO, MAX_SQRT_RATIO)``

    Raises
    ------
    AmmError
        The price is outside ``[MIN_SQRT_RATIO, MAX_SQRT_RATIO)`` (the contract's ``'R'``).

    Examples
    --------
    >>> [get_tick_at_sqrt_ratio(sqrt_price) for sqrt_price in (2**96, 2**96 - 1, MIN_SQRT_RATIO)]
    [0, -1, -887272]
    """
    as_uint("sqrt_price_x96", sqrt_price_x96, 160)
    if not MIN_SQRT_RATIO <= sqrt_price_x96 < MAX_SQRT_RATIO:
        raise AmmError(
            f"sqrt_price_x96 = {sqrt_price_x96} is outside [MIN_SQRT_RATIO, MAX_SQRT_RATIO) (TickMath 'R')"
        )
    ratio = sqrt_price_x96 << 32
    msb = ratio.bit_length() - 1
    r = ratio >> (msb - 127) if msb >= 128 else ratio << (127 - msb)
    log_2 = (msb - 128) << 64
    for bit in range(63, 49, -1):
        r = (r * r) >> 127
        high = r >> 128
        log_2 |= high << bit
        r >>= high
    log_sqrt10001 = log_2 * 255738958999603826347141  # Q128.128
    tick_low = (log_sqrt10001 - 3402992956809132418596140100660247210) >> 128
    tick_high = (log_sqrt10001 + 291339464771989622907027621153398088495) >> 128
    if tick_low == tick_high:
        return tick_low
    return tick_high if get_sqrt_ratio_at_tick(tick_high) <= sqrt_price_x96 else tick_low
