"""The running service: start (open the store, rebuild the exchanges, recover), loop on the engine's thread, stop.

``Service.start`` does, in order: open the store (migrations applied); find where
the last run left off (its heartbeat: the engine time and the wall time it was
written at); open the market source and, for the simulated exchange, rebuild it
from its journal over the market up to the time to resume at (the engine time of
the last heartbeat plus the time the service was down, times the speed), or, with
``[live]``, open the venues' streams (``live_market.py``), which run on the present; start the
components (the chain: ``components.py``), before the engine's clock starts, so that
a simulated market does not run on while a chain is deployed; put the
engine together over the stored book (the file's, at the first start); and start
the engine's thread, which recovers (``recovery.py``) before it decides anything.

The engine's thread takes each event in turn: the simulated exchange sees it, the
engine processes it, and what the engine recorded (decisions, risk samples,
fills, order changes) goes to the store through the ``StoreWriter``. Orders are on
disk before they are sent; fills with the book they change in one transaction.
Every ``snapshot_interval_s`` it hands the API a new ``ServiceSnapshot``. Commands
from the API (pause, kill switch, bands) wait in a queue that the thread empties
between events. A stop (SIGINT/SIGTERM through ``main.py``, the end of the market,
``--duration``) ends deciding, cancels or keeps the working orders as configured,
writes the book and a clean stop, and closes the venues.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from decimal import Decimal
from typing import Any

from hedgekeeper.engine.book_state import BookState
from hedgekeeper.engine.clock import WallClock
from hedgekeeper.engine.persistence.rows import decision_row, fill_row, greeks_row, off_venue_fill_row
from hedgekeeper.engine.persistence.store import Store, json_safe
from hedgekeeper.engine.persistence.writer import StoreWriter
from hedgekeeper.engine.records import RiskSample
from hedgekeeper.errors import ConfigError, HedgekeeperError
from hedgekeeper.market.events import MarketEvent
from hedgekeeper.policy.config import build_policy
from hedgekeeper.policy.decision import HedgeMemory
from hedgekeeper.policy.risk_profile import RiskProfile, load_risk_profile
from hedgekeeper.portfolio.positions import Balance, Position
from hedgekeeper.portfolio.values import Money
from hedgekeeper.service.components import ServiceComponent, chain_components
from hedgekeeper.service.config import ServiceSpec
from hedgekeeper.service.controls import Command
from hedgekeeper.service.credentials import venue_environment
from hedgekeeper.service.live_market import LiveMarket, open_live_market
from hedgekeeper.service.market_feed import PacedEvents, shifted, source_events, split_at
from hedgekeeper.service.metrics import ServiceMetrics
from hedgekeeper.service.order_journal import OrderJournal, PersistedVenue
from hedgekeeper.service.recovery import fills_in_transitions, position_differences, restored_order
from hedgekeeper.service.simulated_exchange import ExchangeJournal, SimulatedMarketVenues
from hedgekeeper.service.snapshot import ServiceSnapshot, bands_view, breaches, finite, sample_measures
from hedgekeeper.service.wiring import build_machinery, exchange_traded, hedge_streams, market_key

logger = logging.getLogger(__name__)

NS_PER_SECOND = 1_000_000_000
NS_PER_MS = 1_000_000
RECENT = 200
HISTORY = 600


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
        self._decisions: deque[dict[str, Any]] = deque(maxlen=RECENT)
        self._fills: deque[dict[str, Any]] = deque(maxlen=RECENT)
        self._history: dict[str, deque[list[float | None]]] = {}
        self._latest: dict[str, RiskSample] = {}
        self._recovering = False
        self._sequence = 0
        self._counts = {"decisions": 0, "fills": 0, "off_venue_fills": 0}
        self._costs = {"fee": 0.0, "slippage": 0.0}
        self._recovery: dict[str, Any] = {}
        self._orphans: set[str] = set()
        self._published_events = 0
        self._published_rejected = 0
        self._started: list[ServiceComponent] = []
        self.market: SimulatedMarketVenues | None = None
        self.live_market: LiveMarket | None = None

    # ------------------------------------------------------------------ start

    @property
    def snapshot(self) -> ServiceSnapshot:
        """Return the latest view of the service (never blocks)."""
        return self._snapshot

    def start(self) -> None:
        """Open the store, rebuild the exchanges, put the engine together and start its thread (which recovers first).

        Raises
        ------
        HedgekeeperError
            If the store, a venue or the configuration cannot be opened.
        """
        try:
            self._start()
        except BaseException:
            self.status = "stopped"
            for component in self._started:
                try:
                    component.stop()
                except Exception as error:  # noqa: BLE001 - every part started must get its stop
                    logger.exception("stopping %s: %s", component.name, error)
            if hasattr(self, "writer"):
                self.writer.close()
            self._close_markets()
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
        raw_venues: dict[str, Any] = {}
        if real:
            for _ in split.before():
                pass
            for account in spec.file.exchange.ccxt:
                venue = self._ccxt_venue(account.venue, venue_environment(account.venue, account.key_file,
                                                                          self.environment))
                raw_venues[venue.name] = venue
        elif exchange_traded(spec):
            simulated = spec.file.exchange.simulated
            journal = ExchangeJournal(simulated.journal_path, market_key(spec))
            self.market, replayed = SimulatedMarketVenues.open(
                exchange_traded(spec), hedge_streams(spec), spec.book.balances, spec.file.fees,
                spec.book.margin_model, int(simulated.order_latency_ms * NS_PER_MS), journal, source_start_ns,
                split.before())
            self._recovery["exchange_requests_replayed"] = replayed
            raw_venues = dict(self.market.venues)
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
        book, profile, version = self._initial_state(engine_ns)
        costs = self.store.costs()
        self._costs = {"fee": costs.get("fee", 0.0), "slippage": costs.get("slippage", 0.0)}
        self._counts["decisions"] = total = self.store.decision_count()
        for i, row in enumerate(self.store.decisions(RECENT)):  # newest first, as the deques keep them
            self._decisions.append(_jsonable(row) | {"sequence": total - i})
        self._counts["fills"] = total = len(self.store.fill_ids())
        for i, fill in enumerate(self.store.fills(RECENT)):
            self._fills.append(_jsonable(vars_of(fill)) | {"sequence": total - i})
        self.profile, self.config_version = profile, version
        self.journal: OrderJournal | None = None
        venues = {}

        def journal_of() -> OrderJournal:
            return self.journal  # type: ignore[return-value]

        for name, venue in raw_venues.items():
            venues[name] = PersistedVenue(venue, _LazyJournal(journal_of), hidden=self.store.fill_ids(name))
        self.venues = venues
        machinery = build_machinery(spec, clock=self.clock, book=book, profile=profile, venues=venues,
                                    id_prefix=prefix, order_clock=None if self.market is None else self.market.clock)
        self.machinery = machinery
        self.engine = machinery.engine
        self.journal = OrderJournal(machinery.manager, self.writer, self.run_id)
        controls = self.store.controls()
        machinery.policy.paused = bool(controls.get("paused"))
        if controls.get("kill_switch"):
            machinery.check.engage(controls["kill_switch"])
        self.engine.restore_hedge_memories({u: HedgeMemory(ts, ref) for u, (ts, ref)
                                            in self.store.hedge_memories().items()})
        self._thread = threading.Thread(target=self._run, name="engine", daemon=True)
        self._thread.start()

    def _initial_state(self, engine_ns: int) -> tuple[BookState, RiskProfile, int]:
        """Return the book, the bands and the configuration version: the store's, or the file's at the first start.

        After a restart the bands in force are the latest version's (a change made through
        the API survives), unless the file's bands differ from those it had at its last
        version: an edited file makes a new version and wins.
        """
        spec = self.spec
        stored = self.store.book()
        latest = self.store.latest_config()
        if stored is None or latest is None:
            book = spec.book
            with self.store.transaction() as connection:
                Store.write_book(connection, [(p.instrument_id, p.size_contracts, p.entry_price_usd)
                                              for p in book.positions],
                                 [(b.venue, b.money.currency, str(b.money.amount)) for b in book.balances], engine_ns)
                version = Store.write_config_version(connection, ts_ns=engine_ns, source=spec.source,
                                                     profile=spec.profile.model_dump(mode="json"),
                                                     document=spec.document())
            return (BookState(book.registry, book.positions, book.balances, book.market, book.margin_model),
                    spec.profile, version)
        positions, balances = stored
        file_profile = json_safe(spec.profile.model_dump(mode="json"))
        from_file = [v for v in self.store.config_versions() if v["source"] == spec.source]
        if not from_file or from_file[-1]["profile"] != file_profile:  # the file's bands were edited: they win
            with self.store.transaction() as connection:
                Store.write_config_version(connection, ts_ns=engine_ns, source=spec.source, profile=file_profile,
                                           document=spec.document())
            latest = self.store.latest_config()
        try:
            profile = load_risk_profile(latest["profile"])
        except ConfigError as error:
            raise ConfigError(f"{self.store.url}: configuration version {latest['version']}: {error}") from None
        book = BookState(spec.book.registry, [Position(i, s, e) for i, s, e in positions],
                         [Balance(v, Money(Decimal(a), c)) for v, c, a in balances], spec.book.market,
                         spec.book.margin_model)
        return book, profile, int(latest["version"])

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
        recorder = engine.recorder
        if recorder.decisions or recorder.samples or recorder.fills:
            self._record()
        self.journal.sync()  # type: ignore[union-attr]
        elapsed = time.perf_counter_ns() - started
        self.metrics.latency.observe(elapsed * 1e-9)
        if self.latencies_ns is not None:
            self.latencies_ns.append(elapsed)

    def _record(self) -> None:
        """Write what the engine recorded since the last call, and keep the recent part for the API."""
        recorder = self.engine.recorder
        writes = []
        if recorder.decisions:
            decisions = list(recorder.decisions)
            recorder.decisions.clear()
            rows = [decision_row(d) for d in decisions]
            writes.append(lambda c, rows=rows: Store.write_decisions(c, rows))
            for decision, row in zip(decisions, rows, strict=True):
                self._counts["decisions"] += 1
                self._decisions.appendleft(row | {"sequence": self._counts["decisions"]})
                self.metrics.decisions.labels(act=str(decision.act).lower()).inc()
            if any(d.act for d in decisions):
                memories = {u: (m.last_rebalance_ts_ns, m.last_reference_usd)
                            for u, m in self.engine.hedge_memories().items()}
                writes.append(lambda c, memories=memories: Store.write_hedge_memories(c, memories))
        if recorder.samples:
            samples = list(recorder.samples)
            recorder.samples.clear()
            rows = [greeks_row(s) for s in samples]
            writes.append(lambda c, rows=rows: Store.write_greeks(c, rows))
            for sample in samples:
                self._latest[sample.underlying] = sample
                measures = sample_measures(sample)
                self._history.setdefault(sample.underlying, deque(maxlen=HISTORY)).append(
                    [sample.ts_ns, measures["delta_coin"], measures["gamma_usd_per_pct"],
                     measures["vega_usd_per_vol_pt"], measures["weight"], sample.spot_usd,
                     finite(sample.liquidation_distance)])
                for greek in breaches(sample, self.profile):
                    self.metrics.breaches.labels(underlying=sample.underlying, greek=greek).inc()
        if recorder.fills:
            self._record_fills(writes)
        for write in writes:
            self.writer.submit(write)

    def _record_fills(self, writes: list[Callable[[Any], None]]) -> None:
        """Write the new fills with the book they changed, in one transaction, and wait for the commit."""
        recorder = self.engine.recorder
        records = list(recorder.fills)
        recorder.fills.clear()
        rows = []
        for record in records:
            venue = self.venues.get(record.venue)
            fill = None if venue is None else venue.take_fill(record.instrument_id, record.ts_ns,
                                                                 record.size_contracts, record.price_usd)
            if fill is not None:
                row = fill_row(record.venue, fill, record, recovered=self._recovering)
            else:  # an option traded at the model price, off any venue
                if venue is not None:
                    logger.error("fill of %g %s at %g on %s matches no venue fill: stored under our own id",
                                 record.size_contracts, record.instrument_id, record.price_usd, record.venue)
                self._counts["off_venue_fills"] += 1
                row = off_venue_fill_row(f"taker-{self.run_id}-{self._counts['off_venue_fills']}", record,
                                         record.price_usd, record.fee_usd, "USD")
            rows.append(row)
            self._counts["fills"] += 1
            self._costs["fee"] += record.fee_usd
            self._costs["slippage"] += record.slippage_usd
            self._fills.appendleft({k: v for k, v in row.items()} | {"sequence": self._counts["fills"]})
            self.metrics.fills.inc()
        positions, balances = self._book_rows()
        now_ns = self.clock.now_ns()

        def write(connection: Any) -> None:
            Store.write_fills(connection, rows)
            Store.write_book(connection, positions, balances, now_ns)

        writes.append(write)
        for pending in writes:
            self.writer.submit(pending)
        writes.clear()
        self.writer.flush()

    def _book_rows(self) -> tuple[list[tuple[str, float, float | None]], list[tuple[str, str, str]]]:
        book = self.engine.book
        return ([(p.instrument_id, p.size_contracts, p.entry_price_usd) for p in book.positions],
                [(b.venue, b.money.currency, str(b.money.amount)) for b in book.balances])

    def _heartbeat(self, now_ns: int) -> None:
        wall_ns = WallClock().now_ns()
        run_id = self.run_id
        self.writer.submit(lambda c: Store.write_heartbeat(c, run_id, wall_ns=wall_ns, engine_ns=now_ns))
        if self._orphans:
            self._follow_orphans(now_ns)

    def _follow_orphans(self, now_ns: int) -> None:
        """Reconcile the orders restored still working (no hedge of this run follows them); book their fills."""
        machinery = self.machinery
        executor = machinery.executor
        if executor is None:
            return
        executor.run(machinery.manager.reconcile())
        self.journal.sync()  # type: ignore[union-attr]
        fills = machinery.hedger.poll(self.engine.book, now_ns)
        if fills:
            self.engine.recorder.fills.extend(fills)
            self.engine.invalidate()
            self._record()
        self._orphans = {cid for cid in self._orphans if not machinery.manager.orders[cid].status.is_terminal}

    # -------------------------------------------------------------- recovery

    def _recover(self) -> None:
        """Reconcile orders, fills and positions with every venue before deciding (``recovery.py``)."""
        machinery, executor = self.machinery, self.machinery.executor
        summary: dict[str, Any] = dict(self._recovery)
        summary["first_start"] = self.first_start
        for component in self.components:
            summary[component.name] = component.recover(self)
        if executor is None:
            summary.update(reconciled=True, venues={})
            self._recovery = summary
            return
        for name, venue in machinery.manager.venues.items():  # a real venue must list what we trade there
            listed = {i.instrument_id for i in executor.run(venue.instruments())}
            missing = sorted(i.instrument_id for i in exchange_traded(self.spec) if i.venue == name
                             and i.instrument_id not in listed)
            if missing:
                raise ConfigError(f"{name} lists no instrument {', '.join(missing)} (it lists "
                                  f"{', '.join(sorted(listed)) or 'none'}); name the hedge instruments as the venue does")
        stored_fills = self.store.fills()
        by_order: dict[str, list[Any]] = {}
        for fill in stored_fills:
            if fill.client_order_id is not None:
                by_order.setdefault(fill.client_order_id, []).append(fill)
        working = self.store.orders(working_only=True)
        for stored in working:
            reflected = fills_in_transitions(self.store.transitions(stored.client_order_id))
            order = restored_order(stored, by_order.get(stored.client_order_id, []), self.spec.book.registry,
                                   reflected)
            self.journal.adopt(order, stored.transition_count)  # type: ignore[union-attr]
        transitions = executor.run(machinery.manager.reconcile())
        self.journal.sync()  # type: ignore[union-attr]
        self._recovering = True
        fills = machinery.hedger.poll(self.engine.book, self.clock.now_ns())
        self.engine.recorder.fills.extend(fills)
        if fills:
            self.engine.invalidate()
            self._record()
        self._recovering = False
        initial = {p.instrument_id: p.size_contracts for p in self.spec.book.positions}
        book_positions = {p.instrument_id: p.size_contracts for p in self.engine.book.positions}
        venues: dict[str, Any] = {}
        for name, venue in machinery.manager.venues.items():
            traded = [i.instrument_id for i in exchange_traded(self.spec) if i.venue == name]
            held = executor.run(venue.positions())
            venues[name] = position_differences(held, book_positions, initial, traded)
            for instrument_id in venues[name]["mismatches"]:
                row = venues[name]["positions"][instrument_id]
                logger.error("%s: %s: the venue holds %g contracts, the book's change is %g", name, instrument_id,
                             row["venue"], row["service"])
        self._orphans = {o.client_order_id for o in working
                         if not machinery.manager.orders[o.client_order_id].status.is_terminal}
        summary.update(orders_restored=len(working), orders_still_working=len(self._orphans), order_transitions=len(transitions), fills_recovered=len(fills),
                       venues=venues, reconciled=not any(v["mismatches"] for v in venues.values()))
        self._recovery = summary
        run_id = self.run_id
        self.writer.submit(lambda c: Store.write_recovery(c, run_id, summary))
        self.writer.flush()
        logger.info("recovery: %d working orders restored, %d transitions, %d fills picked up, books %s",
                    len(working), len(transitions), len(fills),
                    "reconciled" if summary["reconciled"] else "DIFFER")

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
                answered.append((command, self._execute(command), None))
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

    def _execute(self, command: Command) -> Any:
        now_ns = self.clock.now_ns()
        machinery = self.machinery
        if command.name in ("pause", "resume"):
            machinery.policy.paused = command.name == "pause"
            self.engine.invalidate()
            self._write_control("paused", "yes" if machinery.policy.paused else "", now_ns)
            return {"paused": machinery.policy.paused}
        if command.name == "kill":
            reason = str(command.arguments.get("reason") or "kill switch engaged through the API")
            machinery.check.engage(reason)
            cancelled = self._cancel_working()
            self._write_control("kill_switch", reason, now_ns)
            return {"kill_switch": reason, "cancelled": cancelled}
        if command.name == "release":
            machinery.check.release()
            self._write_control("kill_switch", "", now_ns)
            return {"kill_switch": ""}
        if command.name == "set_bands":
            profile: RiskProfile = command.arguments["profile"]
            machinery.policy.inner = build_policy(self.spec.policy, profile)  # raises ConfigError, nothing changed
            self.profile = profile
            self.engine.invalidate()
            holder: dict[str, int] = {}
            document = self.spec.document()
            source = str(command.arguments.get("source") or "api")

            def write(connection: Any) -> None:
                holder["version"] = Store.write_config_version(
                    connection, ts_ns=now_ns, source=source, profile=profile.model_dump(mode="json"), document=document)

            self.writer.submit(write)
            self.writer.flush()
            self.config_version = holder["version"]
            return {"version": self.config_version, "profile": profile.model_dump(mode="json")}
        raise HedgekeeperError(f"unknown command {command.name!r}")

    def _write_control(self, name: str, value: str, now_ns: int) -> None:
        self.writer.submit(lambda c: Store.write_control(c, name, value, now_ns))
        self.writer.flush()

    def _cancel_working(self) -> int:
        """Cancel every working order; return how many were asked to cancel."""
        executor = self.machinery.executor
        working = self.machinery.manager.working()
        if executor is None or not working:
            return 0
        for order in working:
            try:
                executor.run(self.machinery.manager.cancel(order.client_order_id))
            except HedgekeeperError as error:
                logger.warning("cancel of %s failed: %s", order.client_order_id, error)
        self.journal.sync()  # type: ignore[union-attr]
        return len(working)

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
                    cancelled = self._cancel_working()
                    logger.info("shutdown: %d working orders cancelled", cancelled)
                else:
                    logger.info("shutdown: %d working orders kept open", len(machinery.manager.working()))
                if self.engine.recorder.decisions or self.engine.recorder.samples or self.engine.recorder.fills:
                    self._record()
                positions, balances = self._book_rows()
                now_ns = self.clock.now_ns()
                memories = {u: (m.last_rebalance_ts_ns, m.last_reference_usd)
                            for u, m in self.engine.hedge_memories().items()}
                run_id, wall_ns = self.run_id, WallClock().now_ns()

                def write(connection: Any) -> None:
                    Store.write_book(connection, positions, balances, now_ns)
                    Store.write_hedge_memories(connection, memories)
                    Store.write_run_stop(connection, run_id, wall_ns=wall_ns, engine_ns=now_ns)

                self.writer.submit(write)
                self.writer.flush()
                if machinery.executor is not None:
                    for venue in machinery.manager.venues.values():
                        machinery.executor.run(venue.close())
                    machinery.executor.close()
        except Exception as error:  # noqa: BLE001 - the stop must finish
            logger.exception("shutdown: %s", error)
        finally:
            for component in self.components:
                try:
                    component.stop()
                except Exception as error:  # noqa: BLE001 - every part must get its stop
                    logger.exception("stopping %s: %s", component.name, error)
            if hasattr(self, "writer"):
                self.writer.close()
            self._close_markets()
            self.status = "stopped"
            self._publish()

    def _close_markets(self) -> None:
        """Close the simulated exchanges' market and the live streams, whichever are open."""
        if self.market is not None:
            self.market.close()
        if self.live_market is not None:
            self.live_market.close()

    # -------------------------------------------------------------- snapshot

    def _publish(self) -> None:
        """Hand the API a new view of the service (one reference assignment)."""
        engine = getattr(self, "engine", None)
        if engine is None:
            self._snapshot = ServiceSnapshot(name=self.settings.name, status=self.status, engine_ns=0,
                                             speed=self.settings.speed)
            return
        events = engine.events_processed
        rejected = engine.validator.rejected
        self.metrics.events.inc(events - self._published_events)
        self.metrics.rejected.inc(rejected - self._published_rejected)
        self._published_events, self._published_rejected = events, rejected
        manager = self.machinery.manager
        for state, count in manager.status_counts().items():
            self.metrics.orders.labels(state=state.value).set(count)
        for kind, total in self._costs.items():
            self.metrics.costs.labels(kind=kind).set(total)
        registry = self.spec.book.registry
        underlyings = {}
        for feed in self.spec.feeds():
            u = feed.underlying
            sample = self._latest.get(u)
            book = engine.order_books.get(feed.spot_stream)
            view: dict[str, Any] = {"spot_usd": None if book is None else book.mid_usd,
                                    "bands": bands_view(self.profile, u), "breaches": []}
            if sample is not None:
                view.update(ts_ns=sample.ts_ns, greeks=sample_measures(sample), equity_usd=sample.equity_usd,
                            liquidation_distance=finite(sample.liquidation_distance),
                            breaches=breaches(sample, self.profile))
            underlyings[u] = view
        self._sequence += 1
        self._snapshot = ServiceSnapshot(
            name=self.settings.name, status=self.status, engine_ns=self.clock.now_ns(), speed=self.settings.speed,
            paused=self.machinery.policy.paused, kill_switch=self.machinery.check.reason,
            config_version=self.config_version, profile=self.profile.model_dump(mode="json"),
            underlyings=underlyings, history={u: list(h) for u, h in self._history.items()},
            positions=[{"instrument_id": p.instrument_id, "venue": registry.get(p.instrument_id).venue,
                        "underlying": registry.get(p.instrument_id).underlying, "size_contracts": p.size_contracts,
                        "entry_price_usd": p.entry_price_usd} for p in engine.book.positions],
            balances=[{"venue": b.venue, "currency": b.money.currency, "amount": str(b.money.amount)}
                      for b in engine.book.balances],
            open_orders=[{"client_order_id": o.client_order_id, "venue": o.venue,
                          "instrument_id": o.request.instrument_id, "side": o.request.side.value,
                          "quantity": str(o.request.quantity.value),
                          "price": None if o.request.price is None else str(o.request.price.value),
                          "status": o.status.value, "filled": str(o.filled_quantity), "created_ns": o.created_ns}
                         for o in manager.working()],
            decisions=list(self._decisions), fills=list(self._fills),
            costs={"fees_usd": self._costs["fee"], "slippage_usd": self._costs["slippage"],
                   "total_usd": self._costs["fee"] + self._costs["slippage"], "fills": self._counts["fills"]},
            counters={"events_processed": events, "events_rejected": rejected, "quiet_ticks": engine.quiet_ticks,
                      "decisions": self._counts["decisions"], "fills": self._counts["fills"]},
            hedging=list(engine.hedging_underlyings()), recovery=dict(self._recovery), sequence=self._sequence,
            components={c.name: c.view() for c in self.components if callable(getattr(c, "view", None))}
            | ({} if self.live_market is None else {"live_market": self.live_market.view()}),
        )


def _create_ccxt_venue(config: Any, environment: dict[str, str]) -> Any:
    from hedgekeeper.venues.ccxt.venue import create_ccxt_venue  # ccxt only when a real venue is asked for

    return create_ccxt_venue(config, environment)


def vars_of(record: Any) -> dict[str, Any]:
    """Return a slotted dataclass's fields as a dict."""
    return {name: getattr(record, name) for name in record.__slots__}


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (finite(v) if isinstance(v, float) else v) for k, v in row.items() if k != "id"}


class _LazyJournal:
    """The order journal, found when the first order is sent (it is made after the venues are wrapped)."""

    def __init__(self, find: Callable[[], OrderJournal]) -> None:
        self._find = find

    def before_send(self, request: Any) -> None:
        self._find().before_send(request)
