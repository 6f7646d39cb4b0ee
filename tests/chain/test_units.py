"""units.py: exact conversions between floats and the contracts' integers."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hedgekeeper.chain.units import FIXED_ONE, from_fixed, to_fixed


def test_decimal_literals_convert_exactly() -> None:
    assert to_fixed(0.1) == 10**17 and to_fixed(3000.0, 8) == 300_000_000_000 and to_fixed(-2.5, 6) == -2_500_000
    assert to_fixed(1.0) == FIXED_ONE


@given(st.integers(min_value=-(2**53), max_value=2**53), st.integers(min_value=0, max_value=18))
def test_integers_round_trip_through_floats_within_53_bits(value: int, decimals: int) -> None:
    assert to_fixed(from_fixed(value, decimals), decimals) == value
