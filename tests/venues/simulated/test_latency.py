"""Requests in flight: arrival order and the boundary of ``pop_due``."""

from __future__ import annotations

from hedgekeeper.venues.simulated.latency import PendingAction, PendingActions


def test_actions_arrive_in_time_order_ties_in_the_order_sent() -> None:
    pending = PendingActions()
    handled: list[str] = []
    for arrival_ns, name in ((20, "late"), (10, "first"), (10, "second"), (15, "middle")):
        pending.push(PendingAction(arrival_ns, lambda at, name=name: handled.append(f"{name}@{at}")))
    assert pending.pop_due(9) is None
    while (action := pending.pop_due(20)) is not None:
        action.run(action.arrival_ns)
    assert handled == ["first@10", "second@10", "middle@15", "late@20"]
    assert len(pending) == 0 and pending.next_arrival_ns() is None


def test_an_action_arriving_exactly_now_is_due() -> None:
    pending = PendingActions()
    pending.push(PendingAction(5, lambda at: None))
    assert pending.next_arrival_ns() == 5 and pending.pop_due(5) is not None
