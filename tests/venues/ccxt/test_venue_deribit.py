"""Deribit through ccxt, end to end against recorded JSON-RPC answers (docs.deribit.com, API v2).

Independent truths: Deribit's published contract specifications (a BTC future or
perpetual contract is 10 USD of face, traded in multiples of 10 USD; a BTC option
is 1 BTC, traded in multiples of 0.1), so 5 contracts are an ``amount`` of 50 USD
and a filled amount of 30 USD is 3 contracts; the recorded payloads' own numbers.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from venues.ccxt.recorded_exchange import Call, Reply, fixture
from venues.ccxt.recorded_venues import DERIBIT_API as API
from venues.ccxt.recorded_venues import RecordedDeribit
from venues.ccxt.venue_builders import config_for, instrument_of, limit_order, recorded_venue

from hedgekeeper.errors import (
    ConfigError,
    HedgekeeperError,
    InsufficientMargin,
    InvalidOrder,
    OrderNotFound,
    UnknownInstrument,
)
from hedgekeeper.portfolio.instruments import InstrumentKind, Settlement, example_instruments
from hedgekeeper.portfolio.values import Money
from hedgekeeper.venues.orders import Liquidity, OrderStatus, Side, TimeInForce

PERPETUAL = "BTC-PERPETUAL.DERIBIT"
MARKETS = ["BTC-PERPETUAL", "BTC-27JUN25", "BTC-27JUN25-110000-C"]


def test_deribit_markets_become_instruments_with_deribits_contract_rules() -> None:
    async def scenario():
        async with recorded_venue(RecordedDeribit().routes(), config_for("deribit", MARKETS)) as (_, venue):
            return {one.instrument_id: one for one in await venue.instruments()}

    instruments = asyncio.run(scenario())
    assert sorted(instruments) == sorted(f"{market}.DERIBIT" for market in MARKETS)  # ETH-PERPETUAL not asked for
    assert instruments[PERPETUAL] == example_instruments()[0]  # 10 USD contracts, 0.5 tick, lots of 1
    future = instruments["BTC-27JUN25.DERIBIT"]
    assert (future.kind, future.settlement, future.contract_size, future.tick_size) == (
        InstrumentKind.FUTURE, Settlement.INVERSE, Decimal(10), Decimal("2.5"))
    assert future.expiry_ns == 1_751_011_200_000_000_000  # 27 Jun 2025 08:00 UTC
    call = instruments["BTC-27JUN25-110000-C.DERIBIT"]
    assert (call.kind, call.settlement, call.settlement_currency, call.is_call) == (
        InstrumentKind.OPTION, Settlement.INVERSE, "BTC", True)
    assert (call.strike_usd, call.contract_size, call.lot_size, call.min_size, call.tick_size) == (
        Decimal(110_000), Decimal(1), Decimal("0.1"), Decimal("0.1"), Decimal("0.0001"))
    assert call.expiry_ns == future.expiry_ns


def test_deribit_place_sends_label_and_usd_amount_after_checking_the_label_is_free() -> None:
    deribit = RecordedDeribit()

    async def scenario():
        async with recorded_venue(deribit.routes(), config_for("deribit", MARKETS)) as (exchange, venue):
            perpetual = await instrument_of(venue, PERPETUAL)
            order = await venue.place(limit_order(perpetual, "hk-0001", Side.BUY, "5", "104000.5"))
            return exchange, order

    exchange, order = asyncio.run(scenario())
    (lookup,) = exchange.calls_to("GET", API + "private/get_order_state_by_label")
    assert lookup.params == {"currency": "BTC", "label": "hk-0001"}
    (buy,) = exchange.calls_to("GET", API + "private/buy")
    assert (buy.host, buy.params["instrument_name"], buy.params["label"]) == (
        "www.deribit.com", "BTC-PERPETUAL", "hk-0001")
    assert (buy.params["amount"], buy.params["price"], buy.params["type"]) == ("50", "104000.5", "limit")
    assert buy.headers["Authorization"].startswith("deri-hmac-sha256 id=test-key,")
    assert exchange.calls.index(lookup) < exchange.calls.index(buy)
    assert (order.client_order_id, order.venue_order_id, order.status) == (
        "hk-0001", "31523568123", OrderStatus.ACKNOWLEDGED)
    assert (order.quantity.value, order.price.value, order.filled_quantity) == (
        Decimal(5), Decimal("104000.5"), Decimal(0))
    assert order.ts_ns == 1_750_000_000_512_000_000
    assert order.raw["label"] == "hk-0001"


def test_deribit_post_only_reduce_only_option_order_sends_flags_and_coin_amount() -> None:
    async def scenario():
        async with recorded_venue(RecordedDeribit().routes(), config_for("deribit", MARKETS)) as (exchange, venue):
            call = await instrument_of(venue, "BTC-27JUN25-110000-C.DERIBIT")
            await venue.place(limit_order(call, "hk-0003", Side.BUY, "2.5", "0.0215",
                                          TimeInForce.POST_ONLY, reduce_only=True))
            return exchange

    (buy,) = asyncio.run(scenario()).calls_to("GET", API + "private/buy")
    assert (buy.params["instrument_name"], buy.params["amount"], buy.params["price"]) == (
        "BTC-27JUN25-110000-C", "2.5", "0.0215")  # 2.5 contracts of 1 BTC
    assert (buy.params["post_only"], buy.params["reject_post_only"], buy.params["reduce_only"]) == (
        "true", "true", "true")


def test_deribit_order_lookup_converts_filled_usd_to_contracts_and_unknown_label_is_none() -> None:
    deribit = RecordedDeribit()
    deribit.labels.add("hk-0001")

    async def scenario():
        async with recorded_venue(deribit.routes(), config_for("deribit", MARKETS)) as (_, venue):
            return await venue.order(PERPETUAL, "hk-0001"), await venue.order(PERPETUAL, "hk-0404")

    found, unknown = asyncio.run(scenario())
    assert unknown is None
    assert (found.status, found.filled_quantity, found.remaining_quantity) == (
        OrderStatus.PARTIALLY_FILLED, Decimal(3), Decimal(2))  # 30 of 50 USD
    assert found.average_price == Decimal("104000.5")


def test_deribit_place_of_a_known_id_returns_the_order_without_a_second_buy() -> None:
    deribit = RecordedDeribit()

    async def scenario():
        async with recorded_venue(deribit.routes(), config_for("deribit", MARKETS)) as (exchange, venue):
            perpetual = await instrument_of(venue, PERPETUAL)
            request = limit_order(perpetual, "hk-0001", Side.BUY, "5", "104000.5")
            return exchange, await venue.place(request), await venue.place(request)

    exchange, first, second = asyncio.run(scenario())
    assert second == first
    assert len(exchange.calls_to("GET", API + "private/buy")) == 1


def test_deribit_place_after_a_restart_finds_the_label_and_sends_nothing() -> None:
    deribit = RecordedDeribit()
    deribit.labels.add("hk-0001")  # bought by an earlier run

    async def scenario():
        async with recorded_venue(deribit.routes(), config_for("deribit", MARKETS)) as (exchange, venue):
            perpetual = await instrument_of(venue, PERPETUAL)
            return exchange, await venue.place(limit_order(perpetual, "hk-0001", Side.BUY, "5", "104000.5"))

    exchange, order = asyncio.run(scenario())
    assert exchange.calls_to("GET", API + "private/buy") == []
    assert (order.venue_order_id, order.filled_quantity) == ("31523568123", Decimal(3))


def test_deribit_buy_unanswered_past_the_timeout_ends_with_exactly_one_order() -> None:
    deribit = RecordedDeribit(buy_delay_s=1.0)  # takes the order, answers too late
    config = config_for("deribit", MARKETS, request_timeout_s=0.3)

    async def scenario():
        async with recorded_venue(deribit.routes(), config) as (exchange, venue):
            perpetual = await instrument_of(venue, PERPETUAL)
            return exchange, await venue.place(limit_order(perpetual, "hk-0001", Side.BUY, "5", "104000.5"))

    exchange, order = asyncio.run(scenario())
    assert len(exchange.calls_to("GET", API + "private/buy")) == 1
    assert deribit.labels == {"hk-0001"}
    assert (order.client_order_id, order.venue_order_id) == ("hk-0001", "31523568123")
    assert len(exchange.calls_to("GET", API + "private/get_order_state_by_label")) == 2  # before, and after


def test_deribit_not_enough_funds_is_insufficient_margin() -> None:
    rejected = Reply(fixture("deribit", "error_not_enough_funds"), status=400)

    async def scenario():
        async with recorded_venue(RecordedDeribit(buy_reply=rejected).routes(),
                                  config_for("deribit", MARKETS)) as (_, venue):
            perpetual = await instrument_of(venue, PERPETUAL)
            await venue.place(limit_order(perpetual, "hk-0001", Side.BUY, "5", "104000.5"))

    with pytest.raises(InsufficientMargin, match="10009"):
        asyncio.run(scenario())


def test_deribit_cancel_and_amend_address_the_venue_order_id() -> None:
    deribit = RecordedDeribit()
    deribit.labels.add("hk-0001")

    async def scenario():
        async with recorded_venue(deribit.routes(), config_for("deribit", MARKETS)) as (exchange, venue):
            amended = await venue.amend(PERPETUAL, "hk-0001", quantity=Decimal(7), price=Decimal("103500"))
            cancelled = await venue.cancel(PERPETUAL, "hk-0001")
            return exchange, amended, cancelled

    exchange, amended, cancelled = asyncio.run(scenario())
    (edit,) = exchange.calls_to("GET", API + "private/edit")
    assert (edit.params["order_id"], edit.params["amount"], edit.params["price"]) == ("31523568123", "70", "103500")
    assert (amended.quantity.value, amended.price.value, amended.status) == (
        Decimal(7), Decimal(103_500), OrderStatus.PARTIALLY_FILLED)
    (cancel,) = exchange.calls_to("GET", API + "private/cancel")
    assert cancel.params == {"order_id": "31523568123"}
    assert (cancelled.status, cancelled.filled_quantity, cancelled.remaining_quantity) == (
        OrderStatus.CANCELLED, Decimal(3), Decimal(0))


def test_deribit_open_orders_include_orders_placed_elsewhere() -> None:
    async def scenario():
        async with recorded_venue(RecordedDeribit().routes(), config_for("deribit", MARKETS)) as (_, venue):
            return await venue.open_orders()

    ours, web = asyncio.run(scenario())
    assert (ours.client_order_id, ours.quantity.value, ours.status) == (
        "hk-0001", Decimal(5), OrderStatus.PARTIALLY_FILLED)
    assert (web.client_order_id, web.side, web.quantity.value, web.time_in_force) == (
        "", Side.SELL, Decimal(2), TimeInForce.POST_ONLY)


def test_deribit_fills_of_every_instrument_oldest_first_in_contracts_with_exact_fees() -> None:
    async def scenario():
        async with recorded_venue(RecordedDeribit().routes(), config_for("deribit", MARKETS)) as (exchange, venue):
            return exchange, await venue.fills(since_ns=1_750_000_000_000_000_001)

    exchange, fills = asyncio.run(scenario())
    assert [fill.fill_id for fill in fills] == ["315235655", "315235681", "315235702"]
    call_fill, maker, taker = fills
    assert (call_fill.instrument_id, call_fill.quantity.value, call_fill.price.value) == (
        "BTC-27JUN25-110000-C.DERIBIT", Decimal("0.5"), Decimal("0.0215"))
    assert (call_fill.fee, call_fill.client_order_id) == (Money(Decimal("0.00015"), "BTC"), "hk-0002")
    assert (maker.quantity.value, maker.liquidity, maker.fee.amount, maker.side) == (
        Decimal(3), Liquidity.MAKER, Decimal(0), Side.BUY)
    assert (taker.liquidity, taker.fee, taker.ts_ns) == (
        Liquidity.TAKER, Money(Decimal("0.00000014"), "BTC"), 1_750_000_004_500_000_000)
    queries = exchange.calls_to("GET", API + "private/get_user_trades_by_instrument_and_time")
    assert {query.params["instrument_name"] for query in queries} == set(MARKETS)
    assert {(query.params["start_timestamp"], query.params["sorting"]) for query in queries} == {
        ("1750000000000", "asc")}


def test_deribit_positions_are_signed_contracts_of_configured_instruments() -> None:
    async def scenario():
        async with recorded_venue(RecordedDeribit().routes(), config_for("deribit", MARKETS)) as (_, venue):
            return {one.instrument_id: one for one in await venue.positions()}

    positions = asyncio.run(scenario())
    assert sorted(positions) == sorted(f"{market}.DERIBIT" for market in MARKETS)  # ETH-PERPETUAL not configured
    assert (positions[PERPETUAL].size_contracts, positions[PERPETUAL].entry_price) == (
        Decimal(3), Decimal("104000.5"))  # 30 USD long
    assert positions["BTC-27JUN25.DERIBIT"].size_contracts == Decimal(-2)  # 20 USD short
    assert positions["BTC-27JUN25-110000-C.DERIBIT"].size_contracts == Decimal("0.5")


def test_deribit_balances_are_cash_balances_not_equity() -> None:
    async def scenario():
        async with recorded_venue(RecordedDeribit().routes(), config_for("deribit", MARKETS)) as (_, venue):
            return await venue.balances()

    balances = asyncio.run(scenario())
    assert [balance.money for balance in balances] == [
        Money(Decimal("1.25"), "BTC"), Money(Decimal("1500.123456"), "USDC")]  # ETH is empty
    assert {balance.venue for balance in balances} == {"deribit"}


def test_deribit_fills_page_forward_past_a_full_page_without_duplicates() -> None:
    template = fixture("deribit", "get_user_trades_by_instrument_and_time_perpetual")["result"]["trades"][0]
    trades = [dict(template, trade_id=str(400_000 + n), timestamp=1_750_000_000_000 + n // 3) for n in range(1500)]

    def ascending_pages(call: Call) -> Reply:
        if call.params["instrument_name"] != "BTC-PERPETUAL":
            return RecordedDeribit.trades(call)
        start_ms, count = int(call.params["start_timestamp"]), int(call.params["count"])
        page = [trade for trade in trades if trade["timestamp"] >= start_ms][:count]
        return Reply({"jsonrpc": "2.0", "result": {"trades": page, "has_more": len(page) == count}, "testnet": False})

    routes = RecordedDeribit().routes()
    routes["GET", API + "private/get_user_trades_by_instrument_and_time"] = ascending_pages

    async def scenario():
        async with recorded_venue(routes, config_for("deribit", MARKETS)) as (exchange, venue):
            return exchange, await venue.fills(since_ns=1_750_000_000_000_000_000)

    exchange, fills = asyncio.run(scenario())
    perpetual_fills = [fill.fill_id for fill in fills if fill.instrument_id == PERPETUAL]
    assert sorted(perpetual_fills) == sorted(trade["trade_id"] for trade in trades)  # all, once each
    queries = exchange.calls_to("GET", API + "private/get_user_trades_by_instrument_and_time")
    starts = [one.params["start_timestamp"] for one in queries if one.params["instrument_name"] == "BTC-PERPETUAL"]
    assert starts == ["1750000000000", str(1_750_000_000_000 + 999 // 3)]  # page 2 starts at the last time seen


def test_deribit_venue_refuses_bad_requests_before_sending_them() -> None:
    deribit = RecordedDeribit()
    deribit.labels.add("hk-0001")

    async def scenario():
        async with recorded_venue(deribit.routes(), config_for("deribit", MARKETS)) as (exchange, venue):
            perpetual = await instrument_of(venue, PERPETUAL)
            call = await instrument_of(venue, "BTC-27JUN25-110000-C.DERIBIT")
            await venue.place(limit_order(perpetual, "hk-0001", Side.BUY, "5", "104000.5"))
            outcomes = []
            for attempt in (
                lambda: venue.place(limit_order(call, "hk-0001", Side.BUY, "1", "0.02")),  # id taken on the perpetual
                lambda: venue.amend(PERPETUAL, "hk-0001", price=Decimal("104000.25")),  # off the 0.5 tick
                lambda: venue.amend(PERPETUAL, "hk-0001"),  # nothing to change
                lambda: venue.cancel(PERPETUAL, "hk-0404"),  # never placed
                lambda: venue.order("BTC-PERPETUAL.DERIBT", "hk-0001"),  # misspelt instrument
            ):
                with pytest.raises(HedgekeeperError) as raised:
                    await attempt()
                outcomes.append(type(raised.value))
            return exchange, outcomes

    exchange, outcomes = asyncio.run(scenario())
    assert outcomes == [InvalidOrder, InvalidOrder, InvalidOrder, OrderNotFound, UnknownInstrument]
    assert exchange.calls_to("GET", API + "private/edit") == exchange.calls_to("GET", API + "private/cancel") == []


def test_deribit_market_id_missing_from_the_venue_is_a_config_error_naming_it() -> None:
    async def scenario():
        async with recorded_venue(RecordedDeribit().routes(),
                                  config_for("deribit", ["BTC-PERPETUAL", "BTC-PERPETUALL"])) as (_, venue):
            await venue.instruments()

    with pytest.raises(ConfigError, match="deribit lists no market BTC-PERPETUALL"):
        asyncio.run(scenario())
