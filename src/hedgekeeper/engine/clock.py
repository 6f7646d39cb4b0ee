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
    """The real time, read from the system clock (live and paper trading).

    By default it is the system's time. Given ``start_ns`` it follows the wall clock
    from that instant instead, ``speed`` times as fast: a simulated or recorded market
    paced in real time (``speed`` 1) or accelerated (``speed`` 60: a minute per second).

    Parameters
    ----------
    start_ns : the time it reads now, ns since the epoch (UTC); None for the system's time
    speed : clock seconds per wall-clock second, > 0 (only with ``start_ns``)

    Examples
    --------
    >>> clock = WallClock(start_ns=0, speed=1000.0)
    >>> 0 <= clock.now_ns() < 10**12
    True
    """

    start_ns: int | None = None
    speed: float = 1.0
    _wall_origin_ns: int = field(init=False, repr=False, default=0)

    def __post_init__(self) -> None:
        if not self.speed > 0.0:
            raise ValueError(f"clock speed must be > 0, got {self.speed!r}")
        self._wall_origin_ns = time.time_ns()

    def now_ns(self) -> int:
        """Return the system's real time, or the paced time since ``start_ns``, ns since the epoch (UTC)."""
        if self.start_ns is None:
            return time.time_ns()
        return self.start_ns + int((time.time_ns() - self._wall_origin_ns) * self.speed)
