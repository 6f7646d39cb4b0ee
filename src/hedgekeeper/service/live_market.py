"""The live market: the venues' books and trades from their websockets, handed to the engine's thread as they come.

``LiveMarket`` runs one asyncio event loop on its own thread. Each configured
stream (``[live]``, ``LiveStream``) is a task that reads the venue's book, trade or
option-mark stream (``CcxtVenue.book_stream`` / ``trade_stream`` / ``mark_stream``,
ccxt.pro), names each event
as the engine knows the stream, and puts it on a queue (``EventQueue``). The engine's thread takes
the events with ``next``, the same call as ``PacedEvents.next`` for a simulated or
recorded market: an event, or None when none came within half a second (or a
command woke it), so the loop stays free to answer commands and stop.

A stream that fails is logged and opened again ``reconnect_s`` later (the venue's
ccxt client already retried what failed in transit); one the venue cannot serve
(an unknown market: ``ConfigError``) is logged and left closed. When every stream
has ended the market ends, as a recorded one does. Events keep the venue's own
time; the engine's validator judges their age and order per stream.

The queue is bounded where the events supersede each other and lossless where they
do not. A book snapshot (``BookUpdate`` with ``is_snapshot``, what ccxt.pro hands
out each time) replaces the whole book, so a stream's snapshot not yet taken is
dropped when a newer one arrives, which takes its place at the end of the queue:
an engine that falls behind reads one book per stream, the newest, never a backlog
of older ones, and what it reads is still in arrival order (each stream's book and
trades in order, as the validator wants). Trades and option marks are never
dropped; a backlog of them past ``BACKLOG_WARNING`` events is logged, each time it
doubles. Each stream counts the snapshots it dropped (``StreamState.books_coalesced``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from hedgekeeper.errors import ConfigError, HedgekeeperError
from hedgekeeper.market.events import BookUpdate, MarketEvent
from hedgekeeper.service.config import ServiceSpec

logger = logging.getLogger(__name__)

WAIT_S = 0.5
BACKLOG_WARNING = 10_000
"""Events waiting for the engine at which the backlog is first logged (then at each doubling)."""
STREAM_METHODS = {"book": "book_stream", "trades": "trade_stream", "marks": "mark_stream"}
"""The venue's method that opens each kind of stream."""


class StreamingVenue(Protocol):
    """What the live market needs of a venue: its streams and a way to close it (``CcxtVenue``)."""

    name: str

    async def instruments(self) -> Sequence[Any]:
        """Return the venue's configured markets (loading them checks they exist)."""
        ...

    def book_stream(self, instrument_id: str) -> AsyncIterator[Any]:
        """Yield the instrument's book as the venue updates it."""
        ...

    def trade_stream(self, instrument_id: str) -> AsyncIterator[Any]:
        """Yield the instrument's public trades."""
        ...

    def mark_stream(self, instrument_id: str) -> AsyncIterator[Any]:
        """Yield the option's implied vols as the venue marks it."""
        ...

    async def close(self) -> None:
        """Close the venue's connections."""
        ...


@dataclass(frozen=True)
class StreamSpec:
    """One stream to read: from which venue, which instrument, book or trades, and the engine's name for it."""

    venue: str
    instrument_id: str
    kind: str  # "book", "trades" or "marks"
    stream: str


@dataclass
class StreamState:
    """What one stream has done so far, for the dashboard and the logs."""

    events: int = 0
    last_ts_ns: int | None = None
    restarts: int = 0
    error: str = ""
    open: bool = True
    books_coalesced: int = 0  # book snapshots dropped unread for a newer one


_END = object()


