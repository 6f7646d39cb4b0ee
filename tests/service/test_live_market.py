"""The live market: venues' streams handed to the engine's thread, and the service run on them end to end.

The unit tests drive ``LiveMarket`` with in-memory streaming venues (the protocol's
four methods). The end-to-end test runs the whole service with ``[live]`` and a
real-venue account against Deribit's recorded REST answers and websocket frames
(``tests/venues/ccxt``), through ccxt's own code: the book the websocket sends
becomes the engine's, the engine decides on it, and the hedge reaches the venue as
an order priced off that book. A start that fails on that market, wherever it
fails, closes every venue it opened, once, and leaves no resource open.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import shutil
import threading
import time
import warnings
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager, nullcontext
from decimal import Decimal
from pathlib import Path
from typing import Any

import ccxt
import httpx
import pytest
from service.live_deribit import CALL, PERPETUAL, LiveDeribit, live_document
from service.service_builders import TOKEN, serving_api, wait_for
from venues.ccxt.recorded_exchange import RecordedExchange, serving
from venues.ccxt.recorded_venues import DERIBIT_WS, deribit_websocket
from venues.ccxt.venue_builders import ENVIRONMENT

from hedgekeeper.engine.persistence.store import Store
from hedgekeeper.errors import ConfigError, VenueUnavailable
from hedgekeeper.market.events import BookUpdate, Trade
from hedgekeeper.service.config import parse_service
from hedgekeeper.service.live_market import _END, EventQueue, LiveMarket, StreamSpec
from hedgekeeper.service import runtime
from hedgekeeper.service.runtime import Service
from hedgekeeper.venues.ccxt.venue import CcxtVenue, create_ccxt_venue

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


class ScriptedVenue:
    """A streaming venue whose streams play scripts: each opening of a stream takes the next script.

    A script is a list of events and exceptions, played in order with a little pause; a
    stream with no script left waits until it is cancelled.
    """

    def __init__(self, name: str, scripts: dict[tuple[str, str], list[list[Any]]],
                 unknown: ConfigError | None = None) -> None:
        self.name = name
        self.scripts = scripts
        self.unknown = unknown
        self.opened: list[tuple[str, str]] = []
        self.closed = False

    async def instruments(self) -> list[Any]:
        if self.unknown is not None:
            raise self.unknown
        return []

    async def _play(self, key: tuple[str, str]) -> AsyncIterator[Any]:
        self.opened.append(key)
        scripts = self.scripts.get(key, [])
        if not scripts:
            await asyncio.Event().wait()
        for item in scripts.pop(0):
            await asyncio.sleep(0.001)
            if isinstance(item, BaseException):
                raise item
            yield item
        await asyncio.Event().wait()

    def book_stream(self, instrument_id: str) -> AsyncIterator[Any]:
        return self._play((instrument_id, "book"))

    def trade_stream(self, instrument_id: str) -> AsyncIterator[Any]:
        return self._play((instrument_id, "trades"))

    async def close(self) -> None:
        self.closed = True


def book(ts_ns: int, bid: float, ask: float, stream: str = PERPETUAL) -> BookUpdate:
    return BookUpdate(ts_ns, stream, ((bid, 1.0),), ((ask, 1.0),), True)


def drain(market: LiveMarket, count: int, timeout_s: float = 10.0) -> list[Any]:
    events: list[Any] = []
    deadline = time.monotonic() + timeout_s
    while len(events) < count and time.monotonic() < deadline:
        event = market.next()
        if event is not None:
            events.append(event)
    return events


def test_events_are_named_as_the_engine_knows_the_stream_and_handed_out_as_they_come() -> None:
    venue = ScriptedVenue("deribit", {
        (PERPETUAL, "book"): [[book(1, 100.0, 101.0), book(2, 100.5, 101.5)]],
        (PERPETUAL, "trades"): [[Trade(3, PERPETUAL, 101.0, 0.5, 1)]],
    })
    wake = threading.Event()
    market = LiveMarket({"deribit": venue}, [StreamSpec("deribit", PERPETUAL, "book", "BTC"),
                                             StreamSpec("deribit", PERPETUAL, "trades", PERPETUAL)], wake)
    market.start()
    try:
        events = drain(market, 3)
        assert sorted((type(e).__name__, e.stream, e.ts_ns) for e in events) == [
            ("BookUpdate", "BTC", 1), ("BookUpdate", "BTC", 2), ("Trade", PERPETUAL, 3)]
        assert [e.ts_ns for e in events if isinstance(e, BookUpdate)] == [1, 2]  # a stream keeps its order
        started = time.monotonic()
        assert market.next() is None  # nothing more: it answers after at most half a second
        assert time.monotonic() - started < 2.0
        view = market.view()
        assert view["BTC book"]["events"] == 2 and view["BTC book"]["last_ts_ns"] == 2
        assert view[f"{PERPETUAL} trades"]["events"] == 1
    finally:
        market.close()
    assert venue.closed


def test_a_failed_stream_is_opened_again_and_an_unknown_market_stays_closed_until_the_market_ends() -> None:
    venue = ScriptedVenue("deribit", {
        (PERPETUAL, "book"): [[book(1, 100.0, 101.0), VenueUnavailable("socket closed")],
                              [book(2, 100.5, 101.5), ConfigError("deribit lists no market BTC-PERPETUAL")]],
    })
    market = LiveMarket({"deribit": venue}, [StreamSpec("deribit", PERPETUAL, "book", PERPETUAL)],
                        threading.Event(), reconnect_s=0.05)
    market.start()
    try:
        assert [e.ts_ns for e in drain(market, 2)] == [1, 2]
        with pytest.raises(StopIteration):  # the only stream is closed for good: the market has ended
            deadline = time.monotonic() + 10.0
            while time.monotonic() < deadline:
                market.next()
        with pytest.raises(StopIteration):
            market.next()
        state = market.view()[f"{PERPETUAL} book"]
        assert state["restarts"] == 1 and not state["open"] and "lists no market" in state["error"]
        assert venue.opened == [(PERPETUAL, "book"), (PERPETUAL, "book")]
    finally:
        market.close()


def test_a_venue_that_lists_no_such_market_stops_the_start() -> None:
    venue = ScriptedVenue("deribit", {}, unknown=ConfigError("deribit lists no market BTC-NOPE (market_ids)"))
    market = LiveMarket({"deribit": venue}, [StreamSpec("deribit", "BTC-NOPE.DERIBIT", "book", "BTC")],
                        threading.Event())
    with pytest.raises(ConfigError, match="lists no market BTC-NOPE"):
        market.start()
    assert venue.closed


def delta(ts_ns: int, bid: float, stream: str = PERPETUAL) -> BookUpdate:
    return BookUpdate(ts_ns, stream, ((bid, 2.0),), (), False)


def test_an_unread_snapshot_gives_way_to_the_newer_one_which_takes_its_place_in_arrival_order() -> None:
    events = EventQueue()
    put = [events.put(book(1, 100.0, 101.0), "A"), events.put(Trade(2, PERPETUAL, 101.0, 0.1, 1), "T"),
           events.put(book(3, 10.0, 11.0, "ETH"), "B"), events.put(book(4, 100.5, 101.5), "A"),
           events.put(Trade(5, PERPETUAL, 101.0, 0.2, -1), "T"), events.put(book(6, 100.0, 101.0), "A"),
           events.put(delta(7, 100.25), "A"), events.put(book(8, 100.5, 101.5), "A")]
    # a delta changes the snapshot before it: both stay, and the next snapshot supersedes neither
    assert put == [False, False, False, True, False, True, False, False]
    taken = [events.take() for _ in range(6)]
    assert [e.ts_ns for e in taken[:5]] == [2, 3, 5, 6, 7] and taken[5].ts_ns == 8
    assert events.take() is None


def test_a_burst_of_snapshots_leaves_the_newest_after_the_trades_that_came_before_it() -> None:
    events = EventQueue()
    coalesced = 0
    for i in range(1000):
        coalesced += events.put(book(2 * i, 100.0, 101.0 + i), "A")
        coalesced += events.put(Trade(2 * i + 1, PERPETUAL, 101.0, 0.1, 1), "T")
    coalesced += events.put(book(2000, 100.0, 102.0), "A")
    taken = []
    while (event := events.take()) is not None:
        taken.append(event)
    assert coalesced == 1000
    assert [e.ts_ns for e in taken] == [2 * i + 1 for i in range(1000)] + [2000]


def test_the_end_is_taken_after_every_event_and_for_good() -> None:
    events = EventQueue()
    events.put(book(1, 100.0, 101.0), "A")
    events.end()
    assert events.take().ts_ns == 1
    assert events.take() is _END and events.take() is _END


def test_a_backlog_of_trades_is_kept_whole_and_logged_at_each_doubling(caplog: pytest.LogCaptureFixture) -> None:
    events = EventQueue(backlog_warning=4)
    for i in range(10):
        assert not events.put(Trade(i, PERPETUAL, 101.0, 0.1, 1), "T")
    assert [r.message.split(" live")[0] for r in caplog.records] == [
        "the engine is 4", "the engine is 8"]
    assert [events.take().ts_ns for _ in range(10)] == list(range(10))


def test_an_engine_that_does_not_drain_gets_each_streams_newest_book_every_trade_then_the_end() -> None:
    count = 200
    end = ConfigError("the script is over")
    venue = ScriptedVenue("deribit", {
        (PERPETUAL, "book"): [[book(i, 100.0, 101.0 + i) for i in range(count)] + [end]],
        (CALL, "book"): [[book(i, 1.0, 2.0 + i, CALL) for i in range(count)] + [end]],
        (PERPETUAL, "trades"): [[Trade(i, PERPETUAL, 101.0, 0.1, 1) for i in range(count)] + [end]],
    })
    wake = threading.Event()
    market = LiveMarket({"deribit": venue}, [StreamSpec("deribit", PERPETUAL, "book", PERPETUAL),
                                             StreamSpec("deribit", CALL, "book", CALL),
                                             StreamSpec("deribit", PERPETUAL, "trades", PERPETUAL)], wake)
    market.start()
    try:
        wait_for(lambda: not any(state["open"] for state in market.view().values()), timeout_s=20.0,
                 what="every stream to play its script")
        events = []
        deadline = time.monotonic() + 10.0
        with pytest.raises(StopIteration):  # every stream ended: once the queue is drained, the market ends
            while time.monotonic() < deadline:
                event = market.next()
                if event is not None:
                    events.append(event)
        assert [(e.stream, e.ts_ns) for e in events if isinstance(e, BookUpdate)] in (
            [(PERPETUAL, count - 1), (CALL, count - 1)], [(CALL, count - 1), (PERPETUAL, count - 1)])
        assert [e.ts_ns for e in events if isinstance(e, Trade)] == list(range(count))
        view = market.view()
        assert view[f"{PERPETUAL} book"]["books_coalesced"] == count - 1
        assert view[f"{CALL} book"]["books_coalesced"] == count - 1
        assert view[f"{PERPETUAL} trades"]["books_coalesced"] == 0
        assert view[f"{PERPETUAL} book"]["events"] == count and view[f"{PERPETUAL} trades"]["events"] == count
    finally:
        market.close()


# ----------------------------------------------------------------- the service on Deribit's recorded market


def dashboard_lists_the_streams(url: str) -> None:
    """Open the dashboard in Debian's chromium (when installed) and see one row per stream in the market panel."""
    if not os.path.exists(CHROMIUM):
        return  # the browser test of tests/api says why it skips
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = browser.new_page()
            page.goto(url)
            page.fill("#token", TOKEN)
            page.click("#login button[type=submit]")
            playwright_api.expect(page.locator("#streams tbody tr")).to_have_count(3, timeout=15_000)
            assert page.locator("#market").is_visible()
            assert f"{CALL} marks" in page.locator("#streams").inner_text()
        finally:
            browser.close()


