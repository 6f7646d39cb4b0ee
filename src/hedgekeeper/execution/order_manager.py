"""Send orders to venues safely: pre-trade checks, idempotent retries, fills counted once, reconciliation.

``OrderManager`` owns every order we send, as a ``ManagedOrder`` (``order_state.py``):

- a pre-trade check (the safety limits, ``execution/safety.py``) runs first; a refused
  order never leaves and is recorded as rejected with the reason;
- ``submit`` sends with the venue's ``place``. If the call fails in a way that may
  or may not have reached the venue (``VenueUnavailable``: a timeout, a dropped
  connection, a rate limit), the order is looked up by its client order id before
  anything is sent again, and sent again only under the same id, which the venue
  refuses to duplicate. A venue refusal (``VenueRejected``) is final. An order whose
  fate is still unknown after the last attempt stays ``new`` and is settled by the
  next ``reconcile``;
- fills are applied by trade id, so a fill reported twice counts once;
- ``reconcile`` asks each venue for its view of every working order (after a
  disconnect, at start-up) and brings ours to it, recording each change;
- a venue is asked for an order's fills only when its answer (to a placement, a
  cancel, a reconciliation) shows more filled than we know: an order that found
  nothing costs no fills request.

Client order ids are ``{prefix}-{n}``: unique within a manager; give each process a
distinct prefix (a start time) so that ids never repeat across restarts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from hedgekeeper.errors import HedgekeeperError, OrderNotFound, VenueRejected, VenueUnavailable
from hedgekeeper.execution.order_state import ManagedOrder, OrderEvent, Transition
from hedgekeeper.timestamps import TimeSource
from hedgekeeper.venues.base import Venue
from hedgekeeper.venues.orders import Fill, OrderRequest, OrderStatus, VenueOrder

logger = logging.getLogger(__name__)

PreTradeCheck = Callable[[str, OrderRequest, int], None]
"""``check(venue, request, now_ns)``: raise ``SafetyLimitBreached`` to refuse an order."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to retry a call that may not have reached the venue.

    Attributes
    ----------
    attempts : int, calls in all (1 = no retry)
    backoff_s : float, seconds before the second attempt, doubled each time after
    """

    attempts: int = 3
    backoff_s: float = 0.2

    def delay_s(self, attempt: int) -> float:
        """Return the pause after failed attempt ``attempt`` (0-based), seconds.

        >>> RetryPolicy(backoff_s=0.5).delay_s(2)
        2.0
        """
        return self.backoff_s * 2.0**attempt


class OrderManager:
    """Every order sent to every venue, with its state and history.

    Parameters
    ----------
    venues : the venues by name
    clock : TimeSource stamping transitions (an engine clock)
    pre_trade_check : refuses an order before it is sent (the safety limits), or None
    retry : RetryPolicy for calls that may not have reached the venue
    id_prefix : prefix of the client order ids
    """

    def __init__(self, venues: Mapping[str, Venue], clock: TimeSource, *, pre_trade_check: PreTradeCheck | None = None,
                 retry: RetryPolicy = RetryPolicy(), id_prefix: str = "hk") -> None:
        self.venues = dict(venues)
        self.clock = clock
        self.pre_trade_check = pre_trade_check
        self.retry = retry
        self.id_prefix = id_prefix
        self.orders: dict[str, ManagedOrder] = {}
        self._sequence = 0

    def next_client_order_id(self) -> str:
        """Return a fresh client order id."""
        self._sequence += 1
        return f"{self.id_prefix}-{self._sequence}"

    async def submit(self, venue_name: str, request: OrderRequest) -> ManagedOrder:
        """Check and send ``request`` to ``venue_name``; return the order as known after the venue's answer.

        A refusal (ours or the venue's) is a rejected order with its ``reason``, logged;
        it does not raise. Submitting a client order id again returns the order already known.
        """
        known = self.orders.get(request.client_order_id)
        if known is not None:
            return known
        now_ns = self.clock.now_ns()
        managed = self.orders[request.client_order_id] = ManagedOrder(request, venue_name, now_ns)
        try:
            if self.pre_trade_check is not None:
                self.pre_trade_check(venue_name, request, now_ns)
            venue = self.venues[venue_name]
        except (HedgekeeperError, KeyError) as refusal:
            reason = f"unknown venue {venue_name!r}" if isinstance(refusal, KeyError) else str(refusal)
            return self._reject(managed, reason)
        for attempt in range(self.retry.attempts):
            try:
                view = await venue.place(request)
            except VenueRejected as refusal:
                return self._reject(managed, str(refusal))
            except VenueUnavailable as failure:
                logger.warning("place %s on %s failed (attempt %d): %s", request.client_order_id, venue_name,
                               attempt + 1, failure)
                view = await self._look_up(venue, request)
                if view is None:
                    if attempt + 1 < self.retry.attempts:
                        await asyncio.sleep(self.retry.delay_s(attempt))
                    continue
            await self._absorb(managed, view)
            return managed
        logger.error("order %s on %s: fate unknown after %d attempts; the next reconcile settles it",
                     request.client_order_id, venue_name, self.retry.attempts)
        return managed

    async def cancel(self, client_order_id: str) -> ManagedOrder:
        """Cancel a working order; a terminal one is returned as it is."""
        managed = self.orders[client_order_id]
        if managed.status.is_terminal:
            return managed
        venue = self.venues[managed.venue]
        try:
            view = await venue.cancel(managed.request.instrument_id, client_order_id)
        except OrderNotFound:
            view = None
        await self._absorb(managed, view)
        return managed

    def on_fill(self, fill: Fill) -> bool:
        """Apply a fill reported by a venue's stream; return whether it was new (unknown orders are logged)."""
        managed = self.orders.get(fill.client_order_id)
        if managed is None:
            logger.warning("fill %s for unknown order %s ignored", fill.fill_id, fill.client_order_id)
            return False
        return managed.add_fill(fill)

    def working(self) -> list[ManagedOrder]:
        """Return the orders not yet terminal."""
        return [order for order in self.orders.values() if not order.status.is_terminal]

    async def reconcile(self) -> list[Transition]:
        """Bring every working order to its venue's view; return the transitions made."""
        made: list[Transition] = []
        for managed in self.working():
            venue = self.venues[managed.venue]
            view = await venue.order(managed.request.instrument_id, managed.client_order_id)
            made += await self._absorb(managed, view)
        return made

    async def _look_up(self, venue: Venue, request: OrderRequest) -> VenueOrder | None:
        # The venue's view of an order whose placement may have failed; None if absent or unreachable.
        try:
            return await venue.order(request.instrument_id, request.client_order_id)
        except VenueUnavailable as failure:
            logger.warning("looking up %s failed: %s", request.client_order_id, failure)
            return None

    async def _absorb(self, managed: ManagedOrder, view: VenueOrder | None) -> list[Transition]:
        # Bring the order to the venue's answer, with the fills that answer implies; return the transitions.
        return managed.reconcile(view, await self._fills_implied(managed, view), self.clock.now_ns())

    async def _fills_implied(self, managed: ManagedOrder, view: VenueOrder | None) -> Sequence[Fill]:
        """Return the venue's fills since ``managed`` was sent, asked only if ``view`` shows fills we lack.

        An answer that fills nothing more than we know (an immediate-or-cancel order that
        found nothing, an acknowledgement, a resting order unchanged) costs no request.
        """
        if view is not None and view.filled_quantity == managed.filled_quantity:
            return ()
        return await self.venues[managed.venue].fills(since_ns=managed.created_ns)

    def _reject(self, managed: ManagedOrder, reason: str) -> ManagedOrder:
        managed.reason = reason
        managed.apply(OrderEvent.REJECTED, self.clock.now_ns(), reason)
        logger.warning("order %s on %s rejected: %s", managed.client_order_id, managed.venue, reason)
        return managed

    def status_counts(self) -> dict[OrderStatus, int]:
        """Return how many orders are in each state."""
        counts: dict[OrderStatus, int] = {}
        for order in self.orders.values():
            counts[order.status] = counts.get(order.status, 0) + 1
        return counts
