"""The order state machine: a table of transitions, every one recorded, fills counted once.

==================  ===============  =================
state               event            next state
==================  ===============  =================
new                 accepted         acknowledged
new                 rejected         rejected
new, acknowledged,  partially_filled partially_filled
partially_filled
new, acknowledged,  filled           filled
partially_filled
new, acknowledged,  cancelled        cancelled
partially_filled
new, acknowledged,  expired          expired
partially_filled
acknowledged        amended          acknowledged
partially_filled    amended          partially_filled
==================  ===============  =================

A fill may be reported before the acknowledgement (venues do that), so fills are
allowed from ``new``. Any other pair raises ``InvalidOrderTransition`` naming the
order, its state and the event. Terminal states (filled, cancelled, rejected,
expired) accept nothing. ``ManagedOrder`` applies fills by their venue trade id,
so a fill seen twice (from a stream and again from a reconciliation) counts once,
and derives the fill events from the quantities; ``reconcile`` brings an order to
the venue's own view after a disconnect, recording what it had missed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from hedgekeeper.errors import InvalidOrderTransition
from hedgekeeper.venues.orders import Fill, OrderRequest, OrderStatus, VenueOrder


class OrderEvent(StrEnum):
    """What can happen to an order."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    AMENDED = "amended"


_S, _E = OrderStatus, OrderEvent
_WORKING = (_S.NEW, _S.ACKNOWLEDGED, _S.PARTIALLY_FILLED)
TRANSITIONS: dict[tuple[OrderStatus, OrderEvent], OrderStatus] = {
    (_S.NEW, _E.ACCEPTED): _S.ACKNOWLEDGED,
    (_S.NEW, _E.REJECTED): _S.REJECTED,
    **{(state, _E.PARTIALLY_FILLED): _S.PARTIALLY_FILLED for state in _WORKING},
    **{(state, _E.FILLED): _S.FILLED for state in _WORKING},
    **{(state, _E.CANCELLED): _S.CANCELLED for state in _WORKING},
    **{(state, _E.EXPIRED): _S.EXPIRED for state in _WORKING},
    (_S.ACKNOWLEDGED, _E.AMENDED): _S.ACKNOWLEDGED,
    (_S.PARTIALLY_FILLED, _E.AMENDED): _S.PARTIALLY_FILLED,
}
"""The whole state machine: (state, event) -> next state."""

_EVENT_TO_REACH: dict[OrderStatus, OrderEvent] = {
    _S.ACKNOWLEDGED: _E.ACCEPTED,
    _S.REJECTED: _E.REJECTED,
    _S.CANCELLED: _E.CANCELLED,
    _S.EXPIRED: _E.EXPIRED,
}


def next_state(state: OrderStatus, event: OrderEvent, client_order_id: str = "") -> OrderStatus:
    """Return the state after ``event``.

    Raises
    ------
    InvalidOrderTransition
        If the table has no such transition.

    >>> next_state(OrderStatus.NEW, OrderEvent.ACCEPTED)
    <OrderStatus.ACKNOWLEDGED: 'acknowledged'>
    >>> next_state(OrderStatus.FILLED, OrderEvent.CANCELLED, "hk-1")
    Traceback (most recent call last):
    ...
    hedgekeeper.errors.InvalidOrderTransition: order hk-1: event 'cancelled' is not allowed in state 'filled'
    """
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise InvalidOrderTransition(
            f"order {client_order_id}: event {event.value!r} is not allowed in state {state.value!r}"
        ) from None


@dataclass(frozen=True, slots=True)
class Transition:
    """One recorded change of an order's state.

    Attributes
    ----------
    ts_ns : int, ns since the epoch (UTC)
    before, after : OrderStatus
    event : OrderEvent
    detail : str, e.g. the fill id and size, a reject reason, "reconciliation: ..."
    """

    ts_ns: int
    before: OrderStatus
    event: OrderEvent
    after: OrderStatus
    detail: str = ""


