"""Execute hedges as orders on venues: the engine's ``BookExecutor`` for simulated and real exchanges.

For each hedge (an instrument and a signed number of contracts) the executor

1. splits it into child orders as its ``Pacing`` says (``execution/pacing.py``): at
   once, a TWAP, or the Almgren-Chriss trajectory calibrated on the book at arrival,
   lot-rounded so the slices add up to the hedge;
2. sends each slice when due as an immediate-or-cancel limit order priced
   ``protection_bps`` through the mid, so it takes what the book offers up to that
   price and never more, through the ``OrderManager`` (safety limits first, retries
   that never duplicate, every transition recorded). With ``passive_ns`` > 0 a slice
   first rests as a post-only order at the best price of its own side (the bid for
   a buy), earning the maker fee if the market comes to it; ``passive_ns`` later the
   part still unfilled is cancelled and taken with an immediate-or-cancel order, so
   the hedge never falls more than one slice behind its schedule;
3. reports every fill the venue makes for the account, as the engine books it: our
   children's fills and anything else the venue did to the account (a liquidation),
   each exactly once.

The venues are asked for the state of working orders and for fills at most every
``poll_interval_ns`` (a real venue answers each by a REST request under a rate limit;
an in-process one costs nothing, so 0 asks on every poll); slices due go out on time
either way. The fills of our own children that the order manager already holds (it
learns them with each answer about an order: placing, cancelling, reconciling) are
reported on every poll without asking anyone, so a hedge is never done before its
fills are reported; the askings catch the rest (fills of resting orders, a
liquidation). With ``fill_stream`` on, a venue that pushes the account's fills on a
stream (``Capability.FILL_STREAM``) has them taken from it on every poll instead, and
is asked by REST only while its stream is down, just after it (re)opens, and, as a
safety net, every ``fill_check_interval_ns`` (``execution/streamed_fills.py``); the
other venues are asked as before.

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

from hedgekeeper.execution.fill_streams import FillStreams
from hedgekeeper.execution.order_manager import OrderManager
from hedgekeeper.execution.order_state import ManagedOrder
from hedgekeeper.execution.pacing import Pacing, TwapPacing
from hedgekeeper.execution.simulated_taker import TakerFill
from hedgekeeper.execution.streamed_fills import StreamedFills
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
    schedule: list[tuple[int, bool, Decimal]]  # (due ns, rest passively?, contracts due by then in all), in order
    children: list[str] = field(default_factory=list)  # client order ids
    resting: list[str] = field(default_factory=list)  # passive children not yet cancelled


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
    passive_ns : how long each slice rests as a post-only order at the touch before its
        rest is taken, ns (0: every child takes liquidity at once)
    poll_interval_ns : the least time between two askings of the venues for order states
        and fills, ns of the ``now_ns`` given to ``poll`` (0: every poll)
    fill_stream : take the fills of the venues that push them from their fill streams
    fill_check_interval_ns : with ``fill_stream``, the time between two REST askings for the
        fills of a venue whose stream is up, ns of the ``now_ns`` given to ``poll``
    reopen_s : with ``fill_stream``, seconds (wall time) from a stream's failure to its reopening
    """

    orders: OrderManager
    registry: InstrumentRegistry
    books: Mapping[str, OrderBook]
    pacing: Pacing = field(default_factory=TwapPacing)
    protection_bps: float = 50.0
    passive_ns: int = 0
    poll_interval_ns: int = 0
    fill_stream: bool = False
    fill_check_interval_ns: int = 30_000_000_000
    reopen_s: float = 1.0
    _asked_ns: int | None = field(default=None, init=False)
    _parents: list[_Parent] = field(default_factory=list, init=False)
    _parent_of: dict[str, _Parent] = field(default_factory=dict, init=False)
    _loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop, init=False, repr=False)
    _fills: VenueFills = field(init=False, repr=False)
    _streamed: StreamedFills | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self._fills = VenueFills(self.orders, self.registry, self._loop)
        if self.fill_stream:
            self._streamed = StreamedFills(self._fills, FillStreams(self.orders.venues, self._loop, self.reopen_s),
                                           self.poll_interval_ns, self.fill_check_interval_ns)

    @property
    def streamed_fills(self) -> StreamedFills | None:
        """Return the fills' streams and REST askings (None without ``fill_stream``)."""
        return self._streamed

    def execute(self, instrument: Instrument, size_contracts: float, book: OrderBook, now_ns: int
                ) -> list[TakerFill]:
        """Start working ``size_contracts`` (signed) of ``instrument``; return the fills made at once."""
        quantity = instrument.make_qty(abs(size_contracts), round_down=True).value
        if quantity < instrument.min_size or quantity == 0 or book.mid_usd is None:
            logger.warning("%s: no order for %+g contracts (below the minimum or no mid)",
                           instrument.instrument_id, size_contracts)
            return []
        side = Side.of(size_contracts)
        due, cumulative = [], Decimal(0)
        for piece in self.pacing.schedule(instrument, side, quantity, book, now_ns):
            cumulative += piece.size_coin
            if self.passive_ns > 0:
                due.append((piece.ts_ns, True, cumulative))
            due.append((piece.ts_ns + self.passive_ns, False, cumulative))
        due.sort(key=lambda entry: entry[:2])  # at one time, take what is late before resting the next slice
        self._parents.append(_Parent(instrument, side, book.mid_usd, due))
        return self.poll(now_ns)

    def poll(self, now_ns: int) -> list[TakerFill]:
        """Send the slices due by ``now_ns``; return the fills the venues reported since the last asking."""
        ask = self._asked_ns is None or now_ns - self._asked_ns >= self.poll_interval_ns
        if ask:
            self._asked_ns = now_ns
        if ask and any(not self.orders.orders[c].status.is_terminal for p in self._parents for c in p.children):
            self._loop.run_until_complete(self.orders.reconcile())
        for parent in self._parents:
            due = []
            while parent.schedule and parent.schedule[0][0] <= now_ns:
                due.append(parent.schedule.pop(0))
            takes = [entry for entry in due if not entry[1]]
            if takes:  # only the latest target to take matters
                self._send(parent, takes[-1][2], now_ns, passive=False)
            if due and due[-1][1]:
                self._send(parent, due[-1][2], now_ns, passive=True)
        if self._streamed is not None:
            fills = self._streamed.new(now_ns, self._arrival_mid)
        else:
            fills = self._fills.new(self._arrival_mid) if ask else []
        fills += self._known_fills()
        self._parents = [parent for parent in self._parents if not self._done(parent)]
        return fills

    def _arrival_mid(self, client_order_id: str) -> float | None:
        parent = self._parent_of.get(client_order_id)
        return None if parent is None else parent.arrival_mid_usd

    def working(self, underlying: str) -> bool:
        """Return whether a hedge of ``underlying`` has slices to send or children working."""
        return any(parent.instrument.underlying == underlying for parent in self._parents)

    def stop_streams(self) -> None:
        """Stop the fill streams: call before closing the venues, whose close would otherwise break them."""
        if self._streamed is not None:
            self._streamed.close()

    def close(self) -> None:
        """Stop the fill streams and close the executor's event loop (its venues are the caller's to close)."""
        self.stop_streams()
        self._loop.close()

    def _children(self, parent: _Parent) -> list[ManagedOrder]:
        return [self.orders.orders[child] for child in parent.children]

    def _known_fills(self) -> list[TakerFill]:
        """Return the fills of the hedges' children the order manager holds and no asking has reported yet."""
        return [fill for parent in self._parents for order in self._children(parent)
                for fill in self._fills.report(order.venue, order.fills.values(), self._arrival_mid)]

    def _done(self, parent: _Parent) -> bool:
        return not parent.schedule and all(order.status.is_terminal for order in self._children(parent))

    def _cancel_resting(self, parent: _Parent) -> set[str]:
        """Cancel the parent's resting passive children; return their ids (their rest no longer counts)."""
        cancelled = set(parent.resting)
        for child in parent.resting:
            self._loop.run_until_complete(self.orders.cancel(child))
        parent.resting.clear()
        return cancelled

    def _send(self, parent: _Parent, target: Decimal, now_ns: int, *, passive: bool) -> None:
        """Send what brings the parent's filled and working contracts up to ``target``, resting or taking."""
        instrument = parent.instrument
        cancelled = self._cancel_resting(parent)
        children = self._children(parent)
        committed = sum((child.filled_quantity + (0 if child.client_order_id in cancelled else
                                                  child.remaining_quantity) for child in children), Decimal(0))
        contracts = target - committed
        book = self.books.get(instrument.instrument_id)
        mid_usd = None if book is None else book.mid_usd
        touch_usd = None if book is None else (book.best_bid_usd if parent.side is Side.BUY else book.best_ask_usd)
        if contracts < max(instrument.min_size, instrument.lot_size) or mid_usd is None or touch_usd is None:
            if contracts > 0:
                logger.warning("%s: %s contracts not sent at %d (below the minimum or no mid)",
                               instrument.instrument_id, contracts, now_ns)
            return
        through = 1.0 + parent.side.sign * self.protection_bps * 1e-4
        price_usd, time_in_force = (touch_usd, TimeInForce.POST_ONLY) if passive else (mid_usd * through,
                                                                                       TimeInForce.IOC)
        request = OrderRequest(
            client_order_id=self.orders.next_client_order_id(), instrument_id=instrument.instrument_id,
            side=parent.side, quantity=instrument.make_qty(contracts, round_down=True), order_type=OrderType.LIMIT,
            price=instrument.make_price(price_usd, round_down=parent.side is Side.BUY),
            time_in_force=time_in_force,
        )
        if passive:
            parent.resting.append(request.client_order_id)
        parent.children.append(request.client_order_id)
        self._parent_of[request.client_order_id] = parent
        order = self._loop.run_until_complete(self.orders.submit(instrument.venue, request))
        if not passive and order.status.is_terminal and order.filled_quantity < contracts and not parent.schedule:
            logger.warning("%s: %s of %s contracts left unfilled within %g bps (%s)", instrument.instrument_id,
                           contracts - order.filled_quantity, contracts, self.protection_bps,
                           order.reason or order.status.value)
