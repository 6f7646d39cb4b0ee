"""The one asynchronous interface every liquidity venue implements.

A ``Venue`` is a simulated exchange, a real exchange through ccxt, or (later) a
chain. The engine and ``execution/`` talk to venues only through this protocol and
ask ``capabilities`` what a venue can do; they never check an adapter's type.

Required of every venue:

=======================  =============================================================
method                   contract
=======================  =============================================================
``instruments()``        the tradable instruments with their tick, lot and minimum sizes
``place(request)``       send an order; idempotent on ``client_order_id``: a second
                         place of the same id returns the existing order, never a new one
``cancel(...)``          cancel by client id; a terminal order is returned as it is
``order(...)``           the venue's view of one order by client id, None if unknown
                         (how an order is found after a timeout or a disconnect)
``open_orders()``        the working orders
``fills(since_ns)``      executions since a time, oldest first
``positions()``          positions as the venue counts them
``balances()``           collateral and cash per currency
``close()``              release connections
=======================  =============================================================

Optional, announced in ``capabilities``: ``amend`` (else emulated by cancel and
replace, or absent), the streams ``book_stream``, ``trade_stream`` and
``fill_stream`` (async iterators of market events and fills), post-only, IOC,
fill-or-kill and reduce-only orders.

Errors are the root hierarchy's (``errors.py``): ``VenueRejected`` and its
subclasses (``InvalidOrder``, ``InsufficientMargin``, ``OrderNotFound``) when the
venue refused, never retried; ``VenueUnavailable`` (``RequestTimeout``,
``RateLimited``) when the call failed and a retry may help. A retry of ``place``
after a ``RequestTimeout`` is safe because of the client order id.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from decimal import Decimal
from enum import StrEnum
from typing import Protocol, runtime_checkable

from hedgekeeper.market.events import BookUpdate, TopOfBook, Trade
from hedgekeeper.portfolio.instruments import Instrument
from hedgekeeper.portfolio.positions import Balance
from hedgekeeper.venues.orders import Fill, OrderRequest, VenueOrder, VenuePosition


class Capability(StrEnum):
    """Something a venue may or may not do."""

    AMEND = "amend"
    POST_ONLY = "post_only"
    IOC = "ioc"
    FOK = "fok"
    REDUCE_ONLY = "reduce_only"
    BOOK_STREAM = "book_stream"
    TRADE_STREAM = "trade_stream"
    FILL_STREAM = "fill_stream"
    MARK_STREAM = "mark_stream"  # options' implied vols (bid, ask, mark) from the venue's ticker
    FUNDING = "funding"
    SANDBOX = "sandbox"


class Support(StrEnum):
    """How a venue supports a capability: natively, emulated by the adapter, or not at all."""

    SUPPORTED = "supported"
    EMULATED = "emulated"
    ABSENT = "absent"


def supports(venue: Venue, capability: Capability) -> bool:
    """Return whether ``venue`` offers ``capability``, natively or emulated."""
    return venue.capabilities.get(capability, Support.ABSENT) is not Support.ABSENT


@runtime_checkable
class Venue(Protocol):
    """A place to trade: see the module docstring for the contract of each method."""

    name: str
    capabilities: Mapping[Capability, Support]

    async def instruments(self) -> Sequence[Instrument]:
        """Return the tradable instruments, with their rules."""
        ...

    async def place(self, request: OrderRequest) -> VenueOrder:
        """Send ``request``; return the venue's view of the order. Idempotent on the client order id."""
        ...

    async def cancel(self, instrument_id: str, client_order_id: str) -> VenueOrder:
        """Cancel the order; return its final view."""
        ...

    async def amend(self, instrument_id: str, client_order_id: str, *, quantity: Decimal | None = None,
                    price: Decimal | None = None) -> VenueOrder:
        """Change a working order's quantity (contracts) or limit price (quote currency)."""
        ...

    async def order(self, instrument_id: str, client_order_id: str) -> VenueOrder | None:
        """Return the venue's view of the order, None if the venue never saw it."""
        ...

    async def open_orders(self, instrument_id: str | None = None) -> Sequence[VenueOrder]:
        """Return the working orders, of one instrument or all."""
        ...

    async def fills(self, since_ns: int = 0) -> Sequence[Fill]:
        """Return the fills at or after ``since_ns`` (ns since the epoch), oldest first."""
        ...

    async def positions(self) -> Sequence[VenuePosition]:
        """Return the open positions."""
        ...

    async def balances(self) -> Sequence[Balance]:
        """Return the account's balances, one per currency."""
        ...

    def book_stream(self, instrument_id: str) -> AsyncIterator[BookUpdate | TopOfBook]:
        """Yield the instrument's book as it changes (``Capability.BOOK_STREAM``)."""
        ...

    def trade_stream(self, instrument_id: str) -> AsyncIterator[Trade]:
        """Yield the instrument's public trades (``Capability.TRADE_STREAM``)."""
        ...

    def fill_stream(self) -> AsyncIterator[Fill]:
        """Yield our fills as they happen (``Capability.FILL_STREAM``)."""
        ...

    async def close(self) -> None:
        """Release the venue's connections."""
        ...
