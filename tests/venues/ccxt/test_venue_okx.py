"""OKX through ccxt, end to end against recorded v5 REST answers (www.okx.com/docs-v5).

Independent truths: OKX's published contract values (BTC-USDT-SWAP 0.01 BTC per
contract in lots of 0.01, BTC-USD-SWAP 100 USD per contract, BTC options 0.01 BTC),
sizes sent in contracts (``sz``), its fee sign (negative is paid), its error codes
(51603 order does not exist, 51016 duplicated clOrdId, 51008 insufficient margin)
and the recorded payloads' own numbers.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from venues.ccxt.recorded_exchange import Reply, fixture
from venues.ccxt.recorded_venues import OKX_API as API
from venues.ccxt.recorded_venues import RecordedOkx
from venues.ccxt.venue_builders import config_for, instrument_of, limit_order, recorded_venue

from hedgekeeper.errors import InsufficientMargin, InvalidOrder
from hedgekeeper.portfolio.instruments import InstrumentKind, Settlement
from hedgekeeper.portfolio.values import Money
from hedgekeeper.venues.orders import Liquidity, OrderStatus, Side, TimeInForce

LINEAR = "BTC-USDT-SWAP.OKX"
MARKETS = ["BTC-USDT-SWAP", "BTC-USD-SWAP", "BTC-USDT-250627", "BTC-USD-250627-110000-C"]


def place_linear(okx: RecordedOkx, client_order_id: str = "hk0001", **config_overrides):
    """Return (exchange, order) after placing 3 contracts of BTC-USDT-SWAP at 104,000.1."""
    async def scenario():
        async with recorded_venue(okx.routes(), config_for("okx", MARKETS, **config_overrides)) as (exchange, venue):
            swap = await instrument_of(venue, LINEAR)
            return exchange, await venue.place(limit_order(swap, client_order_id, Side.BUY, "3", "104000.1"))

    return asyncio.run(scenario())


def test_okx_markets_become_instruments_with_okx_contract_values() -> None:
    async def scenario():
        async with recorded_venue(RecordedOkx().routes(), config_for("okx", MARKETS)) as (_, venue):
            return {one.instrument_id: one for one in await venue.instruments()}

    instruments = asyncio.run(scenario())
    assert sorted(instruments) == sorted(f"{market}.OKX" for market in MARKETS)
    linear = instruments[LINEAR]
    assert (linear.kind, linear.settlement, linear.settlement_currency) == (
        InstrumentKind.PERPETUAL, Settlement.LINEAR, "USDT")
    assert (linear.contract_size, linear.lot_size, linear.min_size, linear.tick_size) == (
        Decimal("0.01"), Decimal("0.01"), Decimal("0.01"), Decimal("0.1"))
    inverse = instruments["BTC-USD-SWAP.OKX"]
    assert (inverse.settlement, inverse.contract_size, inverse.contract_unit) == (
        Settlement.INVERSE, Decimal(100), "USD")
    call = instruments["BTC-USD-250627-110000-C.OKX"]
    assert (call.kind, call.settlement, call.is_call, call.strike_usd, call.contract_size, call.tick_size) == (
        InstrumentKind.OPTION, Settlement.INVERSE, True, Decimal(110_000), Decimal("0.01"), Decimal("0.0005"))
    assert call.expiry_ns == instruments["BTC-USDT-250627.OKX"].expiry_ns == 1_751_011_200_000_000_000


def test_okx_place_sends_cl_ord_id_and_contracts_then_reads_the_ids_only_answer() -> None:
    exchange, order = place_linear(RecordedOkx())
    (placed,) = exchange.calls_to("POST", API + "trade/order")
    assert (placed.params["clOrdId"], placed.params["instId"], placed.params["sz"], placed.params["px"]) == (
        "hk0001", "BTC-USDT-SWAP", "3", "104000.1")
    assert (placed.params["ordType"], placed.params["side"], placed.params["tdMode"]) == ("limit", "buy", "cross")
    assert (placed.headers["OK-ACCESS-KEY"], placed.headers["OK-ACCESS-PASSPHRASE"]) == ("test-key", "test-passphrase")
    assert (order.client_order_id, order.venue_order_id, order.status) == (
        "hk0001", "2510789768709120", OrderStatus.ACKNOWLEDGED)
    assert (order.quantity.value, order.price.value, order.side) == (Decimal(3), Decimal("104000.1"), Side.BUY)


@pytest.mark.parametrize(("time_in_force", "order_type"), [(TimeInForce.IOC, "ioc"), (TimeInForce.FOK, "fok"),
                                                           (TimeInForce.POST_ONLY, "post_only")])
def test_okx_time_in_force_is_the_order_type_and_reduce_only_a_flag(time_in_force: TimeInForce,
                                                                   order_type: str) -> None:
    async def scenario():
        async with recorded_venue(RecordedOkx().routes(), config_for("okx", MARKETS)) as (exchange, venue):
            swap = await instrument_of(venue, LINEAR)
            await venue.place(limit_order(swap, "hk0001", Side.SELL, "3", "104000.1", time_in_force, reduce_only=True))
            return exchange

    (placed,) = asyncio.run(scenario()).calls_to("POST", API + "trade/order")
    assert (placed.params["ordType"], placed.params["reduceOnly"]) == (order_type, True)


def test_okx_refuses_a_client_id_with_a_dash_before_sending() -> None:
    async def scenario():
        async with recorded_venue(RecordedOkx().routes(), config_for("okx", MARKETS)) as (exchange, venue):
            swap = await instrument_of(venue, LINEAR)
            try:
                await venue.place(limit_order(swap, "hk-0001", Side.BUY, "3", "104000.1"))
            finally:
                assert exchange.calls_to("POST", API + "trade/order") == []

    with pytest.raises(InvalidOrder, match="okx refuses client order id 'hk-0001'"):
        asyncio.run(scenario())


def test_okx_order_lookup_by_cl_ord_id_and_unknown_id_is_none() -> None:
    okx = RecordedOkx()
    okx.states["hk0001"] = "trade_order_partially_filled"

    async def scenario():
        async with recorded_venue(okx.routes(), config_for("okx", MARKETS)) as (_, venue):
            return await venue.order(LINEAR, "hk0001"), await venue.order(LINEAR, "hk0404")

    found, unknown = asyncio.run(scenario())
    assert unknown is None  # 51603 Order does not exist
    assert (found.status, found.filled_quantity, found.remaining_quantity, found.average_price) == (
        OrderStatus.PARTIALLY_FILLED, Decimal(2), Decimal(1), Decimal("104000.1"))


def test_okx_duplicate_cl_ord_id_after_a_restart_returns_the_existing_order() -> None:
    okx = RecordedOkx()
    okx.states["hk0001"] = "trade_order_partially_filled"
    exchange, order = place_linear(okx)
    assert len(exchange.calls_to("POST", API + "trade/order")) == 1  # refused with 51016
    assert (order.venue_order_id, order.filled_quantity) == ("2510789768709120", Decimal(2))


def test_okx_place_unanswered_past_the_timeout_ends_with_exactly_one_order() -> None:
    okx = RecordedOkx(place_delay_s=1.0)
    exchange, order = place_linear(okx, request_timeout_s=0.3)
    assert len(exchange.calls_to("POST", API + "trade/order")) == 1
    assert list(okx.states) == ["hk0001"]
    assert (order.venue_order_id, order.status) == ("2510789768709120", OrderStatus.PARTIALLY_FILLED)


def test_okx_insufficient_margin_is_insufficient_margin() -> None:
    with pytest.raises(InsufficientMargin, match="51008"):
        place_linear(RecordedOkx(place_reply=Reply(fixture("okx", "error_insufficient_margin"))))


def test_okx_cancel_and_amend_answers_are_completed_by_a_lookup() -> None:
    okx = RecordedOkx()
    okx.states["hk0001"] = "trade_order_partially_filled"

    async def scenario():
        async with recorded_venue(okx.routes(), config_for("okx", MARKETS)) as (exchange, venue):
            amended = await venue.amend(LINEAR, "hk0001", quantity=Decimal(5), price=Decimal("103950"))
            cancelled = await venue.cancel(LINEAR, "hk0001")
            return exchange, amended, cancelled

    exchange, amended, cancelled = asyncio.run(scenario())
    (amend,) = exchange.calls_to("POST", API + "trade/amend-order")
    assert (amend.params["ordId"], amend.params["newSz"], amend.params["newPx"]) == ("2510789768709120", "5", "103950")
    assert (amended.quantity.value, amended.price.value, amended.status) == (
        Decimal(5), Decimal(103_950), OrderStatus.PARTIALLY_FILLED)
    (cancel,) = exchange.calls_to("POST", API + "trade/cancel-order")
    assert (cancel.params["ordId"], cancel.params["instId"]) == ("2510789768709120", "BTC-USDT-SWAP")
    assert (cancelled.status, cancelled.filled_quantity) == (OrderStatus.CANCELLED, Decimal(2))


def test_okx_open_orders_read_post_only_order_type() -> None:
    async def scenario():
        async with recorded_venue(RecordedOkx().routes(), config_for("okx", MARKETS)) as (_, venue):
            return await venue.open_orders()

    ours, other = asyncio.run(scenario())
    assert (ours.client_order_id, ours.status) == ("hk0001", OrderStatus.PARTIALLY_FILLED)
    assert (other.client_order_id, other.side, other.quantity.value, other.time_in_force, other.status) == (
        "", Side.SELL, Decimal(10), TimeInForce.POST_ONLY, OrderStatus.ACKNOWLEDGED)


def test_okx_fills_flip_okx_fee_sign_to_paid_positive() -> None:
    async def scenario():
        async with recorded_venue(RecordedOkx().routes(), config_for("okx", MARKETS)) as (_, venue):
            return await venue.fills(since_ns=1_750_000_000_000_000_000)

    maker, taker = asyncio.run(scenario())
    assert (maker.fill_id, maker.client_order_id, maker.liquidity, maker.quantity.value) == (
        "1418906", "hk0001", Liquidity.MAKER, Decimal(2))
    assert maker.fee == Money(Decimal("0.4160004"), "USDT")  # OKX's -0.4160004: paid
    assert (taker.side, taker.liquidity, taker.fee, taker.price.value) == (
        Side.SELL, Liquidity.TAKER, Money(Decimal("0.5201"), "USDT"), Decimal(104_020))


def test_okx_positions_are_signed_contracts() -> None:
    async def scenario():
        async with recorded_venue(RecordedOkx().routes(), config_for("okx", MARKETS)) as (exchange, venue):
            return exchange, {one.instrument_id: one for one in await venue.positions()}

    exchange, positions = asyncio.run(scenario())
    assert (positions[LINEAR].size_contracts, positions[LINEAR].entry_price) == (Decimal(2), Decimal("104000.1"))
    assert positions["BTC-USD-SWAP.OKX"].size_contracts == Decimal(-5)  # 500 USD short
    assert len(exchange.calls_to("GET", API + "account/positions")) == 1


def test_okx_balances_are_cash_balances() -> None:
    async def scenario():
        async with recorded_venue(RecordedOkx().routes(), config_for("okx", MARKETS)) as (_, venue):
            return await venue.balances()

    assert [balance.money for balance in asyncio.run(scenario())] == [
        Money(Decimal("5000.4567"), "USDT"), Money(Decimal("0.5"), "BTC")]
