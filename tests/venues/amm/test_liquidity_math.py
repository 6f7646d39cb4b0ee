"""LiquidityMath.addDelta: v3-core's published cases, over- and underflow refused."""

from __future__ import annotations

import pytest

from hedgekeeper.venues.amm.errors import IntegerOutOfRange
from hedgekeeper.venues.amm.liquidity_math import add_delta


# Uniswap/v3-core test/LiquidityMath.spec.ts, #addDelta
@pytest.mark.parametrize(("liquidity", "delta", "expected"), [(1, 0, 1), (1, -1, 0), (1, 1, 2)])
def test_add_delta_matches_published_values(liquidity: int, delta: int, expected: int) -> None:
    assert add_delta(liquidity, delta) == expected


# Uniswap/v3-core test/LiquidityMath.spec.ts: 2**128-15 + 15 overflows ('LA'); 0 + -1 and 3 + -4 underflow ('LS')
@pytest.mark.parametrize(
    ("liquidity", "delta", "reason"), [(2**128 - 15, 15, "'LA'"), (0, -1, "'LS'"), (3, -4, "'LS'")]
)
def test_add_delta_refuses_to_leave_uint128(liquidity: int, delta: int, reason: str) -> None:
    with pytest.raises(IntegerOutOfRange, match=reason):
        add_delta(liquidity, delta)


def test_delta_outside_int128_is_refused() -> None:
    with pytest.raises(IntegerOutOfRange, match="delta = .* is outside int128"):
        add_delta(2**127, 2**127)
