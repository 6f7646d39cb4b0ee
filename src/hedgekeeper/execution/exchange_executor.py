"""Execute hedges as orders on venues: the engine's ``BookExecutor`` for simulated and real exchanges.

For each hedge (an instrument and a signed number of contracts) the executor

1. splits it into child orders as its ``Pacing`` says (``execution/pacing.py``): at
   once, a TWAP, or the Almgren-Chriss trajectory calibrated on the book at arrival,
   lot-rounded so the slices add up to the hedge;
2. sends each slice when due as an immediate-or-cancel limit order priced
   ``protection_bps`` through the mid, so it takes what the book offers up to that
   price and never more, through the ``OrderManager`` (safety limits first, retries
   that never duplicate, every transition recorded);
3. reports every fill the venue makes for the account, as the engine books it: our
   children's fills and anything else the venue did to the account (a liquidation),
   each exactly once.

Each slice sends what brings the hedge's filled and working contracts up to the
schedule, so a slice the book could not fill within the band is made up by the
next one; what is left after the last slice is logged. The hedge stays working
(``working``) until its last child is done. The
executor drives its asynchronous venues from a private event loop, so a
synchronous engine calls it like any other executor.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from hedgekeeper.execution.order_manager import OrderManager
from hedgekeeper.execution.pacing import Pacing, TwapPacing
from hedgekeeper.execution.simulated_taker import TakerFill
from hedgekeeper.execution.venue_fills import VenueFills
from hedgekeeper.market.order_book import OrderBook
from hedgekeeper.portfolio.instruments import Instrument, InstrumentRegistry
from hedgekeeper.venues.orders import OrderRequest, OrderType, Side, TimeInForce

logger = logging.getLogger(__name__)


@dataclass
class _Parent:
    """One hedge being worked: its instrument, its schedule and its child orders."""

    instrument: Instrument
    side: Side
    arrival_mid_usd: float
    schedule: list[tuple[int, Decimal]]  # (due ns, contracts due by then in all), in time order
    children: list[str] = field(default_factory=list)  # client order ids


@dataclass
class ExchangeExecutor:
    """Send hedges to venues as sliced immediate-or-cancel orders.

    Parameters
    ----------
    orders : OrderManager holding the venues, by venue name (each instrument's ``venue``)
    registry : the instruments, by id
    books : the order books by instrument id (the engine's), for the mid at each slice
    pacing : how each hedge is cut into slices over time (default: all at once)
    protection_bps : how far through the mid a child's limit price goes, basis points
    """

    orders: OrderManager
    registry: InstrumentRegistry
    books: Mapping[str, OrderBook]
    pacing: Pacing = field(default_factory=TwapPacing)
    protection_bps: float = 50.0
    _parents: list[_Parent] = field(default_factory=list, init=False)
    _parent_of: dict[str, _Parent] = field(default_factory=dict, init=False)
    _loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop, init=False, repr=False)
    _fills: VenueFills = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._fills = VenueFills(self.orders, self.registry, self._loop)

    def execute(self, instrument: Instrument, size_contracts: float, book: OrderBook, now_ns: int
                ) -> list[TakerFill]:
        """Start working ``size_contracts`` (signed) of ``instrument``; return the fills made at once."""
        quantity = instrument.make_qty(abs(size_contracts), round_down=True).value
        if quantity < instrument.min_size or quantity == 0 or book.mid_usd is None:
            logger.warning("%s: no order for %+g contracts (below the minimum or no mid)",
                           instrument.instrument_id, size_contracts)
            return []
        side = Side.of(size_contracts)
        schedule = self.pacing.schedule(instrument, side, quantity, book, now_ns)
        due, cumulative = [], Decimal(0)
        for piece in schedule:
            cumulative += piece.size_coin
            due.append((piece.ts_ns, cumulative))
        self._parents.append(_Parent(instrument, side, book.mid_usd, due))
        return self.poll(now_ns)

    def poll(self, now_ns: int) -> list[TakerFill]:
        """Send the slices due by ``now_ns``; return the fills the venues made since the last call."""
        if any(not self.orders.orders[child].status.is_terminal for p in self._parents for child in p.children):
            self._loop.run_until_complete(self.orders.reconcile())
        for parent in self._parents:
            target = None
            while parent.schedule and parent.schedule[0][0] <= now_ns:
                target = parent.schedule.pop(0)[1]
            if target is not None:
                self._send(parent, target, now_ns)
        fills = self._fills.new(self._arrival_mid)
        self._parents = [parent for parent in self._parents if not self._done(parent)]
        return fills

    def _arrival_mid(self, client_order_id: str) -> float | None:
        parent = self._parent_of.get(client_order_id)
        return None if parent is None else parent.arrival_mid_usd

    def working(self, underlying: str) -> bool:
        """Return whether a hedge of ``underlying`` has slices to send or children working."""
        return any(parent.instrument.underlying == underlying for parent in self._parents)

    def _done(self, parent: _Parent) -> bool:
        return not parent.schedule and all(self.orders.orders[child].status.is_terminal for child in parent.children)

    def _send(self, parent: _Parent, target: Decimal, now_ns: int) -> None:
        """Send what brings the parent's filled and working contracts up to ``target``."""
        instrument = parent.instrument
        children = [self.orders.orders[child] for child in parent.children]
        committed = sum((child.filled_quantity + child.remaining_quantity for child in children), Decimal(0))
        contracts = target - committed
        book = self.books.get(instrument.instrument_id)
        mid_usd = None if book is None else book.mid_usd
        if contracts < max(instrument.min_size, instrument.lot_size) or mid_usd is None:
            if contracts > 0:
                logger.warning("%s: %s contracts not sent at %d (below the minimum or no mid)",
                               instrument.instrument_id, contracts, now_ns)
            return
        through = 1.0 + parent.side.sign * self.protection_bps * 1e-4
        request = OrderRequest(
            client_order_id=self.orders.next_client_order_id(), instrument_id=instrument.instrument_id,
            side=parent.side, quantity=instrument.make_qty(contracts, round_down=True), order_type=OrderType.LIMIT,
            price=instrument.make_price(mid_usd * through, round_down=parent.side is Side.BUY),
            time_in_force=TimeInForce.IOC,
        )
        parent.children.append(request.client_order_id)
        self._parent_of[request.client_order_id] = parent
        order = self._loop.run_until_complete(self.orders.submit(instrument.venue, request))
        if order.status.is_terminal and order.remaining_quantity == 0 and order.filled_quantity < contracts \
                and not parent.schedule:
            logger.warning("%s: %s of %s contracts left unfilled within %g bps (%s)", instrument.instrument_id,
                           contracts - order.filled_quantity, contracts, self.protection_bps,
                           order.reason or order.status.value)
