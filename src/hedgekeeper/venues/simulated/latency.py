"""Requests in flight: what was sent to the exchange and when it reaches the matching engine.

A place, amend or cancel sent at ``t`` arrives at ``t + latency`` (the latencies of
``SimulatedExchangeConfig``). Arrivals are handled in time order, ties in the order
sent, so the same inputs always give the same fills.

Examples
--------
>>> pending = PendingActions()
>>> seen = []
>>> for arrival_ns in (30, 10, 10):
...     pending.push(PendingAction(arrival_ns, seen.append))
>>> while (action := pending.pop_due(20)) is not None:
...     action.run(action.arrival_ns)
>>> seen, len(pending), pending.next_arrival_ns()
([10, 10], 1, 30)
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from hedgekeeper.errors import VenueRejected


@dataclass(eq=False)
class PendingAction:
    """A request on its way to the matching engine.

    Attributes
    ----------
    arrival_ns : int, when it reaches the matching engine, ns since the epoch
    run : called with the time it is handled, ns; raises ``VenueRejected`` to refuse it
    error : the refusal, once handled and refused
    """

    arrival_ns: int
    run: Callable[[int], None]
    error: VenueRejected | None = field(default=None, init=False)


class PendingActions:
    """The requests in flight, earliest arrival first (ties: first sent first)."""

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, PendingAction]] = []
        self._sequence = itertools.count()

    def push(self, action: PendingAction) -> None:
        """Put ``action`` in flight."""
        heapq.heappush(self._heap, (action.arrival_ns, next(self._sequence), action))

    def pop_due(self, now_ns: int) -> PendingAction | None:
        """Return the earliest action arrived by ``now_ns`` (removed), None if none has."""
        if self._heap and self._heap[0][0] <= now_ns:
            return heapq.heappop(self._heap)[2]
        return None

    def next_arrival_ns(self) -> int | None:
        """Return the next arrival time, None when nothing is in flight."""
        return self._heap[0][0] if self._heap else None

    def __len__(self) -> int:
        return len(self._heap)
