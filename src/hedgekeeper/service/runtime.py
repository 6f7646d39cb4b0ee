"""The running service's life cycle: start, the engine's thread, stop. Each job in between has a module of its own.

``Service.start`` does, in order: open the store (migrations applied); find where
the last run left off (its heartbeat: the engine time and the wall time it was
written at); open the market source and, for the simulated exchange, rebuild it
from its journal over the market up to the time to resume at (the engine time of
the last heartbeat plus the time the service was down, times the speed), or, with
``[live]``, open the venues' streams (``live_market.py``), which run on the present; start the
components (the chain: ``components.py``), before the engine's clock starts, so that
a simulated market does not run on while a chain is deployed; put the
engine together (``wiring.py``) over the stored book and bands (the file's, at the
first start: ``recovery.initial_state``); and start the engine's thread, which
recovers (``recovery.Reconciler``) before it decides anything.

The engine's thread takes each event in turn: the simulated exchange sees it, the
engine processes it, and what the engine recorded (decisions, risk samples,
fills) goes to the store through the ``StoreWriter`` (``recording.py``), order
changes through the order journal (``order_journal.py``). Orders are on disk
before they are sent; fills with the book they change in one transaction. Every
``snapshot_interval_s`` it hands the API a new ``ServiceSnapshot``
(``publishing.py``). Commands from the API (pause, kill switch, bands) wait in a
queue that the thread empties between events, carried out by ``controls.py``'s
``CommandHandler``. A stop (SIGINT/SIGTERM through ``main.py``, the end of the market,
``--duration``) ends deciding, cancels or keeps the working orders as configured,
writes the book and a clean stop, and closes the venues.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from typing import Any

from hedgekeeper.engine.clock import WallClock
from hedgekeeper.engine.persistence.store import Store
from hedgekeeper.engine.persistence.writer import StoreWriter
from hedgekeeper.errors import HedgekeeperError
from hedgekeeper.market.events import MarketEvent
from hedgekeeper.policy.decision import HedgeMemory
from hedgekeeper.policy.risk_profile import RiskProfile
from hedgekeeper.service.components import ServiceComponent, chain_components
from hedgekeeper.service.config import ServiceSpec
from hedgekeeper.service.controls import Command, CommandHandler
from hedgekeeper.service.credentials import venue_environment
from hedgekeeper.service.live_market import LiveMarket, open_live_market
from hedgekeeper.service.market_feed import PacedEvents, shifted, source_events, split_at
from hedgekeeper.service.metrics import ServiceMetrics
from hedgekeeper.service.order_journal import OrderJournal, PersistedVenue
from hedgekeeper.service.publishing import Publisher
from hedgekeeper.service.recording import RecordKeeper, book_rows, hedge_memory_rows
from hedgekeeper.service.recovery import Reconciler, initial_state
from hedgekeeper.service.simulated_exchange import ExchangeJournal, SimulatedMarketVenues
from hedgekeeper.service.snapshot import ServiceSnapshot
from hedgekeeper.service.wiring import build_machinery, exchange_traded, hedge_streams, market_key

logger = logging.getLogger(__name__)

NS_PER_SECOND = 1_000_000_000
NS_PER_MS = 1_000_000


class Service:
    """One portfolio's live service.

    Parameters
    ----------
    spec : the loaded service file
    database_url : the store's URL, instead of the file's ``service.database_url``
    environment : where credentials are read (default ``os.environ``)
    record_latencies : keep every event's loop time, ns (the benchmark)
    components : more parts started with the service (``components.py``); default: the
        ``[chain]`` table's (none while it is disabled)
    ccxt_venue : makes a real venue from its ``CcxtVenueConfig`` and an environment; default
        ``create_ccxt_venue`` (another: the same venue behind a gateway, or a recorded one)
    """

    def __init__(self, spec: ServiceSpec, *, database_url: str | None = None,
                 environment: dict[str, str] | None = None, record_latencies: bool = False,
                 components: Sequence[ServiceComponent] | None = None,
                 ccxt_venue: Callable[..., Any] | None = None) -> None:
        self.spec = spec
        self._ccxt_venue = ccxt_venue or _create_ccxt_venue
        self.components = list(chain_components(spec) if components is None else components)
        self.settings = spec.file.service
        self.database_url = database_url or self.settings.database_url
        self.environment = environment
        self.metrics = ServiceMetrics()
        self.latencies_ns: list[int] | None = [] if record_latencies else None
        self.on_finished: Callable[[], None] | None = None
        self.status = "starting"
        self.error: BaseException | None = None
        self._snapshot = ServiceSnapshot(name=self.settings.name, status="starting", engine_ns=0,
                                         speed=self.settings.speed)
        self._commands: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._recovery: dict[str, Any] = {}
        self._started: list[ServiceComponent] = []
        self._trading_venues: dict[str, Any] = {}  # the venues orders go through, by name, until closed
        self.market: SimulatedMarketVenues | None = None
        self.live_market: LiveMarket | None = None

    # ------------------------------------------------------------------ start

    @property
    def snapshot(self) -> ServiceSnapshot:
        """Return the latest view of the service (never blocks)."""
        return self._snapshot

    @property
    def profile(self) -> RiskProfile:
        """Return the bands in force (set at the start, changed by ``set_bands``)."""
        return self._controls.profile

    @property
    def config_version(self) -> int:
        """Return the configuration version of the bands in force."""
        return self._controls.config_version

    def start(self) -> None:
        """Open the store, rebuild the exchanges, put the engine together and start its thread (which recovers first).

        A start that fails part way closes what it had opened (the venues and the executor's
        event loop, the components, the writer, the markets, the store) before it raises.

        Raises
        ------
        HedgekeeperError
            If the store, a venue or the configuration cannot be opened.
        """
        try:
            self._start()
        except BaseException:
            self.status = "stopped"
            self._release()
            if hasattr(self, "store"):
                self.store.close()
            raise

    def _start(self) -> None:
        spec, settings = self.spec, self.settings
        self.store = Store.open(self.database_url)
        self.writer = StoreWriter(self.store)
        runs = self.store.runs()
        system = WallClock()
        wall_ns = system.now_ns()
        real = spec.file.exchange.kind == "ccxt"
        if spec.file.live is not None:  # the venues' own market, as it comes
            self._offset_ns, resume_ns, events = 0, wall_ns, iter(())
        else:
            events, source_start_ns = source_events(spec.file)
            if real:  # the market is moved to the present, once, at the first start
                first_engine_ns = runs[0].started_engine_ns if runs else wall_ns
                self._offset_ns = first_engine_ns - source_start_ns
                resume_ns = wall_ns
                events = (shifted(event, self._offset_ns) for event in events)
            else:
                self._offset_ns = 0
                down_ns = 0 if not runs else min(max(wall_ns - runs[-1].heartbeat_wall_ns, 0) * settings.speed,
                                                 settings.max_catch_up_s * NS_PER_SECOND)
                resume_ns = source_start_ns if not runs else runs[-1].heartbeat_engine_ns + int(down_ns)
        self.first_start = not runs
        split = split_at(events, resume_ns)
        if real:
            for _ in split.before():
                pass
            for account in spec.file.exchange.ccxt:
                venue = self._ccxt_venue(account.venue, venue_environment(account.venue, account.key_file,
                                                                          self.environment))
                self._trading_venues[venue.name] = venue
        elif exchange_traded(spec):
            simulated = spec.file.exchange.simulated
            journal = ExchangeJournal(simulated.journal_path, market_key(spec))
            self.market, replayed = SimulatedMarketVenues.open(
                exchange_traded(spec), hedge_streams(spec), spec.book.balances, spec.file.fees,
                spec.book.margin_model, int(simulated.order_latency_ms * NS_PER_MS), journal, source_start_ns,
                split.before())
            self._recovery["exchange_requests_replayed"] = replayed
            self._trading_venues.update(self.market.venues)
        self._live: Iterator[MarketEvent] = split.after()
        for component in self.components:  # before the clock: a simulated market waits while they start
            component.start(self)
            self._started.append(component)

        self.clock = WallClock() if real else WallClock(start_ns=resume_ns, speed=settings.speed)
        if spec.file.live is not None:
            self.live_market = open_live_market(spec, self._ccxt_venue, self.environment, self._wake)
            self._source: PacedEvents | LiveMarket = self.live_market
        else:
            self._source = PacedEvents(self._live, self.clock, settings.speed if self._offset_ns == 0 else 1.0,
                                       self._wake)
        engine_ns = self.clock.now_ns()
        prefix = f"hk{wall_ns:x}"
        with self.store.transaction() as connection:
            self.run_id = Store.write_run_start(connection, id_prefix=prefix, wall_ns=wall_ns, engine_ns=engine_ns)
        book, profile, version = initial_state(spec, self.store, engine_ns)
        self.journal: OrderJournal | None = None
        venues = {}

        def journal_of() -> OrderJournal:
            return self.journal  # type: ignore[return-value]

        for name, venue in self._trading_venues.items():
            venues[name] = PersistedVenue(venue, _LazyJournal(journal_of), hidden=self.store.fill_ids(name))
        self.venues = venues
        machinery = build_machinery(spec, clock=self.clock, book=book, profile=profile, venues=venues,
                                    id_prefix=prefix, order_clock=None if self.market is None else self.market.clock)
        self.machinery = machinery
        self.engine = machinery.engine
        self.journal = journal = OrderJournal(machinery.manager, self.writer, self.run_id)
        self._controls = CommandHandler(spec, machinery, journal, self.writer, profile, version)
        self._controls.restore(self.store.controls())
        self.engine.restore_hedge_memories({u: HedgeMemory(ts, ref) for u, (ts, ref)
                                            in self.store.hedge_memories().items()})
        self._records = RecordKeeper(self.engine, self.writer, venues, self.metrics, self.run_id)
        self._records.load(self.store)
        self._reconciler = None if machinery.executor is None else Reconciler(
            spec, machinery, machinery.executor, journal, self._records)
        self._publisher = Publisher(spec, machinery, self._records, self.metrics, self.components, self.live_market)
        self._thread = threading.Thread(target=self._run, name="engine", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------ the thread

    def _run(self) -> None:
        try:
            self.status = "recovering"
            self._publish()
            self._recover()
            self.status = "running"
            self._publish()
            step_ns = int(self.settings.snapshot_interval_s * self.settings.speed * NS_PER_SECOND)
            beat_ns = int(self.settings.heartbeat_s * self.settings.speed * NS_PER_SECOND)
            next_snapshot = next_beat = self.clock.now_ns()
            while not self._stop.is_set():
                if not self._commands.empty():
                    self._drain_commands()
                try:
                    event = self._source.next()
                except StopIteration:
                    logger.info("the market source has ended")
                    break
                if event is not None:
                    self._step(event)
                now_ns = self.clock.now_ns()
                if now_ns >= next_snapshot:
                    self._publish()
                    next_snapshot = now_ns + step_ns
                if now_ns >= next_beat:
                    self._heartbeat(now_ns)
                    next_beat = now_ns + beat_ns
        except BaseException as error:  # noqa: BLE001 - reported, then the service stops
            logger.exception("the engine's thread failed: %s", error)
            self.error = error
        finally:
            self._shutdown()
            if self.on_finished is not None:
                self.on_finished()

    def _step(self, event: MarketEvent) -> None:
        """Take one event through the exchange, the engine and the records."""
        started = time.perf_counter_ns()
        if self.market is not None:
            self.market.feed(event)
        engine = self.engine
        engine.process(event)
        for component in self.components:
            component.on_event(event)
        self._records.record(self.profile)
        self.journal.sync()  # type: ignore[union-attr]
        elapsed = time.perf_counter_ns() - started
        self.metrics.latency.observe(elapsed * 1e-9)
        if self.latencies_ns is not None:
            self.latencies_ns.append(elapsed)

    def _heartbeat(self, now_ns: int) -> None:
        wall_ns = WallClock().now_ns()
        run_id = self.run_id
        self.writer.submit(lambda c: Store.write_heartbeat(c, run_id, wall_ns=wall_ns, engine_ns=now_ns))
        if self._reconciler is not None and self._reconciler.orphans:
            self._reconciler.follow_orphans(now_ns, self.profile)

    # -------------------------------------------------------------- recovery

    def _recover(self) -> None:
        """Let the components recover, then reconcile orders, fills and positions with the venues (``recovery.py``)."""
        summary: dict[str, Any] = dict(self._recovery)
        summary["first_start"] = self.first_start
        for component in self.components:
            summary[component.name] = component.recover(self)
        if self._reconciler is None:  # nothing traded on an exchange
            summary.update(reconciled=True, venues={})
        else:
            summary.update(self._reconciler.reconcile(self.store, self.profile))
            run_id = self.run_id
            self.writer.submit(lambda c: Store.write_recovery(c, run_id, summary))
            self.writer.flush()
            logger.info("recovery: %d working orders restored, %d transitions, %d fills picked up, books %s",
                        summary["orders_restored"], summary["order_transitions"], summary["fills_recovered"],
                        "reconciled" if summary["reconciled"] else "DIFFER")
        self._recovery = summary

    # -------------------------------------------------------------- commands

    def submit(self, name: str, **arguments: Any) -> Future[Any]:
        """Queue a command for the engine's thread; return the future of its answer."""
        command = Command(name, arguments)
        if self._thread is None or not self._thread.is_alive():
            command.result.set_exception(HedgekeeperError(f"the service is {self.status}: {name} refused"))
            return command.result
        self._commands.put(command)
        self._wake.set()
        return command.result

    def _drain_commands(self) -> None:
        answered: list[tuple[Command, Any, BaseException | None]] = []
        while not self._commands.empty():
            command = self._commands.get()
            try:
                answered.append((command, self._controls.execute(command), None))
            except HedgekeeperError as error:
                answered.append((command, None, error))
            except Exception as error:  # noqa: BLE001 - the loop must survive a bad command
                logger.exception("command %s failed", command.name)
                answered.append((command, None, error))
        self._publish()  # the answer is seen in the snapshot as soon as it arrives
        for command, result, error in answered:
            if error is None:
                command.result.set_result(result)
            else:
                command.result.set_exception(error)

    # ------------------------------------------------------------------ stop

    def stop(self, timeout_s: float = 60.0) -> None:
        """Stop deciding, settle the open orders as configured, persist and close; wait for the thread."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait for the engine's thread to end; return whether it has."""
        if self._thread is None:
            return True
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def _shutdown(self) -> None:
        self.status = "stopping"
        try:
            self._publish()
            machinery = getattr(self, "machinery", None)
            if machinery is not None:
                if self.settings.on_shutdown == "cancel":
                    cancelled = self._controls.cancel_working()
                    logger.info("shutdown: %d working orders cancelled", cancelled)
                else:
                    logger.info("shutdown: %d working orders kept open", len(machinery.manager.working()))
                self._records.record(self.profile)
                positions, balances = book_rows(self.engine.book)
                now_ns = self.clock.now_ns()
                memories = hedge_memory_rows(self.engine)
                run_id, wall_ns = self.run_id, WallClock().now_ns()

                def write(connection: Any) -> None:
                    Store.write_book(connection, positions, balances, now_ns)
                    Store.write_hedge_memories(connection, memories)
                    Store.write_run_stop(connection, run_id, wall_ns=wall_ns, engine_ns=now_ns)

                self.writer.submit(write)
                self.writer.flush()
        except Exception as error:  # noqa: BLE001 - the stop must finish
            logger.exception("shutdown: %s", error)
        finally:
            self._release()
            self.status = "stopped"
            self._publish()

    def _release(self) -> None:
        """Close what the start opened, however far it got: the venues, the components, the writer, the markets."""
        self._close_trading_venues()
        for component in self._started:
            try:
                component.stop()
            except Exception as error:  # noqa: BLE001 - every part started must get its stop
                logger.exception("stopping %s: %s", component.name, error)
        if hasattr(self, "writer"):
            self.writer.close()
        self._close_markets()

    def _close_trading_venues(self) -> None:
        """Close each venue orders go through once, on the executor's event loop if there is one; then that loop.

        A ccxt session belongs to the loop it was opened on: the executor's, once the
        engine is put together; before that no loop has used the venues, and each is
        closed on a loop of its own.
        """
        venues, self._trading_venues = self._trading_venues, {}
        machinery = getattr(self, "machinery", None)
        executor = None if machinery is None else machinery.executor
        run: Callable[[Any], Any] = asyncio.run if executor is None else executor.run
        if executor is not None:
            executor.stop_streams()  # before the venues' close breaks them (a "stream down" warning)
        for name, venue in venues.items():
            try:
                run(venue.close())
            except Exception as error:  # noqa: BLE001 - every venue gets its close
                logger.exception("closing %s: %s", name, error)
        if executor is not None:
            executor.close()

    def _close_markets(self) -> None:
        """Close the simulated exchanges' market and the live streams, whichever are open."""
        if self.market is not None:
            self.market.close()
        if self.live_market is not None:
            self.live_market.close()

    # -------------------------------------------------------------- snapshot

    def _publish(self) -> None:
        """Hand the API a new view of the service (one reference assignment)."""
        self._snapshot = self._publisher.publish(self.status, self.profile, self.config_version, self._recovery)


def _create_ccxt_venue(config: Any, environment: dict[str, str]) -> Any:
    from hedgekeeper.venues.ccxt.venue import create_ccxt_venue  # ccxt only when a real venue is asked for

    return create_ccxt_venue(config, environment)


class _LazyJournal:
    """The order journal, found when the first order is sent (it is made after the venues are wrapped)."""

    def __init__(self, find: Callable[[], OrderJournal]) -> None:
        self._find = find

    def before_send(self, request: Any) -> None:
        self._find().before_send(request)
