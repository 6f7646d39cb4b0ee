"""A pool as a venue: swaps whole or not at all, exact amounts, limits as minimum out, idempotent ids."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from hedgekeeper.engine.clock import SimulatedClock
from hedgekeeper.errors import InvalidOrder, OrderNotFound, UnknownInstrument
from hedgekeeper.portfolio.instruments import Instrument, InstrumentKind, Settlement
from hedgekeeper.venues.amm.constant_product import ConstantProductPool
from hedgekeeper.venues.amm.pool_quote import PoolTokens
from hedgekeeper.venues.amm.venue import PoolVenue
from hedgekeeper.venues.orders import OrderRequest, OrderStatus, OrderType, Side, TimeInForce

ETH = Instrument(instrument_id="ETH-USDC.POOL", venue="pool", kind=InstrumentKind.SPOT, settlement=Settlement.LINEAR,
                 underlying="ETH", settlement_currency="USDC", contract_size=Decimal(1),
                 tick_size=Decimal("0.000001"), lot_size=Decimal("0.0001"), min_size=Decimal("0.0001"))
TOKENS = PoolTokens(coin_is_token0=False, coin_decimals=18, usd_decimals=6)
USDC_RESERVE, WETH_RESERVE = 30_000_000 * 10**6, 10_000 * 10**18


def venue(gas: str = "2.5") -> PoolVenue:
    pool = ConstantProductPool(USDC_RESERVE, WETH_RESERVE)
    return PoolVenue("pool", ETH, pool, TOKENS, SimulatedClock(start_ns=7), gas_cost_usd=Decimal(gas),
                     balances={"USDC": Decimal(1_000_000)})


def order(client_order_id: str, side: Side, size: str, price: str | None = None,
          tif: TimeInForce = TimeInForce.IOC) -> OrderRequest:
    return OrderRequest(client_order_id=client_order_id, instrument_id=ETH.instrument_id, side=side,
                        quantity=ETH.make_qty(size, round_down=True),
                        order_type=OrderType.MARKET if price is None else OrderType.LIMIT,
                        price=None if price is None else ETH.make_price(price, round_down=False), time_in_force=tif)


def test_a_buy_pays_the_constant_product_amount_in_and_the_gas() -> None:
    pool = venue()
    filled = asyncio.run(pool.place(order("a", Side.BUY, "10")))
    out = 10 * 10**18  # Uniswap v2 getAmountIn, written out: ceil(r_in * out * 1000 / ((r_out - out) * 997))
    usd_units = USDC_RESERVE * out * 1000 // ((WETH_RESERVE - out) * 997) + 1
    assert filled.status is OrderStatus.FILLED and filled.filled_quantity == Decimal(10)
    fill = asyncio.run(pool.fills())[0]
    assert Decimal(fill.raw["usd"]) == Decimal(usd_units) / 10**6
    assert fill.price.value * 10 == pytest.approx(Decimal(usd_units) / 10**6, abs=Decimal("1e-18"))
    assert fill.fee.amount == Decimal("2.5") and fill.ts_ns == 7
    balances = {b.money.currency: b.money.amount for b in asyncio.run(pool.balances())}
    assert balances == {"ETH": Decimal(10), "USDC": Decimal(1_000_000) - Decimal(usd_units) / 10**6 - Decimal("2.5")}
    assert pool.pool.reserve0 == USDC_RESERVE + usd_units and pool.pool.reserve1 == WETH_RESERVE - out


def test_a_limit_beyond_the_price_moves_nothing_and_expires() -> None:
    pool = venue()
    expired = asyncio.run(pool.place(order("a", Side.BUY, "10", price="3005")))  # the average is ~3012
    assert expired.status is OrderStatus.EXPIRED and "slippage" in expired.reason
    assert asyncio.run(pool.fills()) == [] and pool.pool.reserve1 == WETH_RESERVE
    sold = asyncio.run(pool.place(order("b", Side.SELL, "1", price="2980")))
    assert sold.status is OrderStatus.FILLED and sold.average_price >= Decimal(2980)


def test_placing_the_same_id_twice_swaps_once() -> None:
    pool = venue()
    first = asyncio.run(pool.place(order("same", Side.SELL, "2")))
    again = asyncio.run(pool.place(order("same", Side.SELL, "2")))
    assert first == again and len(asyncio.run(pool.fills())) == 1
    assert asyncio.run(pool.cancel(ETH.instrument_id, "same")) == first
    assert asyncio.run(pool.positions())[0].size_contracts == Decimal(-2)


def test_orders_a_pool_cannot_take_are_refused_with_the_reason() -> None:
    pool = venue()
    with pytest.raises(InvalidOrder, match="cannot rest"):
        asyncio.run(pool.place(order("gtc", Side.BUY, "1", price="3100", tif=TimeInForce.GTC)))
    assert asyncio.run(pool.order(ETH.instrument_id, "gtc")).status is OrderStatus.REJECTED
    with pytest.raises(UnknownInstrument):
        asyncio.run(pool.place(OrderRequest(client_order_id="x", instrument_id="BTC", side=Side.BUY,
                                            quantity=ETH.make_qty("1", round_down=True))))
    with pytest.raises(InvalidOrder, match="amended"):
        asyncio.run(pool.amend(ETH.instrument_id, "gtc", quantity=Decimal(2)))
    with pytest.raises(OrderNotFound):
        asyncio.run(pool.cancel(ETH.instrument_id, "never"))
    drained = asyncio.run(pool.place(order("all", Side.BUY, "10000")))
    assert drained.status is OrderStatus.EXPIRED and "cannot fill" in drained.reason