def test_the_service_hedges_on_the_venues_own_market_streamed_from_its_websocket(tmp_path: Path) -> None:
    deribit = LiveDeribit()
    with serving(RecordedExchange(deribit.routes(), {DERIBIT_WS: deribit_websocket})) as exchange:
        base = f"127.0.0.1:{exchange.port}"
        local = {"urls": {"api": {"rest": f"https://{base}", "ws": f"wss://{base}{DERIBIT_WS}"}}, "verify": False}

        def ccxt_venue(config: Any, environment: dict[str, str]) -> Any:
            return create_ccxt_venue(config, environment, settings=local)

        spec = parse_service(live_document(tmp_path), source="live test")
        service = Service(spec, environment=dict(ENVIRONMENT), ccxt_venue=ccxt_venue)
        service.start()
        try:
            wait_for(lambda: bool(deribit.orders), what="the hedge to reach the venue")
            wait_for(lambda: not service.snapshot.open_orders and service.snapshot.counters["events_processed"] >= 4,
                     what="the order to end and every frame to be processed")
            with serving_api(service) as url:
                market = httpx.get(url + "api/market", headers={"Authorization": f"Bearer {TOKEN}"}).json()
                assert set(market["streams"]) == {f"{PERPETUAL} book", f"{PERPETUAL} trades", f"{CALL} marks"}
                metrics = httpx.get(url + "metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
                ages = [line for line in metrics.splitlines() if line.startswith("hedgekeeper_market_stream_age")]
                assert len(ages) == 3  # the recorded frames are from June 2025: each stream's last event is old
                assert all(float(line.split()[-1]) > 86_400 for line in ages)
                coalesced = {line.split('"')[1]: float(line.split()[-1]) for line in metrics.splitlines()
                             if line.startswith("hedgekeeper_market_books_coalesced_total")}
                assert coalesced == {name: stream["books_coalesced"] for name, stream in market["streams"].items()}
                dashboard_lists_the_streams(url)
        finally:
            service.stop()
    assert service.error is None and service.snapshot.status == "stopped"
    assert service.live_market is not None and not service.live_market._thread.is_alive()

    # the book the websocket built (snapshot, then a change deleting the best ask) is the engine's; ccxt.pro
    # hands out the book as it stands when asked, so the two frames make one or two events
    engine_book = service.engine.order_books[PERPETUAL]
    assert (engine_book.best_bid_usd, engine_book.best_ask_usd) == (104_000.0, 104_001.0)
    live = service.snapshot.components["live_market"]
    assert live[f"{PERPETUAL} book"]["last_ts_ns"] == 1_750_000_001_100_000_000
    assert live[f"{PERPETUAL} trades"]["events"] == 2
    # the call is marked at the venue's mark vol (52.1%), not the file's 50%
    assert live[f"{CALL} marks"]["events"] == 1
    assert service.engine.book.market.underlying("BTC").option_vols[CALL] == pytest.approx(0.521)

    mids = {104_000.25, 104_000.5}  # the snapshot's, then the changed book's
    store = Store.open(spec.file.service.database_url)
    try:
        samples = store.greeks("BTC")
        assert samples and {s["spot_usd"] for s in samples} <= mids
        decisions = [d for d in store.decisions(10) if d["act"]]
        assert decisions, "the short calls' delta is outside the band: the engine must act"
        orders = store.orders()
        assert sorted(o.client_order_id for o in orders) == sorted(deribit.orders) and len(orders) <= len(decisions)
        assert all(o.status == "cancelled" for o in orders) and not store.fills()
        delta_coin = samples[0]["delta_coin"]
        assert delta_coin < -0.5
        for sent in deribit.orders.values():
            assert sent["instrument_name"] == "BTC-PERPETUAL" and sent["direction"] == "buy"
            # the hedge buys back the delta: USD of face = delta coin x mid, in 10 USD contracts
            assert sent["amount"] == pytest.approx(-delta_coin * 104_000.5, abs=20.0)
            # an immediate-or-cancel child priced protection_bps (50) through the streamed book's mid
            limits = {(Decimal(repr(mid)) * Decimal("1.005") * 2).to_integral_value("ROUND_DOWN") / 2 for mid in mids}
            assert Decimal(str(sent["price"])) in limits
    finally:
        store.close()
    calls = [c for c in exchange.calls if c.method == "WS" and c.params.get("method") == "public/subscribe"]
    assert sorted(c for call in calls for c in call.params["params"]["channels"]) == [
        "book.BTC-PERPETUAL.100ms", "ticker.BTC-27JUN25-110000-C.100ms", "trades.BTC-PERPETUAL.100ms"]
    assert json.dumps(service.spec.document()).count("test-secret") == 0


# ----------------------------------------------------------------- a start that fails closes what it opened


class RecordingVenues:
    """Make the recorded Deribit's venues as ``Service(ccxt_venue=...)`` asks, keeping each and counting its closes."""

    def __init__(self, port: int) -> None:
        base = f"127.0.0.1:{port}"
        self._settings = {"urls": {"api": {"rest": f"https://{base}", "ws": f"wss://{base}{DERIBIT_WS}"}},
                          "verify": False}
        self.made: list[CcxtVenue] = []
        self.closes: Counter[int] = Counter()  # by index in ``made``

    def __call__(self, config: Any, environment: dict[str, str]) -> CcxtVenue:
        venue = create_ccxt_venue(config, environment, settings=self._settings)
        index, close = len(self.made), venue.close

        async def counted_close() -> None:
            self.closes[index] += 1
            await close()

        venue.close = counted_close  # type: ignore[method-assign]
        self.made.append(venue)
        return venue


class FailingComponent:
    """A part of the service whose start fails (after the trading venues are made, before the streams)."""

    name = "failing"

    def start(self, service: Any) -> None:
        raise RuntimeError("the component could not start")

    def recover(self, service: Any) -> dict[str, Any]:
        return {}

    def on_event(self, event: Any) -> None:
        pass

    def stop(self) -> None:
        pass


@contextmanager
def failing_publisher(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make the start fail once the engine is put together, after the trading venue has used its session."""

    def publisher(spec: Any, machinery: Any, *args: Any) -> Any:
        machinery.executor.run(machinery.manager.venues["deribit"].balances())  # a session on the executor's loop
        raise RuntimeError("the publisher could not start")

    with monkeypatch.context() as patch:
        patch.setattr(runtime, "Publisher", publisher)
        yield


def unlisted_call(document: dict[str, Any]) -> None:
    document["live"]["streams"][1]["market_id"] = "BTC-27JUN25-999999-C"


def closed_for_good(venue: CcxtVenue) -> bool:
    """Return whether ccxt's exchange under ``venue`` holds no session and refuses to open one."""
    exchange = venue._client.exchange
    try:
        asyncio.run(exchange.fetch_time())
    except ccxt.ExchangeClosedByUser:
        return exchange.session is None
    return False


FAILURES: dict[str, tuple[Callable[[dict[str, Any]], None], list[Any], bool, type[BaseException], str]] = {
    # how the document is spoiled, the components, whether the publisher fails, the error, its message
    "a [live] market the venue does not list": (unlisted_call, [], False, ConfigError, "lists no market"),
    "a component that fails to start": (lambda document: None, [FailingComponent()], False, RuntimeError,
                                        "component could not start"),
    "a failure after the engine is put together": (lambda document: None, [], True, RuntimeError,
                                                   "publisher could not start"),
}


@pytest.mark.parametrize("failure", list(FAILURES))
def test_a_failed_start_closes_every_venue_it_opened_once_and_leaves_nothing_open(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str) -> None:
    spoil, components, publisher_fails, error, message = FAILURES[failure]
    document = live_document(tmp_path)
    spoil(document)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        with serving(RecordedExchange(LiveDeribit().routes(), {DERIBIT_WS: deribit_websocket})) as exchange:
            venues = RecordingVenues(exchange.port)
            service = Service(parse_service(document, source="failing start"), environment=dict(ENVIRONMENT),
                              ccxt_venue=venues, components=components)
            with failing_publisher(monkeypatch) if publisher_fails else nullcontext():
                with pytest.raises(error, match=message):
                    service.start()
            assert service.status == "stopped"
            assert venues.made and venues.closes == {index: 1 for index in range(len(venues.made))}
            assert all(closed_for_good(venue) for venue in venues.made)
            del service, venues  # nothing of the start left: what was left open now warns
            gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
