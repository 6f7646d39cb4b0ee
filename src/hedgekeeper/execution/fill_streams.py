"""The venues' fill streams, consumed on an event loop and buffered until taken.

A venue that announces ``Capability.FILL_STREAM`` pushes our fills on its private
websocket (``Venue.fill_stream``). ``FillStreams`` keeps one consumer task per such
venue on the loop the venues are driven from (a ccxt session is bound to its loop),
so the streams advance whenever that loop runs: while the executor waits on a
request, or when ``take`` lets it run once. A stream that fails or ends is logged
and opened again ``reopen_s`` seconds (wall time) later; in between it is *down*,
and the caller falls back to asking the venue by REST.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hedgekeeper.venues.base import Capability, supports
from hedgekeeper.venues.orders import Fill

logger = logging.getLogger(__name__)


@dataclass
class FillStreams:
    """Consume the fill stream of every venue that has one; hand out the fills pushed since the last ``take``.

    Parameters
    ----------
    venues : the venues by name; those without ``Capability.FILL_STREAM`` are left alone
    loop : the event loop the venues are driven from
    reopen_s : seconds (wall time) from a stream's failure to its reopening
    """

    venues: Mapping[str, Any]
    loop: asyncio.AbstractEventLoop
    reopen_s: float = 1.0
    openings: dict[str, int] = field(default_factory=dict, init=False)
    """Times each venue's stream was opened, by venue name."""
    failures: dict[str, int] = field(default_factory=dict, init=False)
    """Times each venue's stream failed or ended, by venue name."""
    _buffer: list[tuple[str, Fill]] = field(default_factory=list, init=False)
    _tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict, init=False)
    _down: set[str] = field(default_factory=set, init=False)

    @property
    def streamed(self) -> tuple[str, ...]:
        """Return the names of the venues whose fills are streamed."""
        return tuple(name for name, venue in self.venues.items() if supports(venue, Capability.FILL_STREAM))

    def start(self) -> None:
        """Create the consumer tasks (they run when the loop next runs); a second call does nothing."""
        for name in self.streamed:
            if name not in self._tasks:
                self.openings[name] = self.failures[name] = 0
                self._tasks[name] = self.loop.create_task(self._consume(name), name=f"fill-stream-{name}")

    def up(self, name: str) -> bool:
        """Return whether ``name``'s stream is open (started, and not waiting to reopen after a failure)."""
        return name in self._tasks and name not in self._down

    def take(self) -> list[tuple[str, Fill]]:
        """Let the loop run once, then return the (venue name, fill) pushed since the last call, in arrival order."""
        if self._tasks:
            self.loop.run_until_complete(asyncio.sleep(0))
        taken, self._buffer = self._buffer, []
        return taken

    def close(self) -> None:
        """Cancel the consumer tasks and wait for them to end."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            self.loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        self._tasks.clear()

    async def _consume(self, name: str) -> None:
        venue = self.venues[name]
        while True:
            self.openings[name] += 1
            self._down.discard(name)
            try:
                async for fill in venue.fill_stream():
                    self._buffer.append((name, fill))
                reason = "it ended"
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - any failure of the stream: logged, then reopened
                reason = f"{type(error).__name__}: {error}"
            self._down.add(name)
            self.failures[name] += 1
            logger.warning("%s fill stream down (%s); fills asked by REST until it reopens in %g s",
                           name, reason, self.reopen_s)
            await asyncio.sleep(self.reopen_s)
