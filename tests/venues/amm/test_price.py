"""Price readers: v3-core's recorded pool prices, ticks as powers of 1.0001, decimals, round trips."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from venues.amm.v3_core import FEE_MEDIUM, encode_price_sqrt
from venues.amm.v3_pool_swaps import build_pool, run_swap

from hedgekeeper.venues.amm.concentrated import ConcentratedPool
from hedgekeeper.venues.amm.errors import AmmError
from hedgekeeper.venues.amm.price import price_to_sqrt_price_x96, sqrt_price_x96_to_price
from hedgekeeper.venues.amm.tick_math import (
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    MIN_TICK,
    get_sqrt_ratio_at_tick,
)


def _five_significant_digits(value: float) -> float:
    return float(f"{value:.5g}")


# Uniswap/v3-core test/__snapshots__/UniswapV3Pool.swaps.spec.ts.snap, poolPriceBefore / poolPriceAfter, which
# test/shared/format.ts formatPrice prints as (sqrtPriceX96 / 2**96) ** 2 to 5 significant digits.
@pytest.mark.parametrize(
    ("pool_description", "swap_description", "price_after"),
    [
        ("low fee, 1:1 price, 2e18 max range liquidity", "swap exactly 1.0000 token0 for token1", 0.44459),
        ("medium fee, 10:1 price, 2e18 max range liquidity", "swap exactly 1.0000 token1 for token0", 13.401),
        ("close to max price", "swap exactly 1.0000 token0 for token1", 4.0241),
        ("close to max price", "swap exactly 0.0000000000000010000 token0 for token1", 4.1734e30),
        ("close to min price", "swap exactly 0.0000000000000010000 token1 for token0", 2.3974e-31),
        ("initialized at the min ratio", "swap token1 for exactly 0.0000000000000010000 token0", 2.9543e-39),
    ],
)
def test_price_after_a_swap_reads_as_v3_core_prints_it(
    pool_description: str, swap_description: str, price_after: float
) -> None:
    result = run_swap(build_pool(pool_description), swap_description)
    assert _five_significant_digits(sqrt_price_x96_to_price(result.pool.sqrt_price_x96, 18, 18)) == price_after


@pytest.mark.parametrize(
    ("sqrt_price_x96", "price"),
    [
        (encode_price_sqrt(2**127, 1), 1.7014e38),
        (encode_price_sqrt(1, 2**127), 5.9000e-39),
        (MAX_SQRT_RATIO - 1, 3.4026e38),
        (MIN_SQRT_RATIO, 2.9390e-39),
    ],
)  # the same snapshot's poolPriceBefore of "close to max/min price", "initialized at the max/min ratio"
def test_extreme_prices_read_as_v3_core_prints_them(sqrt_price_x96: int, price: float) -> None:
    assert _five_significant_digits(sqrt_price_x96_to_price(sqrt_price_x96, 18, 18)) == price


@given(tick=st.integers(MIN_TICK, MAX_TICK), decimals0=st.integers(0, 24), decimals1=st.integers(0, 24))
def test_the_price_at_a_tick_is_1_0001_to_the_tick_in_whole_tokens(
    tick: int, decimals0: int, decimals1: int
) -> None:
    price = sqrt_price_x96_to_price(get_sqrt_ratio_at_tick(tick), decimals0, decimals1)
    expected = math.exp(tick * math.log(1.0001) + (decimals0 - decimals1) * math.log(10))
    assert price == pytest.approx(expected, rel=1e-9)


@given(
    log10_price=st.floats(-20.0, 20.0),
    decimals=st.sampled_from([(6, 18), (18, 6), (18, 18), (8, 18), (6, 6)]),
)
def test_price_to_sqrt_price_and_back_is_the_identity_to_float_precision(
    log10_price: float, decimals: tuple[int, int]
) -> None:
    price = 10.0**log10_price
    sqrt_price_x96 = price_to_sqrt_price_x96(price, *decimals)
    assert sqrt_price_x96_to_price(sqrt_price_x96, *decimals) == pytest.approx(price, rel=1e-12)
    # The floor of the exact square root of the raw price (the float's decimal, in base units) in Q64.96.
    raw_x192 = Fraction(repr(price)) * Fraction(10) ** (decimals[1] - decimals[0]) * 2**192
    assert sqrt_price_x96**2 <= raw_x192 < (sqrt_price_x96 + 1) ** 2


def test_a_usdc_weth_pool_reads_in_weth_per_usdc() -> None:
    # USDC is token0 (6 decimals) and WETH token1 (18) on mainnet: 3000 USD per ETH is 1/3000 WETH per USDC,
    # a raw price of 1e12 / 3000 WETH wei per USDC unit.
    sqrt_price_x96 = price_to_sqrt_price_x96(1 / 3000, 6, 18)
    raw = (sqrt_price_x96 / 2**96) ** 2
    assert raw == pytest.approx(1e12 / 3000, rel=1e-15)
    assert 1 / sqrt_price_x96_to_price(sqrt_price_x96, 6, 18) == pytest.approx(3000.0, rel=1e-15)
    assert ConcentratedPool.from_positions(
        sqrt_price_x96, [], fee_pips=FEE_MEDIUM, tick_spacing=60
    ).mid_price_raw() == pytest.approx(raw, rel=1e-15)


@pytest.mark.parametrize(
    ("price", "decimals", "message"),
    [
        (0.0, (18, 18), "finite positive"),
        (-1.0, (18, 18), "finite positive"),
        (math.nan, (18, 18), "finite positive"),
        (math.inf, (18, 18), "finite positive"),
        (1e-40, (18, 18), "outside the pool's range"),
        (1.0, (78, 18), "decimals0 = 78 is above 77"),
    ],
)
def test_prices_a_pool_cannot_hold_are_refused(price: float, decimals: tuple[int, int], message: str) -> None:
    with pytest.raises(AmmError, match=message):
        price_to_sqrt_price_x96(price, *decimals)


def test_a_zero_sqrt_price_is_refused() -> None:
    with pytest.raises(AmmError, match="must be positive"):
        sqrt_price_x96_to_price(0, 18, 18)
