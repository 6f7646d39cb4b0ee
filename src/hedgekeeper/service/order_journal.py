"""Every order on disk before it leaves, and every change of its state after.

``PersistedVenue`` wraps a venue: its ``place`` writes the order (client order id,
request, state ``new``) and waits for the commit before the request goes out, so
an order the service sent is always known to its next start, and, the client
order id being fixed before sending, never sent twice: a restart reconciles it
with the venue (``OrderManager.reconcile``) instead of sending anything again.

``OrderJournal.sync`` writes what changed since its last call: orders the manager
made without sending them (refused by the safety limits or the kill switch) and
the new transitions of the others, numbered on from what is stored. It looks at
the working orders only, so it costs nothing while no order is working.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from hedgekeeper.engine.persistence.rows import order_row, transition_rows
from hedgekeeper.engine.persistence.store import Store
from hedgekeeper.engine.persistence.writer import StoreWriter
from hedgekeeper.execution.order_manager import OrderManager
from hedgekeeper.execution.order_state import ManagedOrder
from hedgekeeper.venues.orders import Fill, OrderRequest, VenueOrder


class OrderJournal:
    """Keep the store's orders and transitions up to the order manager's.

    Parameters
    ----------
    manager : the OrderManager whose orders are journaled
    writer : the StoreWriter
    run_id : the run the new orders belong to
    """

    def __init__(self, manager: OrderManager, writer: StoreWriter, run_id: int) -> None:
        self.manager = manager
        self.writer = writer
        self.run_id = run_id
        self._written: dict[str, int] = {}  # client order id -> transitions written (of this process's list)
        self._offset: dict[str, int] = {}  # transitions stored by an earlier run, for restored orders
        self._watch: set[str] = set()
        self._known = 0

    def adopt(self, order: ManagedOrder, stored_transitions: int) -> None:
        """Watch an order restored from the store, whose ``stored_transitions`` are written already."""
        self.manager.orders[order.client_order_id] = order
        self._written[order.client_order_id] = 0  # transitions made while restoring it are new
        self._offset[order.client_order_id] = stored_transitions
        self._watch.add(order.client_order_id)
        self._known = len(self.manager.orders)

    def before_send(self, request: OrderRequest) -> None:
        """Write the order about to be sent and wait for the commit."""
        cid = request.client_order_id
        order = self.manager.orders[cid]
        if cid not in self._written:
            row = order_row(order)
            self.writer.submit(lambda connection: Store.write_order(connection, self.run_id, row))
            self._written[cid] = 0
            self._watch.add(cid)
        self.sync()
        self.writer.flush()

    def sync(self) -> None:
        """Write new orders (never sent) and the new transitions of the orders watched."""
        orders = self.manager.orders
        if len(orders) != self._known:
            for cid in list(orders)[self._known:]:
                if cid not in self._written:
                    row = order_row(orders[cid]) | {"status": "new", "reason": ""}
                    self.writer.submit(lambda connection, row=row: Store.write_order(connection, self.run_id, row))
                    self._written[cid] = 0
                    self._watch.add(cid)
            self._known = len(orders)
        for cid in list(self._watch):
            order = orders[cid]
            done = self._written[cid]
            if len(order.transitions) > done:
                self._write_state(order, order.transitions[done:], self._offset.get(cid, 0) + done)
                self._written[cid] = len(order.transitions)
            if order.status.is_terminal:
                self._watch.discard(cid)

    def _write_state(self, order: ManagedOrder, transitions: Sequence[Any], first_sequence: int) -> None:
        rows = transition_rows(transitions)
        cid, status, venue_id, reason = order.client_order_id, order.status.value, order.venue_order_id, order.reason
        updated_ns = transitions[-1].ts_ns
        self.writer.submit(lambda connection: Store.write_order_state(
            connection, cid, status=status, venue_order_id=venue_id, reason=reason, updated_ns=updated_ns,
            transitions=rows, first_sequence=first_sequence))


class PersistedVenue:
    """A venue whose orders are written to the store before they are sent, and whose fills are matched to records.

    Everything but ``place``, ``fills`` and ``fill_stream`` passes through. ``fills`` and
    ``fill_stream`` hide the fills booked by an earlier run (``hidden``: the executor must
    not book them again) and keep the others they pass on, so that the fills the engine
    books can be stored with the venue's trade ids (``take_fill``).

    Parameters
    ----------
    venue : the venue (simulated, ccxt)
    journal : the OrderJournal writing the orders
    hidden : the trade ids of fills booked before this start
    """

    def __init__(self, venue: Any, journal: Any, hidden: set[str] | None = None) -> None:
        self._venue = venue
        self._journal = journal
        self.hidden = set() if hidden is None else hidden
        self._passed: dict[str, Fill] = {}
        self._taken: set[str] = set()
        self.name: str = venue.name
        self.capabilities: Mapping[Any, Any] = venue.capabilities

    @property
    def inner(self) -> Any:
        """Return the venue wrapped."""
        return self._venue

    async def place(self, request: OrderRequest) -> VenueOrder:
        """Write the order, then send it."""
        self._journal.before_send(request)
        return await self._venue.place(request)

    async def amend(self, instrument_id: str, client_order_id: str, *, quantity: Decimal | None = None,
                    price: Decimal | None = None) -> VenueOrder:
        """Send an amend (its transition is journaled by ``sync``)."""
        return await self._venue.amend(instrument_id, client_order_id, quantity=quantity, price=price)

    async def fills(self, since_ns: int = 0) -> Sequence[Fill]:
        """Return the venue's fills at or after ``since_ns``, less those booked by an earlier run."""
        return [fill for fill in await self._venue.fills(since_ns) if self._passes(fill)]

    async def fill_stream(self) -> AsyncIterator[Fill]:
        """Yield the venue's fills as its stream pushes them, less those booked by an earlier run."""
        async for fill in self._venue.fill_stream():
            if self._passes(fill):
                yield fill

    def _passes(self, fill: Fill) -> bool:
        """Return whether ``fill`` is not hidden; keep it for ``take_fill`` if so."""
        if fill.fill_id in self.hidden:
            return False
        if fill.fill_id not in self._taken:
            self._passed.setdefault(fill.fill_id, fill)
        return True

    def take_fill(self, instrument_id: str, ts_ns: int, size_contracts: float, price_usd: float) -> Fill | None:
        """Return the venue fill the engine booked as given (oldest first), once; None if none matches."""
        for fill_id, fill in self._passed.items():
            if (fill.instrument_id == instrument_id and fill.ts_ns == ts_ns
                    and float(fill.quantity.value) * fill.side.sign == size_contracts
                    and float(fill.price.value) == price_usd):
                del self._passed[fill_id]
                self._taken.add(fill_id)
                return fill
        return None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._venue, name)
