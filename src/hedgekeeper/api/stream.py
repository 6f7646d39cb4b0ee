"""The live stream: server-sent events of Greeks, decisions and fills.

``events(service)`` yields, as ``text/event-stream`` frames, a ``greeks`` event each
time the service publishes a new snapshot (at most every ``interval_s``), and a
``decision`` or ``fill`` event for each one recorded since the client connected
(by their sequence numbers). A comment line every 15 s keeps proxies from
closing a quiet stream. The dashboard reads it with ``fetch`` (so the token goes in
the Authorization header, never in a URL).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from hedgekeeper.service.snapshot import ServiceSnapshot


def frame(event: str, data: Any) -> str:
    """Return one server-sent event.

    >>> frame("fill", {"a": 1})
    'event: fill\\ndata: {"a": 1}\\n\\n'
    """
    return f"event: {event}\ndata: {json.dumps(data, separators=(', ', ': '))}\n\n"


def greeks_event(snapshot: ServiceSnapshot) -> dict[str, Any]:
    """Return the ``greeks`` event of a snapshot: time, status, per-underlying risk and costs."""
    return {"engine_ns": snapshot.engine_ns, "status": snapshot.status, "paused": snapshot.paused,
            "kill_switch": snapshot.kill_switch, "underlyings": snapshot.underlyings, "costs": snapshot.costs,
            "hedging": snapshot.hedging, "sequence": snapshot.sequence}


async def events(read: Any, interval_s: float = 0.25, max_events: int | None = None) -> AsyncIterator[str]:
    """Yield the stream's frames; ``read()`` returns the current snapshot. Ends after ``max_events`` if given."""
    snapshot: ServiceSnapshot = read()
    last_decision = max((d["sequence"] for d in snapshot.decisions), default=0)
    last_fill = max((f["sequence"] for f in snapshot.fills), default=0)
    last_sequence = -1
    sent, idle = 0, 0.0
    while max_events is None or sent < max_events:
        snapshot = read()
        frames = []
        if snapshot.sequence != last_sequence:
            last_sequence = snapshot.sequence
            frames.append(frame("greeks", greeks_event(snapshot)))
        for decision in reversed(snapshot.decisions):
            if decision["sequence"] > last_decision:
                frames.append(frame("decision", decision))
                last_decision = decision["sequence"]
        for fill in reversed(snapshot.fills):
            if fill["sequence"] > last_fill:
                frames.append(frame("fill", fill))
                last_fill = fill["sequence"]
        for text in frames:
            yield text
            sent += 1
            if max_events is not None and sent >= max_events:
                return
        if not frames:
            idle += interval_s
            if idle >= 15.0:
                idle = 0.0
                yield ": keep-alive\n\n"
        else:
            idle = 0.0
        await asyncio.sleep(interval_s)
