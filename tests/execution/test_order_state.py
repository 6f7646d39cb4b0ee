"""The order state machine: the table, fills counted once, reconciliation with the venue's view."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgekeeper.errors import InvalidOrderTransition
from hedgekeeper.execution.order_state import TRANSITIONS, ManagedOrder, OrderEvent, next_state
from hedgekeeper.portfolio.values import Money, Price, Quantity
from hedgekeeper.venues.orders import (
    Fill,
    Liquidity,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    VenueOrder,
)

REQUEST = OrderRequest(client_order_id="hk-1", instrument_id="BTCUSDT.BINANCE", side=Side.BUY,
                       quantity=Quantity(Decimal("1.000"), 3), price=Price(Decimal("100000.0"), 1))


def fill(fill_id: str, size: str, ts_ns: int = 10) -> Fill:
    return Fill(fill_id=fill_id, client_order_id="hk-1", venue_order_id="v-1", instrument_id="BTCUSDT.BINANCE",
                side=Side.BUY, quantity=Quantity(Decimal(size), 3), price=Price(Decimal("100000.0"), 1),
                fee=Money(Decimal("0.05"), "USDT"), liquidity=Liquidity.TAKER, ts_ns=ts_ns)


def view(status: OrderStatus, filled: str = "0", reason: str = "") -> VenueOrder:
    return VenueOrder(client_order_id="hk-1", venue_order_id="v-1", instrument_id="BTCUSDT.BINANCE",
                      side=Side.BUY, quantity=REQUEST.quantity, order_type=OrderType.LIMIT, price=REQUEST.price,
                      time_in_force=TimeInForce.GTC, status=status, filled_quantity=Decimal(filled), reason=reason)


def test_terminal_states_accept_no_event_and_working_states_accept_the_fills() -> None:
    for state in OrderStatus:
        for event in OrderEvent:
            allowed = (state, event) in TRANSITIONS
            assert not (state.is_terminal and allowed)
            if not state.is_terminal and event in (OrderEvent.FILLED, OrderEvent.CANCELLED):
                assert allowed
            if not allowed:
                with pytest.raises(InvalidOrderTransition, match=f"not allowed in state '{state.value}'"):
                    next_state(state, event)


@given(st.lists(st.sampled_from(list(OrderEvent)), max_size=12))
def test_any_event_sequence_follows_the_table_and_records_every_transition(events: list[OrderEvent]) -> None:
    order = ManagedOrder(REQUEST, "binance", created_ns=0)
    allowed = 0
    for ts_ns, event in enumerate(events):
        before = order.status
        if (before, event) in TRANSITIONS:
            allowed += 1
            order.apply(event, ts_ns)
            assert order.status is TRANSITIONS[(before, event)]
            assert order.transitions[-1].before is before and order.transitions[-1].after is order.status
        else:
            with pytest.raises(InvalidOrderTransition):
                order.apply(event, ts_ns)
            assert order.status is before
    assert len(order.transitions) == allowed


def test_fills_are_counted_once_and_move_the_order_to_filled() -> None:
    order = ManagedOrder(REQUEST, "binance", created_ns=0)
    order.apply(OrderEvent.ACCEPTED, 1)
    assert order.add_fill(fill("t1", "0.400"))
    assert not order.add_fill(fill("t1", "0.400"))  # the same trade seen again
    assert order.status is OrderStatus.PARTIALLY_FILLED and order.remaining_quantity == Decimal("0.600")
    assert order.add_fill(fill("t2", "0.600"))
    assert order.status is OrderStatus.FILLED and order.remaining_quantity == 0
    assert [t.after for t in order.transitions] == [
        OrderStatus.ACKNOWLEDGED, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED]


def test_a_fill_beyond_the_ordered_quantity_is_refused() -> None:
    order = ManagedOrder(REQUEST, "binance", created_ns=0)
    order.add_fill(fill("t1", "0.700"))
    with pytest.raises(InvalidOrderTransition, match="1.400 filled of 1.000 ordered"):
        order.add_fill(fill("t2", "0.700"))


def test_reconciliation_adds_the_missed_fills_then_takes_the_venues_status() -> None:
    order = ManagedOrder(REQUEST, "binance", created_ns=0)
    order.apply(OrderEvent.ACCEPTED, 1)
    made = order.reconcile(view(OrderStatus.CANCELLED, "0.300", "cancelled by user"), [fill("t1", "0.300")], 50)
    assert [(t.event, t.after) for t in made] == [
        (OrderEvent.PARTIALLY_FILLED, OrderStatus.PARTIALLY_FILLED), (OrderEvent.CANCELLED, OrderStatus.CANCELLED)]
    assert "reconciliation" in made[-1].detail and order.filled_quantity == Decimal("0.300")


def test_an_order_the_venue_never_saw_is_rejected_on_reconciliation() -> None:
    order = ManagedOrder(REQUEST, "binance", created_ns=0)
    made = order.reconcile(None, [], 20)
    assert order.status is OrderStatus.REJECTED and made[0].detail.endswith("never received the order")


def test_reconciliation_refuses_a_venue_view_our_fills_cannot_explain() -> None:
    order = ManagedOrder(REQUEST, "binance", created_ns=0)
    with pytest.raises(InvalidOrderTransition, match="venue reports 0.500 filled"):
        order.reconcile(view(OrderStatus.PARTIALLY_FILLED, "0.500"), [], 20)
    filled = ManagedOrder(REQUEST, "binance", created_ns=0)
    filled.add_fill(fill("t1", "1.000"))
    with pytest.raises(InvalidOrderTransition, match="'filled'"):
        filled.reconcile(view(OrderStatus.CANCELLED, "1.000"), [], 20)


def test_an_open_view_of_a_partially_filled_order_changes_nothing() -> None:
    order = ManagedOrder(REQUEST, "binance", created_ns=0)
    order.add_fill(fill("t1", "0.200"))
    assert order.reconcile(view(OrderStatus.ACKNOWLEDGED, "0.200"), [fill("t1", "0.200")], 30) == []