class EventQueue:
    """The events read and not yet taken, in arrival order, with only the newest unread book snapshot per stream.

    Safe between threads: the streams' event loop puts, the engine's thread takes.

    Parameters
    ----------
    backlog_warning : events waiting at which the backlog is first logged (then at each doubling)

    Examples
    --------
    >>> from hedgekeeper.market.events import Trade
    >>> events = EventQueue()
    >>> events.put(BookUpdate(1, "BTC", ((100.0, 1.0),), ((101.0, 1.0),), True), "BTC book")
    False
    >>> events.put(Trade(2, "BTC", 101.0, 0.5, 1), "BTC trades")
    False
    >>> events.put(BookUpdate(3, "BTC", ((100.5, 1.0),), ((101.5, 1.0),), True), "BTC book")
    True
    >>> [events.take().ts_ns, events.take().ts_ns, events.take()]
    [2, 3, None]
    """

    def __init__(self, backlog_warning: int = BACKLOG_WARNING) -> None:
        self._lock = threading.Lock()
        self._events: OrderedDict[int, Any] = OrderedDict()  # arrival number -> event
        self._snapshot_at: dict[Hashable, int] = {}  # stream -> arrival number of its last snapshot put
        self._arrivals = 0
        self._ended = False
        self._backlog_warning = self._warn_at = backlog_warning

    def put(self, event: MarketEvent, stream: Hashable) -> bool:
        """Append ``event`` of ``stream``; return whether it superseded an unread book snapshot of that stream.

        A book delta is kept with the snapshot before it (it changes that book), and the
        next snapshot then supersedes neither.
        """
        with self._lock:
            arrival, self._arrivals = self._arrivals, self._arrivals + 1
            superseded = False
            if isinstance(event, BookUpdate) and event.is_snapshot:
                earlier = self._snapshot_at.get(stream)
                superseded = earlier is not None and self._events.pop(earlier, None) is not None
                self._snapshot_at[stream] = arrival
            elif isinstance(event, BookUpdate):
                self._snapshot_at.pop(stream, None)
            self._events[arrival] = event
            waiting = len(self._events)
            if waiting >= self._warn_at:
                self._warn_at *= 2
                logger.warning("the engine is %d live market events behind (trades and marks are kept, each "
                               "stream's unread book is only its newest)", waiting)
        return superseded

    def end(self) -> None:
        """Mark the end of the market: once the queue is empty, ``take`` returns ``_END`` for good."""
        with self._lock:
            self._ended = True

    def take(self) -> Any:
        """Return the oldest event not yet taken; ``_END`` if there is none and the market has ended, else None."""
        with self._lock:
            if self._events:
                return self._events.popitem(last=False)[1]
            self._warn_at = self._backlog_warning
            return _END if self._ended else None


