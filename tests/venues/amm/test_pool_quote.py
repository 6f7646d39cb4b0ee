"""Pool quotes: the constant-product closed forms, both token orders, both pool kinds, and refusals."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgekeeper.venues.amm.concentrated import ConcentratedPool
from hedgekeeper.venues.amm.constant_product import ConstantProductPool
from hedgekeeper.venues.amm.errors import AmmError, InsufficientLiquidity
from hedgekeeper.venues.amm.pool_quote import PoolTokens, quote_pool
from hedgekeeper.venues.amm.price import price_to_sqrt_price_x96
from hedgekeeper.venues.orders import Side

WETH_USDC = PoolTokens(coin_is_token0=True, coin_decimals=18, usd_decimals=6)  # a pair listing WETH first
USDC_WETH = PoolTokens(coin_is_token0=False, coin_decimals=18, usd_decimals=6)  # mainnet order: USDC is token0
COIN_RESERVE, USD_RESERVE = 10_000.0, 30_000_000.0


def _pair(fee_pips: int = 3000) -> ConstantProductPool:
    return ConstantProductPool(int(COIN_RESERVE * 10**18), int(USD_RESERVE * 10**6), fee_pips)


@given(size_coin=st.floats(0.001, 5_000.0), fee_pips=st.sampled_from([0, 3000, 10000]))
def test_a_constant_product_buy_costs_the_closed_form(size_coin: float, fee_pips: int) -> None:
    quote = quote_pool(_pair(fee_pips), WETH_USDC, Side.BUY, size_coin)
    kept = 1 - fee_pips / 1e6
    cost_usd = USD_RESERVE * quote.size_coin / (COIN_RESERVE - quote.size_coin) / kept  # y dx / (x - dx) / (1 - f)
    assert quote.notional_usd == pytest.approx(cost_usd, rel=1e-9, abs=2e-6)  # getAmountIn adds one USDC unit
    assert quote.mid_price_usd == pytest.approx(USD_RESERVE / COIN_RESERVE, rel=1e-15)
    expected_bps = (COIN_RESERVE / (COIN_RESERVE - quote.size_coin) / kept - 1) * 1e4
    one_usdc_unit_bps = 1e-6 / (quote.size_coin * quote.mid_price_usd) * 1e4
    assert quote.impact_bps == pytest.approx(expected_bps, rel=1e-9, abs=2 * one_usdc_unit_bps)
    assert quote.impact_usd == pytest.approx(quote.notional_usd - quote.size_coin * quote.mid_price_usd)
    assert quote.average_price_usd == pytest.approx(quote.notional_usd / quote.size_coin)


@given(size_coin=st.floats(0.001, 50_000.0), fee_pips=st.sampled_from([0, 3000, 10000]))
def test_a_constant_product_sell_returns_the_closed_form(size_coin: float, fee_pips: int) -> None:
    quote = quote_pool(_pair(fee_pips), WETH_USDC, Side.SELL, size_coin)
    effective = quote.size_coin * (1 - fee_pips / 1e6)
    proceeds_usd = USD_RESERVE * effective / (COIN_RESERVE + effective)  # y * dx' / (x + dx')
    assert quote.notional_usd == pytest.approx(proceeds_usd, rel=1e-9, abs=2e-6)  # floored to one USDC unit
    assert quote.impact_usd == pytest.approx(quote.size_coin * quote.mid_price_usd - quote.notional_usd)
    assert quote.impact_bps >= 0.0
    fee_at_mid_usd = quote.size_coin * fee_pips / 1e6 * quote.mid_price_usd
    assert quote.fee_usd == pytest.approx(fee_at_mid_usd, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("side", [Side.BUY, Side.SELL])
@given(size_coin=st.floats(0.01, 2_000.0))
def test_the_token_order_of_the_pool_does_not_change_the_quote(side: Side, size_coin: float) -> None:
    coin_first = quote_pool(_pair(), WETH_USDC, side, size_coin)
    usd_first = quote_pool(ConstantProductPool(_pair().reserve1, _pair().reserve0), USDC_WETH, side, size_coin)
    assert usd_first.notional_usd == coin_first.notional_usd
    assert usd_first.mid_price_usd == pytest.approx(coin_first.mid_price_usd, rel=1e-15)
    assert usd_first.impact_bps == pytest.approx(coin_first.impact_bps, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("side", [Side.BUY, Side.SELL])
@given(small=st.floats(0.01, 100.0), extra=st.floats(0.01, 100.0))
def test_impact_grows_with_size(side: Side, small: float, extra: float) -> None:
    pool = _pair()
    larger, smaller = quote_pool(pool, WETH_USDC, side, small + extra), quote_pool(pool, WETH_USDC, side, small)
    assert larger.impact_bps >= smaller.impact_bps


def _concentrated_usdc_weth() -> ConcentratedPool:
    # 3000 USD/ETH, full range plus a band of extra liquidity from 2700 to 3300 USD/ETH (ticks around 196200).
    sqrt_price = price_to_sqrt_price_x96(1 / 3000, 6, 18)
    positions = [(-887220, 887220, 5 * 10**17)] + [(195000 + 120 * i, 197400 - 120 * i, 10**17) for i in range(5)]
    return ConcentratedPool.from_positions(sqrt_price, positions, fee_pips=500, tick_spacing=60)


@pytest.mark.parametrize(("side", "size_coin"), [(Side.BUY, 25.0), (Side.SELL, 25.0), (Side.BUY, 0.5)])
def test_a_concentrated_quote_is_its_swap_in_whole_units(side: Side, size_coin: float) -> None:
    pool = _concentrated_usdc_weth()
    quote = quote_pool(pool, USDC_WETH, side, size_coin)
    swap = quote.swap
    buy = side is Side.BUY
    usd_units, coin_units = (swap.amount_in, swap.amount_out) if buy else (swap.amount_out, swap.amount_in)
    assert coin_units == round(size_coin * 10**18) and quote.size_coin == size_coin
    assert quote.notional_usd == usd_units / 10**6
    assert quote.mid_price_usd == pytest.approx(3000.0, rel=1e-12)
    # A buy lifts the price of ETH (token1): the USDC per ETH after exceeds the average, which exceeds the mid.
    after_usd = 1e-6 / 1e-18 / swap.pool.mid_price_raw()
    if side is Side.BUY:
        assert quote.mid_price_usd < quote.average_price_usd < after_usd * (1 + 500 / 1e6) + 1e-9
    else:
        assert after_usd * (1 - 500 / 1e6) - 1e-9 < quote.average_price_usd < quote.mid_price_usd
    assert quote.impact_bps > 5.0 - 1e-9  # at least the 0.05% fee


def test_more_than_the_pool_holds_is_insufficient_liquidity() -> None:
    with pytest.raises(InsufficientLiquidity, match="output reserve"):
        quote_pool(_pair(), WETH_USDC, Side.BUY, COIN_RESERVE)
    band_only = ConcentratedPool.from_positions(
        price_to_sqrt_price_x96(1 / 3000, 6, 18), [(195960, 196320, 10**15)], fee_pips=500, tick_spacing=60
    )
    for side in (Side.BUY, Side.SELL):
        with pytest.raises(InsufficientLiquidity, match="the pool fills"):
            quote_pool(band_only, USDC_WETH, side, 100.0)


@pytest.mark.parametrize(
    ("size_coin", "message"),
    [
        (0.0, "not a positive number of base units"),
        (-1.0, "not a positive number of base units"),
        (1e-19, "not a positive number of base units"),
        (math.nan, "finite number"),
        (math.inf, "finite number"),
        (True, "finite number"),
        ("1", "finite number"),
    ],
)
def test_sizes_that_are_not_a_positive_amount_are_refused(size_coin: float, message: str) -> None:
    with pytest.raises(AmmError, match=message):
        quote_pool(_pair(), WETH_USDC, Side.BUY, size_coin)


def test_a_side_that_is_not_a_side_is_refused() -> None:
    with pytest.raises(AmmError, match="side must be a Side"):
        quote_pool(_pair(), WETH_USDC, "buy", 1.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((1, 18, 6), "coin_is_token0 must be a bool"),
        ((True, 78, 6), "coin_decimals"),
        ((True, 18, -1), "usd_decimals"),
    ],
)
def test_pool_tokens_outside_erc20_conventions_are_refused(
    arguments: tuple[object, int, int], message: str
) -> None:
    with pytest.raises(AmmError, match=message):
        PoolTokens(*arguments)  # type: ignore[arg-type]
