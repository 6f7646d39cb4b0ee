"""Bybit through ccxt, end to end against recorded v5 answers (bybit-exchange.github.io/docs/v5).

Independent truths: Bybit's published rules (BTCUSDT sizes in BTC, step 0.001, tick
0.10; BTCUSD inverse sizes in USD, step 1; BTC options in BTC, step 0.01, settled
in USDC), the client id travelling as ``orderLinkId``, its error codes (110007
insufficient balance, 110072 duplicated orderLinkId) and the recorded payloads'
own numbers.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from venues.ccxt.recorded_exchange import Reply, fixture
from venues.ccxt.recorded_venues import BYBIT_API as API
from venues.ccxt.recorded_venues import RecordedBybit
from venues.ccxt.venue_builders import config_for, instrument_of, limit_order, recorded_venue

from hedgekeeper.errors import InsufficientMargin
from hedgekeeper.portfolio.instruments import InstrumentKind, Settlement
from hedgekeeper.portfolio.values import Money
from hedgekeeper.venues.orders import Liquidity, OrderStatus, Side, TimeInForce

LINEAR = "BTCUSDT.BYBIT"
MARKETS = ["BTCUSDT", "BTCUSD", "BTC-27JUN25-110000-C"]


def place_linear(bybit: RecordedBybit, **config_overrides):
    """Return (exchange, order) after placing 0.003 BTC of BTCUSDT at 104,000.1."""
    async def scenario():
        config = config_for("bybit", MARKETS, **config_overrides)
        async with recorded_venue(bybit.routes(), config) as (exchange, venue):
            linear = await instrument_of(venue, LINEAR)
            return exchange, await venue.place(limit_order(linear, "hk-0001", Side.BUY, "0.003", "104000.1"))

    return asyncio.run(scenario())


def test_bybit_markets_become_instruments_linear_inverse_and_usdc_options() -> None:
    async def scenario():
        async with recorded_venue(RecordedBybit().routes(), config_for("bybit", MARKETS)) as (_, venue):
            return {one.instrument_id: one for one in await venue.instruments()}

    instruments = asyncio.run(scenario())
    assert sorted(instruments) == sorted(f"{market}.BYBIT" for market in MARKETS)  # ETHUSDT not asked for
    linear = instruments[LINEAR]
    assert (linear.kind, linear.settlement, linear.settlement_currency, linear.contract_size) == (
        InstrumentKind.PERPETUAL, Settlement.LINEAR, "USDT", Decimal(1))
    assert (linear.tick_size, linear.lot_size, linear.min_size) == (Decimal("0.1"), Decimal("0.001"), Decimal("0.001"))
    inverse = instruments["BTCUSD.BYBIT"]
    assert (inverse.settlement, inverse.settlement_currency, inverse.contract_size, inverse.contract_unit) == (
        Settlement.INVERSE, "BTC", Decimal(1), "USD")
    call = instruments["BTC-27JUN25-110000-C.BYBIT"]
    assert (call.settlement, call.settlement_currency, call.is_call, call.strike_usd) == (
        Settlement.LINEAR, "USDC", True, Decimal(110_000))
    assert (call.tick_size, call.lot_size, call.expiry_ns) == (Decimal(5), Decimal("0.01"), 1_751_011_200_000_000_000)


def test_bybit_place_sends_order_link_id_and_coin_quantity() -> None:
    exchange, order = place_linear(RecordedBybit())
    (create,) = exchange.calls_to("POST", API + "order/create")
    assert (create.host, create.params["orderLinkId"], create.params["category"], create.params["symbol"]) == (
        "api.bybit.com", "hk-0001", "linear", "BTCUSDT")
    assert (create.params["qty"], create.params["price"], create.params["side"], create.params["orderType"]) == (
        "0.003", "104000.1", "Buy", "Limit")
    assert create.headers["X-BAPI-API-KEY"] == "test-key" and len(create.headers["X-BAPI-SIGN"]) == 64
    assert (order.client_order_id, order.venue_order_id, order.status, order.quantity.value) == (
        "hk-0001", "1321003749386327552", OrderStatus.ACKNOWLEDGED, Decimal("0.003"))


@pytest.mark.parametrize(("time_in_force", "sent"), [(TimeInForce.IOC, "IOC"), (TimeInForce.FOK, "FOK"),
                                                      (TimeInForce.POST_ONLY, "PostOnly")])
def test_bybit_time_in_force_and_reduce_only_reach_the_order(time_in_force: TimeInForce, sent: str) -> None:
    async def scenario():
        async with recorded_venue(RecordedBybit().routes(), config_for("bybit", MARKETS)) as (exchange, venue):
            linear = await instrument_of(venue, LINEAR)
            await venue.place(limit_order(linear, "hk-0001", Side.SELL, "0.003", "104000.1", time_in_force,
                                          reduce_only=True))
            return exchange

    (create,) = asyncio.run(scenario()).calls_to("POST", API + "order/create")
    assert (create.params["timeInForce"], create.params["reduceOnly"]) == (sent, True)


def test_bybit_order_lookup_asks_working_then_finished_orders_and_unknown_id_is_none() -> None:
    bybit = RecordedBybit()
    bybit.states["hk-0001"] = "order_realtime_partially_filled"

    async def scenario():
        async with recorded_venue(bybit.routes(), config_for("bybit", MARKETS)) as (exchange, venue):
            return exchange, await venue.order(LINEAR, "hk-0001"), await venue.order(LINEAR, "hk-0404")

    exchange, found, unknown = asyncio.run(scenario())
    assert unknown is None
    assert [call.params["orderLinkId"] for call in exchange.calls_to("GET", API + "order/realtime")] == [
        "hk-0001", "hk-0404"]
    assert [call.params["orderLinkId"] for call in exchange.calls_to("GET", API + "order/history")] == ["hk-0404"]
    assert (found.status, found.filled_quantity, found.average_price) == (
        OrderStatus.PARTIALLY_FILLED, Decimal("0.002"), Decimal("104000.1"))


def test_bybit_duplicate_order_link_id_after_a_restart_returns_the_existing_order() -> None:
    bybit = RecordedBybit()
    bybit.states["hk-0001"] = "order_realtime_partially_filled"
    exchange, order = place_linear(bybit)
    assert len(exchange.calls_to("POST", API + "order/create")) == 1  # refused with 110072
    assert (order.venue_order_id, order.filled_quantity) == ("1321003749386327552", Decimal("0.002"))


def test_bybit_create_unanswered_past_the_timeout_ends_with_exactly_one_order() -> None:
    bybit = RecordedBybit(create_delay_s=1.0)
    exchange, order = place_linear(bybit, request_timeout_s=0.3)
    assert len(exchange.calls_to("POST", API + "order/create")) == 1
    assert list(bybit.states) == ["hk-0001"]
    assert (order.venue_order_id, order.status) == ("1321003749386327552", OrderStatus.PARTIALLY_FILLED)


def test_bybit_insufficient_balance_is_insufficient_margin() -> None:
    with pytest.raises(InsufficientMargin, match="110007"):
        place_linear(RecordedBybit(create_reply=Reply(fixture("bybit", "error_not_enough_for_new_order"))))


def test_bybit_cancel_and_amend_answers_are_completed_by_a_lookup() -> None:
    bybit = RecordedBybit()
    bybit.states["hk-0001"] = "order_realtime_partially_filled"

    async def scenario():
        async with recorded_venue(bybit.routes(), config_for("bybit", MARKETS)) as (exchange, venue):
            amended = await venue.amend(LINEAR, "hk-0001", quantity=Decimal("0.005"), price=Decimal("103950"))
            cancelled = await venue.cancel(LINEAR, "hk-0001")
            return exchange, amended, cancelled

    exchange, amended, cancelled = asyncio.run(scenario())
    (amend,) = exchange.calls_to("POST", API + "order/amend")
    assert (amend.params["orderId"], amend.params["qty"], amend.params["price"]) == (
        "1321003749386327552", "0.005", "103950")
    assert (amended.quantity.value, amended.price.value) == (Decimal("0.005"), Decimal(103_950))
    (cancel,) = exchange.calls_to("POST", API + "order/cancel")
    assert (cancel.params["orderId"], cancel.params["category"]) == ("1321003749386327552", "linear")
    assert (cancelled.status, cancelled.filled_quantity) == (OrderStatus.CANCELLED, Decimal("0.002"))


def test_bybit_open_orders_read_post_only() -> None:
    async def scenario():
        async with recorded_venue(RecordedBybit().routes(), config_for("bybit", MARKETS)) as (_, venue):
            return await venue.open_orders(LINEAR)

    ours, other = asyncio.run(scenario())
    assert (ours.client_order_id, ours.status, ours.remaining_quantity) == (
        "hk-0001", OrderStatus.PARTIALLY_FILLED, Decimal("0.001"))
    assert (other.client_order_id, other.side, other.time_in_force, other.status) == (
        "", Side.SELL, TimeInForce.POST_ONLY, OrderStatus.ACKNOWLEDGED)


def test_bybit_fills_oldest_first_with_maker_flag_and_fees() -> None:
    async def scenario():
        async with recorded_venue(RecordedBybit().routes(), config_for("bybit", MARKETS)) as (_, venue):
            return await venue.fills(since_ns=1_750_000_000_000_000_000)

    maker, taker = asyncio.run(scenario())
    assert (maker.client_order_id, maker.liquidity, maker.fee, maker.quantity.value) == (
        "hk-0001", Liquidity.MAKER, Money(Decimal("0.04160004"), "USDT"), Decimal("0.002"))
    assert (taker.fill_id, taker.side, taker.liquidity, taker.fee.amount) == (
        "e0cbe81d-0f18-5866-9415-cf319b5dab3b", Side.SELL, Liquidity.TAKER, Decimal("0.114422"))


def test_bybit_positions_are_asked_one_symbol_at_a_time() -> None:
    async def scenario():
        async with recorded_venue(RecordedBybit().routes(), config_for("bybit", MARKETS)) as (exchange, venue):
            return exchange, {one.instrument_id: one for one in await venue.positions()}

    exchange, positions = asyncio.run(scenario())
    assert [call.params["symbol"] for call in exchange.calls_to("GET", API + "position/list")] == MARKETS
    assert (positions[LINEAR].size_contracts, positions[LINEAR].entry_price) == (Decimal("0.002"), Decimal("104000.1"))
    assert positions["BTCUSD.BYBIT"].size_contracts == Decimal(-500)  # 500 USD short


def test_bybit_balances_are_wallet_balances() -> None:
    async def scenario():
        async with recorded_venue(RecordedBybit().routes(), config_for("bybit", MARKETS)) as (_, venue):
            return await venue.balances()

    assert [balance.money for balance in asyncio.run(scenario())] == [
        Money(Decimal("5000.4567"), "USDT"), Money(Decimal("0.5"), "BTC")]
