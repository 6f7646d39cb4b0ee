"""A real venue behind a failing network: calls that reach the venue and lose their answer, or never reach it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from hedgekeeper.errors import RequestTimeout
from hedgekeeper.venues.base import Venue
from hedgekeeper.venues.orders import Fill, OrderRequest, VenueOrder


@dataclass
class FlakyNetwork:
    """Wrap ``venue``; each queued fault spoils the next call of its kind.

    ``place_faults`` holds "lost_answer" (the venue gets the order, we get a timeout)
    or "never_sent" (we get a timeout, the venue gets nothing); ``lookup_faults``
    counts the next ``order`` lookups that time out without reaching the venue.
    """

    venue: Venue
    place_faults: list[str] = field(default_factory=list)
    lookup_faults: int = 0
    place_calls: int = 0

    def __getattr__(self, name: str):  # noqa: ANN204 (every other call goes through untouched)
        return getattr(self.venue, name)

    async def place(self, request: OrderRequest) -> VenueOrder:
        self.place_calls += 1
        fault = self.place_faults.pop(0) if self.place_faults else None
        if fault == "never_sent":
            raise RequestTimeout(f"place {request.client_order_id}: no answer in 5 s")
        view = await self.venue.place(request)
        if fault == "lost_answer":
            raise RequestTimeout(f"place {request.client_order_id}: no answer in 5 s")
        return view

    async def order(self, instrument_id: str, client_order_id: str) -> VenueOrder | None:
        if self.lookup_faults:
            self.lookup_faults -= 1
            raise RequestTimeout(f"order {client_order_id}: no answer in 5 s")
        return await self.venue.order(instrument_id, client_order_id)

    async def fills(self, since_ns: int = 0) -> Sequence[Fill]:
        return await self.venue.fills(since_ns)
