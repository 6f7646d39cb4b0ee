"""Clocks: simulated time moves only forward and fires timers in deadline order."""

from __future__ import annotations

import time

import pytest

from hedgekeeper.engine.clock import SimulatedClock, WallClock


def test_simulated_clock_fires_due_timers_in_deadline_order() -> None:
    clock = SimulatedClock(start_ns=100)
    fired: list[tuple[str, int]] = []
    clock.schedule(300, lambda ts: fired.append(("c", ts)))
    clock.schedule(150, lambda ts: fired.append(("a", ts)))
    clock.schedule(150, lambda ts: fired.append(("b", ts)))
    clock.advance_to(200)
    assert clock.fire_due() == 2
    assert fired == [("a", 150), ("b", 150)]
    assert clock.next_deadline_ns() == 300
    clock.advance_to(300)
    assert clock.fire_due() == 1 and fired[-1] == ("c", 300)
    assert clock.next_deadline_ns() is None


def test_timer_scheduled_by_a_timer_fires_when_due() -> None:
    clock = SimulatedClock(start_ns=0)
    fired: list[int] = []

    def heartbeat(ts_ns: int) -> None:
        fired.append(ts_ns)
        clock.schedule(ts_ns + 10, heartbeat)

    clock.schedule(10, heartbeat)
    clock.advance_to(35)
    clock.fire_due()
    assert fired == [10, 20, 30]


def test_simulated_clock_never_goes_back() -> None:
    clock = SimulatedClock(start_ns=10)
    with pytest.raises(ValueError, match="cannot go back from 10 to 9"):
        clock.advance_to(9)


def test_wall_clock_follows_system_time() -> None:
    before = time.time_ns()
    now = WallClock().now_ns()
    assert before <= now <= time.time_ns()
