"""Solidity integer ranges: the edges of each type, and floats or bools refused rather than rounded."""

from __future__ import annotations

import pytest

from hedgekeeper.venues.amm.errors import AmmError, IntegerOutOfRange
from hedgekeeper.venues.amm.solidity_ints import as_int, as_uint


@pytest.mark.parametrize("bits", [8, 24, 112, 128, 160, 256])
def test_uint_range_is_zero_to_two_to_the_bits_exclusive(bits: int) -> None:
    assert as_uint("x", 0, bits) == 0 and as_uint("x", 2**bits - 1, bits) == 2**bits - 1
    for outside in (-1, 2**bits):
        with pytest.raises(IntegerOutOfRange, match=f"uint{bits}"):
            as_uint("x", outside, bits)


@pytest.mark.parametrize("bits", [24, 128, 256])
def test_int_range_is_twos_complement(bits: int) -> None:
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    assert as_int("x", low, bits) == low and as_int("x", high, bits) == high
    for outside in (low - 1, high + 1):
        with pytest.raises(IntegerOutOfRange, match=f"int{bits}"):
            as_int("x", outside, bits)


@pytest.mark.parametrize("value", [1.0, True, "1", None])
def test_non_int_values_are_refused_with_their_type(value: object) -> None:
    with pytest.raises(AmmError, match=f"amount must be an int, got {type(value).__name__}"):
        as_uint("amount", value, 256)  # type: ignore[arg-type]
    with pytest.raises(AmmError, match="must be an int"):
        as_int("amount", value, 256)  # type: ignore[arg-type]
