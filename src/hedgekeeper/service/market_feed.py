"""The service's market: the configured source's events, in order, from a given time, paced on the clock.

``source_events`` opens the simulated (``[simulation]``) or recorded (``[replay]``)
events, deterministic for a configuration, and their start time. ``split_at``
cuts a stream at an engine time: what came before (a restart replays it into the
simulated exchange, which lived on while the service was down) and what is to come.
``PacedEvents`` hands each event out when the engine's clock reaches its time,
waiting on a ``threading.Event`` that a stop or a command wakes early.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from hedgekeeper.engine.clock import Clock
from hedgekeeper.market.events import MarketEvent, OracleUpdate
from hedgekeeper.market.simulators.runner import simulate_events
from hedgekeeper.service.config import ServiceFile

NS_PER_SECOND = 1_000_000_000


def source_events(file: ServiceFile) -> tuple[Iterator[MarketEvent], int]:
    """Return the configured market's events in time order and the time they start at, ns."""
    if file.simulation is not None:
        return simulate_events(file.simulation), file.simulation.start_ts_ns
    from hedgekeeper.market.replay.scenarios import scenario  # recorded data only when asked for

    replay = file.replay
    recorded = scenario(replay.scenario)  # type: ignore[union-attr]
    return recorded.events(spread_bps=replay.spread_bps), recorded.start_ns  # type: ignore[union-attr]


def shifted(event: MarketEvent, offset_ns: int) -> MarketEvent:
    """Return ``event`` moved ``offset_ns`` later (an oracle round's update time too).

    >>> from hedgekeeper.market.events import Trade
    >>> shifted(Trade(5, "BTC", 100.0, 1.0, 1), 10).ts_ns
    15
    """
    if offset_ns == 0:
        return event
    if isinstance(event, OracleUpdate):
        return dataclasses.replace(event, ts_ns=event.ts_ns + offset_ns, updated_at_ns=event.updated_at_ns + offset_ns)
    return dataclasses.replace(event, ts_ns=event.ts_ns + offset_ns)


@dataclass
class Split:
    """A stream cut at ``at_ns``: ``before`` yields the events before it; ``after`` the rest, once ``before`` is spent."""

    at_ns: int
    _events: Iterator[MarketEvent]
    _first_after: MarketEvent | None = None
    _spent: bool = False

    def before(self) -> Iterator[MarketEvent]:
        """Yield the events stamped before ``at_ns``, in order."""
        for event in self._events:
            if event.ts_ns >= self.at_ns:
                self._first_after = event
                break
            yield event
        self._spent = True

    def after(self) -> Iterator[MarketEvent]:
        """Return the events at or after ``at_ns`` (skipping what ``before`` has not yielded)."""
        if not self._spent:
            for _ in self.before():
                pass
        head = [] if self._first_after is None else [self._first_after]
        return itertools.chain(head, self._events)


def split_at(events: Iterator[MarketEvent], at_ns: int) -> Split:
    """Return ``events`` cut at ``at_ns`` (ns since the epoch)."""
    return Split(at_ns, events)


class PacedEvents:
    """Hand out events when ``clock`` reaches their time.

    Parameters
    ----------
    events : the events, in time order
    clock : the engine's clock (a ``WallClock``, perhaps faster than real time)
    speed : clock seconds per wall-clock second, to turn a wait into wall seconds
    wake : set to end a wait early (a stop, a command); cleared by the waiter
    """

    def __init__(self, events: Iterator[MarketEvent], clock: Clock, speed: float, wake: threading.Event) -> None:
        self._events = events
        self._clock = clock
        self._speed = speed
        self._wake = wake
        self._pending: MarketEvent | None = None

    def next(self) -> MarketEvent | None:
        """Return the next event if its time has come, None if the caller should look again (woken early).

        Raises
        ------
        StopIteration
            When the stream has ended.
        """
        if self._pending is None:
            self._pending = next(self._events)
        wait_s = (self._pending.ts_ns - self._clock.now_ns()) / NS_PER_SECOND / self._speed
        if wait_s > 0.0:
            self._wake.wait(min(wait_s, 0.5))
            self._wake.clear()
            if self._pending.ts_ns > self._clock.now_ns():
                return None
        event, self._pending = self._pending, None
        return event