class LiveMarket:
    """Read the venues' streams on a thread of their own; hand their events out in arrival order.

    Parameters
    ----------
    venues : the streaming venues by name (not the ones orders go through: a ccxt session
        belongs to the event loop it runs on)
    streams : what to read
    wake : set whenever an event arrives (and by whoever else wants the reader awake)
    reconnect_s : wall-clock seconds before a failed stream is opened again
    """

    def __init__(self, venues: Mapping[str, StreamingVenue], streams: Sequence[StreamSpec], wake: threading.Event,
                 reconnect_s: float = 1.0) -> None:
        self._venues = dict(venues)
        self._streams = list(streams)
        self._wake = wake
        self._reconnect_s = reconnect_s
        self._queue = EventQueue()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="live-market", daemon=True)
        self._tasks: list[asyncio.Task[None]] = []
        self._watcher: asyncio.Task[None] | None = None
        self.states = {spec: StreamState() for spec in self._streams}

    def start(self, timeout_s: float = 120.0) -> None:
        """Load every venue's markets, then open every stream.

        Raises
        ------
        ConfigError
            If a venue lists no market of that id.
        VenueUnavailable
            If a venue could not be reached.
        """
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._open_all(), self._loop).result(timeout_s)
        except BaseException:
            self.close()
            raise

    async def _open_all(self) -> None:
        for venue in self._venues.values():
            await venue.instruments()
        self._tasks = [asyncio.create_task(self._pump(spec), name=f"{spec.stream} {spec.kind}")
                       for spec in self._streams]
        self._watcher = asyncio.create_task(self._watch_ends())

    async def _watch_ends(self) -> None:
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._queue.end()
        self._wake.set()

    def _opener(self, spec: StreamSpec) -> Callable[[], AsyncIterator[Any]]:
        method = getattr(self._venues[spec.venue], STREAM_METHODS[spec.kind])
        return lambda: method(spec.instrument_id)

    async def _pump(self, spec: StreamSpec) -> None:
        state, opener = self.states[spec], self._opener(spec)
        while True:
            try:
                async for event in opener():
                    if event.stream != spec.stream:
                        event = dataclasses.replace(event, stream=spec.stream)
                    state.events += 1
                    state.last_ts_ns = event.ts_ns
                    if self._queue.put(event, spec):
                        state.books_coalesced += 1
                    self._wake.set()
                state.error = "the venue ended the stream"
            except ConfigError as error:
                state.error, state.open = str(error), False
                logger.error("%s %s from %s: %s; the stream stays closed", spec.stream, spec.kind, spec.venue,
                             error)
                return
            except (HedgekeeperError, OSError) as error:
                state.error = str(error)
                logger.warning("%s %s from %s failed: %s; opened again in %g s", spec.stream, spec.kind,
                               spec.venue, error, self._reconnect_s)
            except Exception as error:  # noqa: BLE001 - a venue's surprise must not end the market
                state.error = f"{type(error).__name__}: {error}"
                logger.exception("%s %s from %s failed; opened again in %g s", spec.stream, spec.kind, spec.venue,
                                 self._reconnect_s)
            state.restarts += 1
            await asyncio.sleep(self._reconnect_s)

    def next(self) -> MarketEvent | None:
        """Return the next event, or None if none arrived within half a second or the reader was woken.

        Raises
        ------
        StopIteration
            When every stream has ended (and every later call, too).
        """
        event = self._queue.take()
        if event is None:
            self._wake.wait(WAIT_S)
            self._wake.clear()  # an event put after this is still in the queue below
            event = self._queue.take()
        if event is _END:
            raise StopIteration
        return event

    def view(self) -> dict[str, Any]:
        """Return each stream's state: events, last venue time, restarts, last error, book snapshots coalesced."""
        return {f"{spec.stream} {spec.kind}": dataclasses.asdict(state) | {"venue": spec.venue}
                for spec, state in self.states.items()}

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop every stream, close the venues and end the thread."""
        if not self._thread.is_alive():
            return

        async def stop() -> None:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            for venue in self._venues.values():
                try:
                    await venue.close()
                except Exception as error:  # noqa: BLE001 - every venue gets its close
                    logger.warning("closing %s: %s", venue.name, error)

        try:
            asyncio.run_coroutine_threadsafe(stop(), self._loop).result(timeout_s)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout_s)
            if not self._thread.is_alive():
                self._loop.close()


def open_live_market(spec: ServiceSpec, ccxt_venue: Callable[..., StreamingVenue],
                     environment: Mapping[str, str] | None, wake: threading.Event) -> LiveMarket:
    """Return the ``[live]`` table's market, started: one streaming venue per exchange named.

    Parameters
    ----------
    spec : the service's ``ServiceSpec``, with a ``[live]`` table
    ccxt_venue : makes a venue from a ``CcxtVenueConfig`` and an environment (``create_ccxt_venue``)
    environment : where the accounts' credentials are read (default ``os.environ``)
    wake : the engine thread's wake-up event
    """
    from hedgekeeper.service.credentials import venue_environment
    from hedgekeeper.venues.ccxt.dialects import dialect_of
    from hedgekeeper.venues.ccxt.parsing import instrument_id_of

    live = spec.file.live
    assert live is not None, "open_live_market needs a [live] table"
    accounts = {account.venue.exchange: account for account in spec.file.exchange.ccxt}
    venues: dict[str, StreamingVenue] = {}
    streams = []
    for exchange in dict.fromkeys(stream.exchange for stream in live.streams):
        account = accounts[exchange]
        market_ids = tuple(dict.fromkeys(s.market_id for s in live.streams if s.exchange == exchange))
        config = account.venue.model_copy(update={"market_ids": market_ids})
        venues[exchange] = ccxt_venue(config, venue_environment(account.venue, account.key_file, environment))
    for stream in live.streams:
        instrument_id = instrument_id_of(stream.market_id, dialect_of(stream.exchange))
        for kind in STREAM_METHODS:
            if getattr(stream, kind):
                streams.append(StreamSpec(stream.exchange, instrument_id, kind, stream.stream or instrument_id))
    market = LiveMarket(venues, streams, wake, live.reconnect_s)
    market.start()
    return market
