"""Recovery at start: load the orders the store says are working, reconcile them, pick up missed fills, compare books.

Before the engine decides anything, for every venue:

1. the orders left working by the last run are restored from the store (their
   request, state and the fills already booked) into the order manager;
2. ``OrderManager.reconcile`` brings each to the venue's view: an order the venue
   never received is rejected (it never left: the service died between writing it
   and sending it), fills we missed are added, a cancel or expiry recorded. Nothing
   is sent again: recovery only asks;
3. the executor is told the fills the store has booked, then polled: what it
   reports now are the venue's fills the store does not have (made while the
   service was down, or booked in memory and lost with the process), booked now;
4. each venue's positions are compared with the book's (less the positions the
   file starts with, which the simulated exchange does not hold); a difference is
   logged and reported in the summary, never papered over.

A hedge interrupted by the stop is not resumed: its remaining slices are dropped,
and the policy decides afresh from the reconciled book.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from hedgekeeper.engine.persistence.store import StoredFill, StoredOrder
from hedgekeeper.execution.order_state import ManagedOrder
from hedgekeeper.portfolio.instruments import InstrumentRegistry
from hedgekeeper.portfolio.values import Money
from hedgekeeper.venues.orders import Fill, Liquidity, OrderStatus, Side, VenuePosition
from hedgekeeper.service.simulated_exchange import request_of

logger = logging.getLogger(__name__)

TOLERANCE_CONTRACTS = 1e-9


def fills_in_transitions(transitions: Sequence[Mapping[str, Any]]) -> set[str]:
    """Return the fill ids an order's stored transitions name (``"fill <id>: ..."``).

    >>> sorted(fills_in_transitions([{"detail": "fill x-1: 2 at 3"}, {"detail": "reconciliation: venue says ..."}]))
    ['x-1']
    """
    return {t["detail"][5:].split(":", 1)[0] for t in transitions if t["detail"].startswith("fill ")}


def restored_order(stored: StoredOrder, fills: Sequence[StoredFill], registry: InstrumentRegistry,
                   reflected: set[str] | frozenset[str] = frozenset()) -> ManagedOrder:
    """Return a stored order as the order manager tracks it, with the fills already booked for it.

    The fills its stored transitions name (``reflected``) are taken as they are; the
    others (booked with the book, their transition lost with the process) are applied
    now, so the order's state catches up with them and the transitions are recorded.
    """
    instrument = registry.get(stored.instrument_id)
    request = request_of({"client_order_id": stored.client_order_id, "instrument_id": stored.instrument_id,
                          "side": stored.side, "quantity": stored.quantity, "order_type": stored.order_type,
                          "price": stored.price, "time_in_force": stored.time_in_force,
                          "reduce_only": stored.reduce_only}, instrument)
    order = ManagedOrder(request, stored.venue, stored.created_ns, status=OrderStatus(stored.status),
                         venue_order_id=stored.venue_order_id, reason=stored.reason)
    for fill in sorted(fills, key=lambda f: f.ts_ns):
        venue_fill = Fill(
            fill_id=fill.fill_id, client_order_id=stored.client_order_id, venue_order_id=stored.venue_order_id,
            instrument_id=stored.instrument_id, side=Side(stored.side),
            quantity=instrument.make_qty(Decimal(fill.quantity), round_down=True),
            price=instrument.make_price(Decimal(fill.price), round_down=True),
            fee=Money(Decimal(fill.fee), fill.fee_currency), liquidity=Liquidity.TAKER, ts_ns=fill.ts_ns,
        )
        if fill.fill_id in reflected:
            order.fills[fill.fill_id] = venue_fill
        else:
            order.add_fill(venue_fill)
    return order


def position_differences(venue_positions: Sequence[VenuePosition], book_positions: Mapping[str, float],
                         initial_positions: Mapping[str, float], instruments: Sequence[str]) -> dict[str, Any]:
    """Return, per instrument, the venue's position and the book's change from the file's; and the mismatches.

    >>> position_differences([VenuePosition(instrument_id="P", size_contracts=Decimal("1.5"))],
    ...                      {"P": 2.5}, {"P": 1.0}, ["P"])["mismatches"]
    []
    """
    held = {p.instrument_id: float(p.size_contracts) for p in venue_positions}
    rows, mismatches = {}, []
    for instrument_id in instruments:
        venue = held.get(instrument_id, 0.0)
        service = book_positions.get(instrument_id, 0.0) - initial_positions.get(instrument_id, 0.0)
        rows[instrument_id] = {"venue": venue, "service": service}
        if abs(venue - service) > TOLERANCE_CONTRACTS:
            mismatches.append(instrument_id)
    return {"positions": rows, "mismatches": mismatches}
