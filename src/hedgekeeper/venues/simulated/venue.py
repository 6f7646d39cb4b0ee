"""``SimulatedExchange``: the asynchronous ``Venue`` over a simulated exchange's core, for one account.

Every method wraps the synchronous ``ExchangeCore`` (``exchange.py``), which a
backtest may drive directly; several adapters can share one core, each for its
own account. ``place`` raises the refusals known when it returns (``InvalidOrder``,
``UnknownInstrument``, ``InsufficientMargin``); a refusal decided when the order
arrives after the latency is on the order (``order()``: status ``REJECTED`` and
its reason). The streams yield what the core sees from the moment they are opened.

Examples
--------
>>> import asyncio
>>> from decimal import Decimal
>>> from hedgekeeper.engine.clock import SimulatedClock
>>> from hedgekeeper.execution.fees import FeeSchedule, VenueFees
>>> from hedgekeeper.portfolio.instruments import example_instruments
>>> from hedgekeeper.venues.orders import OrderRequest, Side
>>> from hedgekeeper.venues.simulated.config import SimulatedExchangeConfig
>>> perpetual = example_instruments()[0]
>>> core = ExchangeCore(SimulatedExchangeConfig(name="deribit", balances={"BTC": Decimal(1)}), [perpetual],
...     FeeSchedule(venues={"deribit": VenueFees(taker=0.0005, maker=0.0)}), SimulatedClock(start_ns=0))
>>> venue = SimulatedExchange(core)
>>> request = OrderRequest(client_order_id="a-1", instrument_id=perpetual.instrument_id, side=Side.BUY,
...     quantity=perpetual.make_qty(10, round_down=True), price=perpetual.make_price(99_000, round_down=True))
>>> asyncio.run(venue.place(request)).status
<OrderStatus.ACKNOWLEDGED: 'acknowledged'>
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from decimal import Decimal

from hedgekeeper.market.events import BookUpdate, TopOfBook, Trade
from hedgekeeper.market.order_book import OrderBook
from hedgekeeper.portfolio.instruments import Instrument
from hedgekeeper.portfolio.positions import Balance
from hedgekeeper.venues.base import Capability, Support
from hedgekeeper.venues.orders import Fill, OrderRequest, Side, VenueOrder, VenuePosition
from hedgekeeper.venues.simulated.exchange import ExchangeCore

CAPABILITIES: Mapping[Capability, Support] = {
    Capability.AMEND: Support.SUPPORTED,
    Capability.POST_ONLY: Support.SUPPORTED,
    Capability.IOC: Support.SUPPORTED,
    Capability.FOK: Support.SUPPORTED,
    Capability.REDUCE_ONLY: Support.SUPPORTED,
    Capability.BOOK_STREAM: Support.SUPPORTED,
    Capability.TRADE_STREAM: Support.SUPPORTED,
    Capability.FILL_STREAM: Support.SUPPORTED,
    Capability.FUNDING: Support.SUPPORTED,
    Capability.SANDBOX: Support.ABSENT,
}


class SimulatedExchange:
    """The ``Venue`` of one account at a simulated exchange.

    Parameters
    ----------
    core : ExchangeCore, the exchange
    account : the account traded; None for the core's configured account
    """

    capabilities: Mapping[Capability, Support] = CAPABILITIES

    def __init__(self, core: ExchangeCore, account: str | None = None) -> None:
        self.core = core
        self.account = account or core.config.account
        self.name = core.name

    async def instruments(self) -> Sequence[Instrument]:
        """Return the tradable instruments, with their rules."""
        return list(self.core.registry)

    async def place(self, request: OrderRequest) -> VenueOrder:
        """Send ``request``; return the order as it stands (idempotent on the client order id)."""
        return self.core.submit(request, self.account)

    async def cancel(self, instrument_id: str, client_order_id: str) -> VenueOrder:
        """Send a cancel; return the order as it stands (a terminal order as it is)."""
        return self.core.request_cancel(instrument_id, client_order_id, self.account)

    async def amend(self, instrument_id: str, client_order_id: str, *, quantity: Decimal | None = None,
                    price: Decimal | None = None) -> VenueOrder:
        """Send an amend of a working order's quantity (contracts) or limit price (USD per coin)."""
        return self.core.request_amend(instrument_id, client_order_id, quantity=quantity, price=price,
                                       account=self.account)

    async def order(self, instrument_id: str, client_order_id: str) -> VenueOrder | None:
        """Return the order's view, None if the exchange never saw it."""
        return self.core.order(instrument_id, client_order_id, self.account)

    async def open_orders(self, instrument_id: str | None = None) -> Sequence[VenueOrder]:
        """Return the working orders, of one instrument or all."""
        return self.core.open_orders(instrument_id, self.account)

    async def fills(self, since_ns: int = 0) -> Sequence[Fill]:
        """Return the fills at or after ``since_ns`` (ns since the epoch), oldest first."""
        return self.core.fills(since_ns, self.account)

    async def positions(self) -> Sequence[VenuePosition]:
        """Return the open positions."""
        return self.core.positions(self.account)

    async def balances(self) -> Sequence[Balance]:
        """Return the balances, one per currency."""
        return self.core.balances(self.account)

    def book_snapshot(self, instrument_id: str) -> OrderBook:
        """Return the exchange's public book of ``instrument_id`` now, sizes in coin, without our own orders.

        It shows what the account's own trades took, which a book kept from the market
        data alone does not: what a router sees on a real venue's live feed.
        """
        instrument = self.core.registry.get(instrument_id)
        engine = self.core.book(instrument_id)
        size = float(instrument.contract_size)

        def side(orders_of: Side) -> tuple[tuple[float, float], ...]:
            levels = ((float(price), float(public)) for price, public, _ in engine.levels(orders_of) if public > 0)
            return tuple((price, public * (size / price if instrument.is_inverse else size)) for price, public in levels)

        book = OrderBook()
        book.apply(BookUpdate(self.core.clock.now_ns(), instrument_id, side(Side.BUY), side(Side.SELL), True))
        return book

    def book_stream(self, instrument_id: str) -> AsyncIterator[BookUpdate | TopOfBook]:
        """Yield the instrument's book events as the exchange takes them in."""
        return self.core.book_events.subscribe(lambda event: event.stream == instrument_id)

    def trade_stream(self, instrument_id: str) -> AsyncIterator[Trade]:
        """Yield the instrument's public trades as the exchange takes them in."""
        return self.core.trade_events.subscribe(lambda event: event.stream == instrument_id)

    def fill_stream(self) -> AsyncIterator[Fill]:
        """Yield the account's fills as they happen."""
        return self.core.fill_feed(self.account).subscribe()

    async def close(self) -> None:
        """End the exchange's streams."""
        self.core.close()
