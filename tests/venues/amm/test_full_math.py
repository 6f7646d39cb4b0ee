"""FullMath: v3-core's published cases, and the exact rational floor and ceiling for any uint256 inputs."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgekeeper.venues.amm.errors import AmmError, IntegerOutOfRange
from hedgekeeper.venues.amm.full_math import div_rounding_up, mul_div, mul_div_rounding_up
from hedgekeeper.venues.amm.solidity_ints import UINT256_MAX

Q128 = 2**128
uint256 = st.one_of(st.integers(0, UINT256_MAX), st.integers(0, 2**128), st.sampled_from([0, 1, UINT256_MAX]))


# Uniswap/v3-core test/FullMath.spec.ts, #mulDiv and #mulDivRoundingUp
@pytest.mark.parametrize(
    ("a", "b", "denominator", "floor", "ceiling"),
    [
        (UINT256_MAX, UINT256_MAX, UINT256_MAX, UINT256_MAX, UINT256_MAX),  # all max inputs
        # accurate without phantom overflow
        (Q128, 50 * Q128 // 100, 150 * Q128 // 100, Q128 // 3, Q128 // 3 + 1),
        (Q128, 35 * Q128, 8 * Q128, 4375 * Q128 // 1000, 4375 * Q128 // 1000),  # accurate with phantom overflow
        (Q128, 1000 * Q128, 3000 * Q128, Q128 // 3, Q128 // 3 + 1),  # ... and repeating decimal
    ],
)
def test_mul_div_matches_published_values(a: int, b: int, denominator: int, floor: int, ceiling: int) -> None:
    assert mul_div(a, b, denominator) == floor
    assert mul_div_rounding_up(a, b, denominator) == ceiling


# Uniswap/v3-core test/FullMath.spec.ts, the "reverts" cases of both functions
@pytest.mark.parametrize(
    ("a", "b", "denominator"),
    [
        (Q128, 5, 0),  # denominator is 0
        (Q128, Q128, 0),  # denominator is 0 and numerator overflows
        (Q128, Q128, 1),  # output overflows uint256
        (UINT256_MAX, UINT256_MAX, UINT256_MAX - 1),  # overflow with all max inputs
    ],
)
def test_mul_div_refuses_zero_denominators_and_results_past_uint256(a: int, b: int, denominator: int) -> None:
    with pytest.raises(IntegerOutOfRange):
        mul_div(a, b, denominator)
    with pytest.raises(IntegerOutOfRange):
        mul_div_rounding_up(a, b, denominator)


# Uniswap/v3-core test/FullMath.spec.ts, "reverts if mulDiv overflows 256 bits after rounding up" (cases 1 and 2)
@pytest.mark.parametrize(
    ("a", "b", "denominator"),
    [
        (535006138814359, 432862656469423142931042426214547535783388063929571229938474969, 2),
        (
            115792089237316195423570985008687907853269984659341747863450311749907997002549,
            115792089237316195423570985008687907853269984659341747863450311749907997002550,
            115792089237316195423570985008687907853269984653042931687443039491902864365164,
        ),
    ],
)
def test_rounding_up_past_uint256_is_refused(a: int, b: int, denominator: int) -> None:
    assert mul_div(a, b, denominator) == UINT256_MAX
    with pytest.raises(IntegerOutOfRange, match="rounds up past uint256"):
        mul_div_rounding_up(a, b, denominator)


@given(a=uint256, b=uint256, denominator=uint256.filter(lambda d: d > 0))
def test_mul_div_is_the_floor_and_ceiling_of_the_exact_ratio(a: int, b: int, denominator: int) -> None:
    exact = Fraction(a * b, denominator)
    if math.ceil(exact) > UINT256_MAX:
        with pytest.raises(IntegerOutOfRange):
            mul_div_rounding_up(a, b, denominator)
    else:
        assert mul_div(a, b, denominator) == math.floor(exact)
        assert mul_div_rounding_up(a, b, denominator) == math.ceil(exact)


@given(x=uint256, y=uint256.filter(lambda d: d > 0))
def test_div_rounding_up_is_the_ceiling(x: int, y: int) -> None:
    assert div_rounding_up(x, y) == math.ceil(Fraction(x, y))


def test_inputs_outside_uint256_or_not_ints_are_refused() -> None:
    with pytest.raises(IntegerOutOfRange, match="a = -1 is outside uint256"):
        mul_div(-1, 1, 1)
    with pytest.raises(IntegerOutOfRange, match="b = .* is outside uint256"):
        mul_div(1, 2**256, 1)
    with pytest.raises(AmmError, match="must be an int"):
        mul_div(1.0, 1, 1)  # type: ignore[arg-type]
    with pytest.raises(IntegerOutOfRange, match="divides by zero"):
        div_rounding_up(1, 0)