@dataclass
class ManagedOrder:
    """One of our orders as we track it: its state, its fills, and every transition.

    Parameters
    ----------
    request : OrderRequest, as sent
    venue : str, the venue's name
    created_ns : int, when it was sent, ns since the epoch
    """

    request: OrderRequest
    venue: str
    created_ns: int
    status: OrderStatus = OrderStatus.NEW
    venue_order_id: str = ""
    reason: str = ""
    fills: dict[str, Fill] = field(default_factory=dict)
    transitions: list[Transition] = field(default_factory=list)

    @property
    def client_order_id(self) -> str:
        """Return the client order id."""
        return self.request.client_order_id

    @property
    def filled_quantity(self) -> Decimal:
        """Return the contracts filled, from the distinct fills."""
        return sum((fill.quantity.value for fill in self.fills.values()), Decimal(0))

    @property
    def remaining_quantity(self) -> Decimal:
        """Return the contracts still working (0 once terminal)."""
        return Decimal(0) if self.status.is_terminal else self.request.quantity.value - self.filled_quantity

    def apply(self, event: OrderEvent, ts_ns: int, detail: str = "") -> None:
        """Move the order by ``event`` and record the transition.

        Raises
        ------
        InvalidOrderTransition
            If the state machine does not allow ``event`` now.
        """
        after = next_state(self.status, event, self.client_order_id)
        self.transitions.append(Transition(ts_ns, self.status, event, after, detail))
        self.status = after

    def add_fill(self, fill: Fill) -> bool:
        """Count ``fill`` once and move the order to partially filled or filled; return whether it was new.

        Raises
        ------
        InvalidOrderTransition
            If the order is terminal, or the fills would exceed the ordered quantity.
        """
        if fill.fill_id in self.fills:
            return False
        filled = self.filled_quantity + fill.quantity.value
        if filled > self.request.quantity.value:
            raise InvalidOrderTransition(
                f"order {self.client_order_id}: fill {fill.fill_id} of {fill.quantity} would make "
                f"{filled} filled of {self.request.quantity} ordered"
            )
        event = OrderEvent.FILLED if filled == self.request.quantity.value else OrderEvent.PARTIALLY_FILLED
        self.apply(event, fill.ts_ns, f"fill {fill.fill_id}: {fill.quantity} at {fill.price}")
        self.fills[fill.fill_id] = fill
        if fill.venue_order_id:
            self.venue_order_id = fill.venue_order_id
        return True

    def reconcile(self, view: VenueOrder | None, fills: Iterable[Fill], ts_ns: int) -> list[Transition]:
        """Bring the order to the venue's view after a disconnect; return the transitions this made.

        Fills the venue reports for this order that we missed are added first, then
        the status is moved to the venue's (acknowledged, cancelled, expired,
        rejected; filled comes from the fills). An order the venue never saw
        (``view`` None) while we still think it new is rejected: it never left.

        Raises
        ------
        InvalidOrderTransition
            If the venue's view contradicts ours (a terminal order the venue still
            works, more filled than we know with no fill to show for it).
        """
        start = len(self.transitions)
        for fill in sorted(fills, key=lambda f: f.ts_ns):
            if fill.client_order_id == self.client_order_id:
                self.add_fill(fill)
        if view is None:
            if self.status is OrderStatus.NEW:
                self.reason = "the venue never received the order"
                self.apply(OrderEvent.REJECTED, ts_ns, f"reconciliation: {self.reason}")
            return self.transitions[start:]
        if view.venue_order_id:
            self.venue_order_id = view.venue_order_id
        if view.filled_quantity != self.filled_quantity:
            raise InvalidOrderTransition(
                f"order {self.client_order_id}: the venue reports {view.filled_quantity} filled, "
                f"the fills we have add up to {self.filled_quantity}"
            )
        event = _EVENT_TO_REACH.get(view.status)
        if view.status is not self.status and event is not None and not (
                view.status is OrderStatus.ACKNOWLEDGED and self.status is OrderStatus.PARTIALLY_FILLED):
            self.reason = view.reason or self.reason
            self.apply(event, ts_ns, f"reconciliation: venue says {view.status.value}"
                       + (f" ({view.reason})" if view.reason else ""))
        elif view.status is not self.status and view.status.is_terminal is not self.status.is_terminal:
            raise InvalidOrderTransition(
                f"order {self.client_order_id}: the venue says {view.status.value}, we say {self.status.value}"
            )
        return self.transitions[start:]
