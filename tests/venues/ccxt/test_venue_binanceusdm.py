"""Binance USD-M futures through ccxt, end to end against recorded fapi answers.

Independent truths: Binance's published BTCUSDT rules (tick 0.10 USDT, step and
minimum 0.001 BTC, sizes in BTC: a contract of 1 BTC traded in lots of 0.001), its
error codes (-2013 order does not exist, -4116 client
order id duplicated, -2019 margin insufficient, -2011 unknown order, -1003 too many
requests) and the recorded payloads' own numbers.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from venues.ccxt.recorded_venues import BINANCE_ORDER as ORDER
from venues.ccxt.recorded_venues import RecordedBinance, binance_error
from venues.ccxt.venue_builders import config_for, instrument_of, limit_order, recorded_venue

from hedgekeeper.errors import InsufficientMargin, RateLimited, RequestTimeout
from hedgekeeper.portfolio.instruments import InstrumentKind, Settlement
from hedgekeeper.portfolio.values import Money
from hedgekeeper.venues.orders import Liquidity, OrderStatus, Side, TimeInForce

PERPETUAL = "BTCUSDT.BINANCE"
MARKETS = ["BTCUSDT", "BTCUSDT_250627"]


def place_perpetual(binance: RecordedBinance, client_order_id: str = "hk-0001", **config_overrides):
    """Return (exchange, order or raised error) after placing 0.003 BTC at 104,000.1 on a fresh venue."""
    async def scenario():
        config = config_for("binanceusdm", MARKETS, **config_overrides)
        async with recorded_venue(binance.routes(), config) as (exchange, venue):
            perpetual = await instrument_of(venue, PERPETUAL)
            return exchange, await venue.place(limit_order(perpetual, client_order_id, Side.BUY, "0.003", "104000.1"))

    return asyncio.run(scenario())


def test_binance_markets_become_linear_instruments_in_coin() -> None:
    async def scenario():
        async with recorded_venue(RecordedBinance().routes(), config_for("binanceusdm", MARKETS)) as (_, venue):
            return {one.instrument_id: one for one in await venue.instruments()}

    instruments = asyncio.run(scenario())
    assert sorted(instruments) == ["BTCUSDT.BINANCE", "BTCUSDT_250627.BINANCE"]  # ETHUSDT not asked for
    perpetual = instruments[PERPETUAL]
    assert (perpetual.kind, perpetual.settlement, perpetual.settlement_currency, perpetual.venue) == (
        InstrumentKind.PERPETUAL, Settlement.LINEAR, "USDT", "binance")
    assert (perpetual.contract_size, perpetual.tick_size, perpetual.lot_size, perpetual.min_size) == (
        Decimal(1), Decimal("0.1"), Decimal("0.001"), Decimal("0.001"))
    assert perpetual.expiry_ns is None
    assert instruments["BTCUSDT_250627.BINANCE"].expiry_ns == 1_751_011_200_000_000_000


def test_binance_place_sends_new_client_order_id_and_coin_quantity_signed() -> None:
    exchange, order = place_perpetual(RecordedBinance())
    (create,) = exchange.calls_to("POST", ORDER)
    assert (create.host, create.params["newClientOrderId"], create.params["symbol"]) == (
        "fapi.binance.com", "hk-0001", "BTCUSDT")
    assert (create.params["side"], create.params["type"], create.params["timeInForce"]) == ("BUY", "LIMIT", "GTC")
    assert (create.params["quantity"], create.params["price"]) == ("0.003", "104000.1")
    assert create.headers["X-MBX-APIKEY"] == "test-key" and len(create.params["signature"]) == 64
    assert exchange.calls_to("GET", ORDER) == []  # the venue refuses duplicates itself: no look first
    assert (order.client_order_id, order.venue_order_id, order.status, order.quantity.value) == (
        "hk-0001", "4611875134427365377", OrderStatus.ACKNOWLEDGED, Decimal("0.003"))


@pytest.mark.parametrize(("time_in_force", "sent"), [(TimeInForce.IOC, "IOC"), (TimeInForce.FOK, "FOK"),
                                                      (TimeInForce.POST_ONLY, "GTX")])
def test_binance_time_in_force_and_reduce_only_reach_the_order(time_in_force: TimeInForce, sent: str) -> None:
    async def scenario():
        async with recorded_venue(RecordedBinance().routes(), config_for("binanceusdm", MARKETS)) as (exchange, venue):
            perpetual = await instrument_of(venue, PERPETUAL)
            await venue.place(limit_order(perpetual, "hk-0001", Side.SELL, "0.003", "104000.1", time_in_force,
                                          reduce_only=True))
            return exchange

    (create,) = asyncio.run(scenario()).calls_to("POST", ORDER)
    assert (create.params["timeInForce"], create.params["reduceOnly"], create.params["side"]) == (sent, "true", "SELL")


def test_binance_order_lookup_by_client_id_and_unknown_id_is_none() -> None:
    binance = RecordedBinance()
    binance.states["hk-0001"] = "order_partially_filled"

    async def scenario():
        async with recorded_venue(binance.routes(), config_for("binanceusdm", MARKETS)) as (exchange, venue):
            return exchange, await venue.order(PERPETUAL, "hk-0001"), await venue.order(PERPETUAL, "hk-0404")

    exchange, found, unknown = asyncio.run(scenario())
    assert unknown is None  # -2013 Order does not exist
    assert [call.params["origClientOrderId"] for call in exchange.calls_to("GET", ORDER)] == ["hk-0001", "hk-0404"]
    assert (found.status, found.filled_quantity, found.average_price) == (
        OrderStatus.PARTIALLY_FILLED, Decimal("0.002"), Decimal("104000.1"))


def test_binance_duplicate_client_id_after_a_restart_returns_the_existing_order() -> None:
    binance = RecordedBinance()
    binance.states["hk-0001"] = "order_partially_filled"  # placed by an earlier run
    exchange, order = place_perpetual(binance)
    assert len(exchange.calls_to("POST", ORDER)) == 1  # refused with -4116
    assert (order.client_order_id, order.filled_quantity) == ("hk-0001", Decimal("0.002"))


def test_binance_create_unanswered_past_the_timeout_ends_with_exactly_one_order() -> None:
    binance = RecordedBinance(create_delay_s=1.0)  # takes the order, answers too late
    exchange, order = place_perpetual(binance, request_timeout_s=0.3)
    assert len(exchange.calls_to("POST", ORDER)) == 1
    assert list(binance.states) == ["hk-0001"]
    assert (order.client_order_id, order.venue_order_id) == ("hk-0001", "4611875134427365377")


def test_binance_create_lost_in_transit_is_sent_again_once_certainly_absent() -> None:
    binance = RecordedBinance(create_delay_s=1.0, lost_creates=1)
    exchange, order = place_perpetual(binance, request_timeout_s=0.3)
    assert len(exchange.calls_to("POST", ORDER)) == 2
    assert list(binance.states) == ["hk-0001"]  # one order on the venue
    creates = exchange.calls_to("POST", ORDER)
    assert creates[0].params["newClientOrderId"] == creates[1].params["newClientOrderId"] == "hk-0001"
    lookup = exchange.calls_to("GET", ORDER)[0]
    assert exchange.calls.index(creates[0]) < exchange.calls.index(lookup) < exchange.calls.index(creates[1])
    assert order.venue_order_id == "4611875134427365377"


def test_binance_margin_insufficient_is_insufficient_margin() -> None:
    with pytest.raises(InsufficientMargin, match="-2019"):
        place_perpetual(RecordedBinance(create_reply=binance_error("error_margin_insufficient")))


def test_binance_too_many_requests_is_retried_then_rate_limited() -> None:
    routes = RecordedBinance().routes()
    routes["GET", "/fapi/v1/openOrders"] = lambda call: binance_error("error_too_many_requests", status=429)

    async def scenario():
        async with recorded_venue(routes, config_for("binanceusdm", MARKETS, max_retries=2)) as (exchange, venue):
            with pytest.raises(RateLimited, match="after 3 attempts") as raised:
                await venue.open_orders(PERPETUAL)
            return exchange, raised.value

    exchange, refusal = asyncio.run(scenario())
    assert len(exchange.calls_to("GET", "/fapi/v1/openOrders")) == 3
    assert "-1003" in str(refusal)


def test_binance_cancel_and_amend_address_the_venue_order_id() -> None:
    binance = RecordedBinance()
    binance.states["hk-0001"] = "order_partially_filled"

    async def scenario():
        async with recorded_venue(binance.routes(), config_for("binanceusdm", MARKETS)) as (exchange, venue):
            amended = await venue.amend(PERPETUAL, "hk-0001", quantity=Decimal("0.005"), price=Decimal("103950"))
            cancelled = await venue.cancel(PERPETUAL, "hk-0001")
            return exchange, amended, cancelled

    exchange, amended, cancelled = asyncio.run(scenario())
    (modify,) = exchange.calls_to("PUT", ORDER)
    assert (modify.params["orderId"], modify.params["quantity"], modify.params["price"], modify.params["side"]) == (
        "4611875134427365377", "0.005", "103950", "BUY")
    assert (amended.quantity.value, amended.price.value) == (Decimal("0.005"), Decimal(103_950))
    (cancel,) = exchange.calls_to("DELETE", ORDER)
    assert (cancel.params["orderId"], cancel.params["symbol"]) == ("4611875134427365377", "BTCUSDT")
    assert (cancelled.status, cancelled.filled_quantity) == (OrderStatus.CANCELLED, Decimal("0.002"))


def test_binance_cancel_of_an_order_that_filled_meanwhile_returns_it_filled() -> None:
    binance = RecordedBinance()
    binance.states["hk-0001"] = "order_partially_filled"

    async def scenario():
        async with recorded_venue(binance.routes(), config_for("binanceusdm", MARKETS)) as (exchange, venue):
            await venue.order(PERPETUAL, "hk-0001")  # seen working
            binance.states["hk-0001"] = "order_filled"  # then it fills
            return exchange, await venue.cancel(PERPETUAL, "hk-0001")

    exchange, order = asyncio.run(scenario())
    assert len(exchange.calls_to("DELETE", ORDER)) == 1  # refused: -2011 Unknown order sent
    assert (order.status, order.filled_quantity) == (OrderStatus.FILLED, Decimal("0.003"))


def test_binance_open_orders_read_post_only_as_gtx() -> None:
    async def scenario():
        async with recorded_venue(RecordedBinance().routes(), config_for("binanceusdm", MARKETS)) as (_, venue):
            return await venue.open_orders(PERPETUAL)

    ours, web = asyncio.run(scenario())
    assert (ours.client_order_id, ours.status, ours.filled_quantity) == (
        "hk-0001", OrderStatus.PARTIALLY_FILLED, Decimal("0.002"))
    assert (web.side, web.quantity.value, web.time_in_force, web.status) == (
        Side.SELL, Decimal("0.01"), TimeInForce.POST_ONLY, OrderStatus.ACKNOWLEDGED)


def test_binance_fills_carry_the_client_id_of_orders_the_venue_has_seen() -> None:
    binance = RecordedBinance()
    binance.states["hk-0001"] = "order_partially_filled"

    async def scenario():
        async with recorded_venue(binance.routes(), config_for("binanceusdm", MARKETS)) as (exchange, venue):
            await venue.order(PERPETUAL, "hk-0001")
            return exchange, await venue.fills(since_ns=1_750_000_000_000_000_000)

    exchange, fills = asyncio.run(scenario())
    ours, other = fills
    assert (ours.fill_id, ours.client_order_id, ours.liquidity, ours.fee) == (
        "5832601427", "hk-0001", Liquidity.MAKER, Money(Decimal("0.04160004"), "USDT"))
    assert (ours.quantity.value, ours.price.value, ours.ts_ns) == (
        Decimal("0.002"), Decimal("104000.1"), 1_750_000_003_100_000_000)
    assert (other.client_order_id, other.side, other.liquidity) == ("", Side.SELL, Liquidity.TAKER)
    queries = [query.params for query in exchange.calls_to("GET", "/fapi/v1/userTrades")]
    assert [(query["symbol"], query.get("endTime")) for query in queries] == [
        ("BTCUSDT", None), ("BTCUSDT", "1750000003099"), ("BTCUSDT_250627", None)]  # ccxt pages backwards


def test_binance_positions_are_signed_coin_amounts() -> None:
    async def scenario():
        async with recorded_venue(RecordedBinance().routes(), config_for("binanceusdm", MARKETS)) as (_, venue):
            return {one.instrument_id: one for one in await venue.positions()}

    positions = asyncio.run(scenario())
    assert (positions[PERPETUAL].size_contracts, positions[PERPETUAL].entry_price) == (
        Decimal("0.002"), Decimal("104000.1"))
    assert positions["BTCUSDT_250627.BINANCE"].size_contracts == Decimal("-0.01")


def test_binance_balances_are_wallet_balances() -> None:
    async def scenario():
        async with recorded_venue(RecordedBinance().routes(), config_for("binanceusdm", MARKETS)) as (_, venue):
            return await venue.balances()

    assert [balance.money for balance in asyncio.run(scenario())] == [
        Money(Decimal("10000.12345678"), "USDT"), Money(Decimal("250.5"), "USDC")]


def test_binance_creates_lost_every_time_end_in_request_timeout_after_max_retries() -> None:
    binance = RecordedBinance(create_delay_s=1.0, lost_creates=10)
    with pytest.raises(RequestTimeout, match="binanceusdm create_order BTCUSDT hk-0001"):
        place_perpetual(binance, request_timeout_s=0.2, max_retries=1)
    assert binance.states == {}  # nothing reached the venue, nothing was left behind
    assert binance.lost_creates == 8  # the first send and one more
