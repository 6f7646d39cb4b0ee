"""The asynchronous Venue over the exchange core, called from plain tests with ``asyncio.run``."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from hedgekeeper.errors import InvalidOrder, OrderNotFound
from hedgekeeper.market.events import Trade
from hedgekeeper.venues.base import Capability, Venue, supports
from hedgekeeper.venues.orders import OrderStatus, Side, TimeInForce
from hedgekeeper.venues.simulated.venue import SimulatedExchange

from venues.simulated.builders import START_NS, inverse_perpetual, linear_perpetual, make_exchange, order, snapshot

D = Decimal
PERP = linear_perpetual()


def venue_with_book() -> SimulatedExchange:
    core, _ = make_exchange([PERP, inverse_perpetual()])
    core.on_market_event(snapshot(START_NS, PERP, [(99.5, 2.0)], [(100.0, 1.0), (100.5, 4.0)]))
    return SimulatedExchange(core)


def test_simulated_exchange_is_a_venue_announcing_what_it_supports() -> None:
    venue = venue_with_book()
    assert isinstance(venue, Venue) and venue.name == "deribit"
    assert all(supports(venue, c) for c in (Capability.AMEND, Capability.FOK, Capability.FILL_STREAM))
    assert not supports(venue, Capability.SANDBOX)
    ids = [i.instrument_id for i in asyncio.run(venue.instruments())]
    assert ids == [PERP.instrument_id, inverse_perpetual().instrument_id]


def test_place_amend_cancel_and_the_venues_views() -> None:
    venue = venue_with_book()

    async def scenario() -> None:
        bought = await venue.place(order("a", PERP, Side.BUY, 2, "100.5"))
        assert bought.status is OrderStatus.FILLED
        resting = await venue.place(order("b", PERP, Side.BUY, 1, "99"))
        assert [o.client_order_id for o in await venue.open_orders(PERP.instrument_id)] == ["b"]
        assert (await venue.amend(PERP.instrument_id, "b", price=D("99.5"))).price.value == D("99.5")
        assert (await venue.cancel(PERP.instrument_id, "b")).status is OrderStatus.CANCELLED
        assert await venue.order(PERP.instrument_id, "b") != resting
        assert await venue.order(PERP.instrument_id, "never") is None
        fills = await venue.fills()
        assert [(f.price.value, f.quantity.value) for f in fills] == [(D(100), D(1)), (D("100.5"), D(1))]
        assert await venue.fills(since_ns=START_NS + 1) == []
        (position,) = await venue.positions()
        assert (position.size_contracts, position.entry_price) == (D(2), D("100.25"))
        usdc = next(b for b in await venue.balances() if b.money.currency == "USDC")
        assert usdc.venue == "deribit" and usdc.money.amount == D(1_000_000) - sum(f.fee.amount for f in fills)
        with pytest.raises(InvalidOrder):
            await venue.place(order("c", PERP, Side.BUY, 1, "100.5", TimeInForce.POST_ONLY))
        with pytest.raises(OrderNotFound):
            await venue.cancel(PERP.instrument_id, "never")

    asyncio.run(scenario())


def test_streams_yield_fills_and_the_instruments_market_data_as_the_exchange_sees_them() -> None:
    venue = venue_with_book()

    async def scenario() -> tuple[list, list, list]:
        fills, trades, books = venue.fill_stream(), venue.trade_stream(PERP.instrument_id), venue.book_stream(
            PERP.instrument_id)
        await venue.place(order("a", PERP, Side.BUY, 1, "100"))
        venue.core.on_market_event(Trade(START_NS + 1, PERP.instrument_id, 100.0, 1.0, 1))
        venue.core.on_market_event(Trade(START_NS + 2, "ETH_USDC-PERPETUAL", 2_000.0, 1.0, 1))  # not traded here
        venue.core.on_market_event(snapshot(START_NS + 3, PERP, [(99.5, 1.0)], [(101.0, 1.0)]))
        await venue.close()
        return [f async for f in fills], [t async for t in trades], [b async for b in books]

    fills, trades, books = asyncio.run(scenario())
    assert [f.client_order_id for f in fills] == ["a"]
    assert [t.ts_ns for t in trades] == [START_NS + 1]
    assert [b.ts_ns for b in books] == [START_NS + 3]


def test_two_accounts_share_one_exchange_and_trade_with_each_other() -> None:
    main = venue_with_book()
    other = SimulatedExchange(main.core, account="other")
    main.core.deposit("other", "USDC", D(1_000))

    async def scenario() -> None:
        await other.place(order("x", PERP, Side.SELL, 2, "99.5"))  # takes the public bid
        await other.place(order("y", PERP, Side.SELL, 1, "99.5"))  # rests
        await main.place(order("x", PERP, Side.BUY, 1, "99.5"))  # same id, another account: a new order
        assert [f.raw["counterparty"] for f in await other.fills()] == ["public", "main"]
        assert [p.size_contracts for p in await other.positions()] == [D(-3)]
        assert [p.size_contracts for p in await main.positions()] == [D(1)]

    asyncio.run(scenario())
