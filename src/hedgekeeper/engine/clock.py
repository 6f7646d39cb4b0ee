"""Clocks: the only place that reads the wall clock.

Components never call ``time.time``; they are given a ``Clock``. The loop advances
a ``SimulatedClock`` to each event's timestamp in backtests and replays, and a
``WallClock`` follows real time in live runs. Both fire timers registered with
``schedule`` once their deadline has passed, in deadline order, which is how the
time-based triggers and heartbeats work identically in every mode.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

TimerCallback = Callable[[int], None]


@dataclass
class Clock:
    """A source of time in integer nanoseconds since the epoch (UTC), with one-shot timers."""

    _timers: list[tuple[int, int, TimerCallback]] = field(default_factory=list, repr=False)
    _sequence: itertools.count = field(default_factory=itertools.count, repr=False)

    def now_ns(self) -> int:
        """Return the current time, ns since the epoch (UTC)."""
        raise NotImplementedError

    def schedule(self, deadline_ns: int, callback: TimerCallback) -> None:
        """Call ``callback(deadline_ns)`` once the clock reaches ``deadline_ns``."""
        heapq.heappush(self._timers, (deadline_ns, next(self._sequence), callback))

    def next_deadline_ns(self) -> int | None:
        """Return the earliest pending timer's deadline, or ``None`` if there is none."""
        return self._timers[0][0] if self._timers else None

    def fire_due(self) -> int:
        """Run every timer whose deadline is at or before now, earliest first; return how many."""
        now_ns = self.now_ns()
        fired = 0
        while self._timers and self._timers[0][0] <= now_ns:
            deadline_ns, _, callback = heapq.heappop(self._timers)
            callback(deadline_ns)
            fired += 1
        return fired


@dataclass
class SimulatedClock(Clock):
    """A clock that moves only when the loop advances it (backtests and replays).

    Examples
    --------
    >>> clock = SimulatedClock(start_ns=0)
    >>> fired = []
    >>> clock.schedule(5, fired.append)
    >>> clock.advance_to(10)
    >>> clock.fire_due(), fired, clock.now_ns()
    (1, [5], 10)
    """

    start_ns: int = 0
    _now_ns: int = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._now_ns = self.start_ns

    def now_ns(self) -> int:
        """Return the simulated time, ns since the epoch (UTC)."""
        return self._now_ns

    def advance_to(self, ts_ns: int) -> None:
        """Move the clock to ``ts_ns``; time never goes backwards.

        Raises
        ------
        ValueError
            If ``ts_ns`` is before the current time.
        """
        if ts_ns < self._now_ns:
            raise ValueError(f"clock cannot go back from {self._now_ns} to {ts_ns}")
        self._now_ns = ts_ns


@dataclass
class WallClock(Clock):
    """The real time, read from the system clock (live and paper trading)."""

    def now_ns(self) -> int:
        """Return the system's real time, ns since the epoch (UTC)."""
        return time.time_ns()
