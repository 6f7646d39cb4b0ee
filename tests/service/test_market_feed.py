"""The market feed: a stream cut at a time, events handed out when the clock reaches them."""

from __future__ import annotations

import threading
import time

from hedgekeeper.engine.clock import WallClock
from hedgekeeper.market.events import Trade
from hedgekeeper.service.market_feed import PacedEvents, split_at

SECOND = 1_000_000_000


def _trades(*seconds: int) -> list[Trade]:
    return [Trade(s * SECOND, "BTC", 100.0, 1.0, 1) for s in seconds]


def test_split_gives_the_events_before_a_time_then_the_rest() -> None:
    split = split_at(iter(_trades(1, 2, 3, 4)), 3 * SECOND)
    assert [e.ts_ns for e in split.before()] == [SECOND, 2 * SECOND]
    assert [e.ts_ns for e in split.after()] == [3 * SECOND, 4 * SECOND]


def test_split_after_skips_what_before_did_not_yield() -> None:
    assert [e.ts_ns for e in split_at(iter(_trades(1, 5)), 3 * SECOND).after()] == [5 * SECOND]


def test_paced_events_wait_for_the_clock() -> None:
    clock = WallClock(start_ns=0, speed=20.0)  # 20 engine seconds per wall second
    paced = PacedEvents(iter(_trades(0, 2)), clock, 20.0, threading.Event())
    started = time.monotonic()
    assert paced.next().ts_ns == 0
    event = None
    while event is None:
        event = paced.next()
    elapsed = time.monotonic() - started
    assert event.ts_ns == 2 * SECOND and clock.now_ns() >= 2 * SECOND
    assert 0.08 <= elapsed < 1.0


def test_a_wall_clock_may_start_at_a_chosen_time_and_run_faster() -> None:
    clock = WallClock(start_ns=5 * SECOND, speed=1000.0)
    started = time.monotonic()
    time.sleep(0.05)
    reading = clock.now_ns()
    elapsed = time.monotonic() - started
    assert 5 * SECOND + 0.05 * 1000 * SECOND <= reading <= 5 * SECOND + (elapsed + 0.01) * 1000 * SECOND


def test_a_wall_clock_refuses_a_speed_that_is_not_positive() -> None:
    import pytest

    with pytest.raises(ValueError, match="clock speed must be > 0, got 0.0"):
        WallClock(start_ns=0, speed=0.0)
