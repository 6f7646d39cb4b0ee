"""Fills as the venues push them, with REST as the fallback and the safety net.

``StreamedFills`` reports the fills of every venue account once, as ``VenueFills``
does (the same de-duplication by venue and fill id, the same pricing against the
order's arrival mid), taking them from the venues' fill streams (``FillStreams``)
where a venue has one, and asking ``Venue.fills`` by REST:

* on the first call, of every venue (what happened before the streams opened);
* every ``poll_interval_ns`` for a venue without a stream, or whose stream is down;
* ``poll_interval_ns`` after a stream (re)opens, once: the fills made between its
  failure and its subscription taking effect;
* every ``check_interval_ns`` for a venue whose stream is up: a safety net.

A fill both paths see is reported by the first to bring it. A stream reports the fills
made since it was seen open (their venue time at or after the ``now_ns`` of that call):
what came before, a venue or its client may replay on subscribing (a recording, a
cache kept across reconnections), and the REST askings above report. Intervals are in
ns of the ``now_ns`` given to ``new``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from hedgekeeper.execution.fill_streams import FillStreams
from hedgekeeper.execution.simulated_taker import TakerFill
from hedgekeeper.execution.venue_fills import ArrivalMid, VenueFills


@dataclass
class StreamedFills:
    """Report every fill once, from the fill streams where there are some, else by REST.

    Parameters
    ----------
    fills : the reporter (de-duplication, pricing) and the venues' REST ``fills``
    streams : the venues' fill streams
    poll_interval_ns : the least time between two REST askings of a venue without a live stream, ns
    check_interval_ns : the time between two REST askings of a venue whose stream is up, ns
    """

    fills: VenueFills
    streams: FillStreams
    poll_interval_ns: int
    check_interval_ns: int
    rest_asks: dict[str, int] = field(default_factory=dict, init=False)
    """REST askings made, by venue name."""
    _asked_ns: dict[str, float] = field(default_factory=dict, init=False)
    _opened_ns: dict[str, float] = field(default_factory=dict, init=False)  # when each stream's opening was seen
    _openings: dict[str, int] = field(default_factory=dict, init=False)

    def new(self, now_ns: int, arrival_mid: ArrivalMid) -> list[TakerFill]:
        """Return the fills not reported yet: those streamed since the last call, then those REST brings.

        Parameters
        ----------
        now_ns : the time, ns (of the clock the intervals count in)
        arrival_mid : the arrival mid of each client order id (see ``VenueFills``)
        """
        if not self._asked_ns:
            self.streams.start()
            for name in self.fills.orders.venues:
                self._asked_ns[name], self._opened_ns[name], self._openings[name] = -math.inf, -math.inf, 0
        streamed = self.streams.take()
        for name, openings in self.streams.openings.items():
            if openings != self._openings[name]:
                self._openings[name], self._opened_ns[name] = openings, now_ns
        reported: list[TakerFill] = []
        for name, fill in streamed:
            if fill.ts_ns >= self._opened_ns[name]:
                reported += self.fills.report(name, [fill], arrival_mid)
        due = [name for name in self._asked_ns if now_ns >= self._due_ns(name)]
        if due:
            reported += self.fills.new(arrival_mid, due)
        for name in due:
            self.rest_asks[name] = self.rest_asks.get(name, 0) + 1
            self._asked_ns[name] = now_ns
        return reported

    def _due_ns(self, name: str) -> float:
        """Return when ``name`` is next to be asked by REST."""
        asked = self._asked_ns[name]
        due = asked + (self.check_interval_ns if self.streams.up(name) else self.poll_interval_ns)
        settled = self._opened_ns[name] + self.poll_interval_ns  # the fills made before the stream took effect
        return min(due, settled) if asked < settled else due

    def close(self) -> None:
        """Stop the streams."""
        self.streams.close()
