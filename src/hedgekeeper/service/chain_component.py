"""The chain in the service: the oracle, pool, vaults and keeper, driven by the engine's market.

``ChainComponent`` is the ``[chain]`` table's ``ServiceComponent`` (``components.py``).

- ``start`` (before the engine's clock starts, so a simulated market waits for it):
  deploy the system of the chain system file (``hedgekeeper chain deploy``'s
  file) on the in-process EVM (a fresh chain each start: it lives as long as the
  process), or on a node by URL, or attach to a system deployed there before; then
  start the component's worker thread.
- ``on_event`` (the engine's thread): on the underlying's price stream, take the price
  (a top of book's mid, a trade's price, an oracle round's answer), drop a bad one
  (not finite, not positive, a crossed book), and at most once per ``block_interval_s``
  of engine time hand ``(ts_ns, price)`` to the worker through a queue of one slot.
  When the worker is still busy, the waiting price is replaced by the newer one (it is
  counted as dropped): the engine never waits on the chain and the chain never works
  through stale prices.
- The worker, for each price (one "chain tick", as ``hedgekeeper chain keep`` does per
  price): put the chain's next block at the event's time (shifted by a fixed offset,
  since the chain's clock starts at its own present), post the price to the oracle when
  its deviation-plus-heartbeat rule says it is due, trade the pool to that price when
  posted (as arbitrageurs would), then step the keeper, which checks every vault and
  rebalances those worth it or past a hard limit. Then it builds the view the API shows
  (``view``).
- ``recover``: every vault's ``check()``, the oracle's round and the keeper's pending
  transactions (its own and, on a node, those of its account the node has not mined).
- ``stop``: stop the keeper and the worker (after its current tick).

Every keeper decision, keeper transaction event and oracle submission is written to
the service's store (``chain_records``) as the tick makes it, through the store's
writer; a restart shows the latest of them again.

Why a worker thread: a keeper step costs 0.06 to 0.8 s on the in-process EVM (up to
about 3 s with many vaults), while the engine handles an event in well under a
millisecond. On the engine's thread ``on_event`` costs a few microseconds. The worker
is pure Python (py-evm) and shares the GIL: the service sets a 0.5 ms switch interval
(``main.py``), so the engine waits at most about that long for it between events. A
failing tick (a node that does not answer, a reverted call) is logged and counted;
the next price tries again.

Prices: ``price = "scaled"`` (default) maps the market's price ``S`` to the chain's as
``S * P0 / S0``, ``P0`` the oracle's answer at start and ``S0`` the first market price
seen: the path's returns at the oracle's level (a BTC market at 100,000 USD drives an
ETH oracle at 3,000 USD). ``price = "direct"`` posts ``S`` itself.
"""

from __future__ import annotations

import json
import logging
import math
import queue
import threading
import time
from collections import deque
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hedgekeeper.config import load_toml, validate
from hedgekeeper.engine.persistence.store import Store
from hedgekeeper.errors import ConfigError, HedgekeeperError
from hedgekeeper.market.events import MarketEvent, OracleUpdate, TopOfBook, Trade
from hedgekeeper.service.config import ChainSettings, ServiceSpec

if TYPE_CHECKING:
    from hedgekeeper.chain.deploy import DeployedSystem, SystemConfig
    from hedgekeeper.chain.keeper import Keeper
    from hedgekeeper.chain.keeper_config import KeeperConfig
    from hedgekeeper.chain.oracle_updater import OracleSubmission, OracleUpdater

logger = logging.getLogger(__name__)

NS_PER_SECOND = 1_000_000_000
RECENT = 50
"""Keeper decisions, transactions and oracle submissions kept for the view, newest first."""
KEPT = 2_000
"""Keeper records and submissions kept in memory (older ones are counted, then let go)."""
STOP_TIMEOUT_S = 30.0


def load_chain_files(settings: ChainSettings, *, source: str = "") -> tuple[SystemConfig, KeeperConfig,
                                                                           dict[str, Any] | None]:
    """Return the chain system file's system and keeper configurations and the addresses to attach to.

    ``rpc_url`` replaces the system file's backend by that node (its other RPC settings kept).

    Parameters
    ----------
    settings : the ``[chain]`` table
    source : the service file's name, for messages

    Raises
    ------
    ConfigError
        Naming ``chain.system_file`` or ``chain.addresses_file`` and the field that is wrong.
    """
    from hedgekeeper.chain.backends import RpcBackend
    from hedgekeeper.chain.deploy import SystemConfig
    from hedgekeeper.chain.keeper_config import KeeperConfig

    where = f"{source}: " if source else ""
    try:
        document = load_toml(settings.system_file)
        keeper = validate(KeeperConfig, document.pop("keeper", {}), prefix="keeper", source=settings.system_file)
        system = validate(SystemConfig, document, source=settings.system_file)
    except ConfigError as error:
        raise ConfigError(f"{where}chain.system_file: {error}") from None
    if settings.rpc_url is not None:
        backend = system.backend.model_copy(update={"url": settings.rpc_url}) \
            if isinstance(system.backend, RpcBackend) else RpcBackend(url=settings.rpc_url)
        system = system.model_copy(update={"backend": backend})
    addresses = None
    if settings.addresses_file is not None:
        if not isinstance(system.backend, RpcBackend):
            raise ConfigError(f"{where}chain.addresses_file: attaching needs a node (chain.rpc_url, or "
                              f"[backend] kind = 'rpc' in {settings.system_file}): the in-process EVM starts empty")
        try:
            addresses = json.loads(Path(settings.addresses_file).read_text())
        except FileNotFoundError:
            raise ConfigError(f"{where}chain.addresses_file: {settings.addresses_file}: no such file") from None
        except json.JSONDecodeError as error:
            raise ConfigError(f"{where}chain.addresses_file: {settings.addresses_file}: not JSON "
                              f"(line {error.lineno}, column {error.colno}: {error.msg})") from None
        if not isinstance(addresses, dict):
            raise ConfigError(f"{where}chain.addresses_file: {settings.addresses_file}: not a JSON object of "
                              "addresses (as `hedgekeeper chain deploy --json` prints)")
    return system, keeper, addresses


def market_price_usd(event: MarketEvent) -> float | None:
    """Return the price an event carries, USD per coin, or None (no price, or a bad one: rejected at the edge).

    A top of book gives its mid (None when crossed), a trade its price, an oracle round its answer.

    >>> market_price_usd(TopOfBook(0, "s", 99.0, 1.0, 101.0, 1.0)), market_price_usd(Trade(0, "s", -1.0, 1.0, 1))
    (100.0, None)
    """
    if isinstance(event, TopOfBook):
        price = event.mid_usd if event.bid_usd <= event.ask_usd else math.nan
    elif isinstance(event, Trade | OracleUpdate):
        price = event.price_usd
    else:
        return None
    return price if math.isfinite(price) and price > 0.0 else None


class ChainComponent:
    """The chain beside the engine; see the module docstring.

    Parameters
    ----------
    settings : the ``[chain]`` table
    system : the chain system (its backend already the one to use)
    keeper_config : the keeper's parameters (the system file's ``[keeper]`` table)
    price_stream : the stream whose prices drive the oracle
    underlying : the service's underlying of that stream (for the view)
    addresses : the addresses of a system to attach to (None: deploy one)

    Attributes
    ----------
    name : ``"chain"``, the key of its recovery summary and of its view
    system_ : DeployedSystem, after ``start``
    keeper_ : Keeper, after ``start``
    updater_ : OracleUpdater, after ``start``
    scale_ : the chain price per market price (1 with ``price = "direct"``), set by the first price
    time_offset_s_ : chain seconds minus engine seconds, set by the first price
    """

    name = "chain"

    def __init__(self, settings: ChainSettings, *, system: SystemConfig, keeper_config: KeeperConfig,
                 price_stream: str, underlying: str, addresses: dict[str, Any] | None = None) -> None:
        self.settings = settings
        self.system = system
        self.keeper_config = keeper_config
        self.price_stream = price_stream
        self.underlying = underlying
        self.addresses = addresses
        self.system_: DeployedSystem | None = None
        self.keeper_: Keeper | None = None
        self.updater_: OracleUpdater | None = None
        self.scale_: float | None = None
        self.time_offset_s_: int | None = None
        self._interval_ns = int(settings.block_interval_s * NS_PER_SECOND)
        self._next_tick_ns = 0
        self._first_price_usd: float | None = None
        self._start_price_usd = 0.0
        self._queue: queue.Queue[tuple[int, float] | None] = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._lock = threading.Lock()  # web3's in-process provider is not thread-safe: one user at a time
        self._thread: threading.Thread | None = None
        self._counts = {"prices_seen": 0, "prices_rejected": 0, "ticks_queued": 0, "ticks_dropped": 0,
                        "ticks_done": 0, "tick_errors": 0, "posted": 0, "held_back": 0, "keeper_steps": 0,
                        "decisions": 0, "acted": 0, "skipped": 0, "transactions": 0}
        self._tick_s = {"last": 0.0, "max": 0.0, "total": 0.0}
        self._last_error = ""
        self._submissions: deque[dict[str, Any]] = deque(maxlen=RECENT)
        self._decisions: deque[dict[str, Any]] = deque(maxlen=RECENT)
        self._transactions: deque[dict[str, Any]] = deque(maxlen=RECENT)
        self._view: dict[str, Any] = {"status": "starting"}
        self._writer: Any = None  # the service's StoreWriter (none without a service)

    # ------------------------------------------------------------------ life

    def start(self, service: Any) -> None:
        """Deploy the system (or attach to it), prepare the keeper and the oracle updater, start the worker.

        Raises
        ------
        HedgekeeperError
            The node does not answer, a deployment transaction reverts, an address is missing.
        """
        from hedgekeeper.chain.backends import connect
        from hedgekeeper.chain.deploy import attach_system, deploy_system
        from hedgekeeper.chain.keeper import Keeper
        from hedgekeeper.chain.oracle_updater import OracleUpdater
        from hedgekeeper.chain.reader import read_oracle_round

        if service is not None:
            self._writer = service.writer
            for kind, kept in (("keeper_decision", self._decisions), ("keeper_transaction", self._transactions),
                               ("oracle_submission", self._submissions)):
                kept.extend(row["record"] for row in service.store.chain_records(kind, RECENT))
        started = time.perf_counter()
        chain = connect(self.system.backend)
        if self.addresses is None:
            system = deploy_system(self.system, chain)
        else:
            system = attach_system(chain, self.addresses)
        self.system_ = system
        self.keeper_ = Keeper.for_system(system, self.keeper_config).prepare()
        self.updater_ = OracleUpdater(chain, system.oracle, system.deployer, move_time=self.settings.move_time)
        self._start_price_usd = read_oracle_round(system.oracle).price_usd
        logger.info("chain: %s %d vaults on %s (chain id %d) in %.1f s; oracle at %.2f USD; keeper %s",
                    "deployed" if self.addresses is None else "attached to", len(system.vaults),
                    self.system.backend.kind, chain.w3.eth.chain_id, time.perf_counter() - started,
                    self._start_price_usd, system.keepers[0])
        self._stop.clear()
        self._thread = threading.Thread(target=self._work, name="chain", daemon=True)
        self._thread.start()

    def recover(self, service: Any) -> dict[str, Any]:
        """Read every vault's ``check()``, the oracle's round and the keeper's pending transactions; return them.

        Returns
        -------
        dict, JSON-ready: ``backend``, ``chain_id``, ``block``, ``deployed`` (false: attached),
        ``addresses``, ``oracle`` (round, price USD, age s), ``vaults`` (each check: deviation
        and trade in coin), ``out_of_band`` (count), ``keeper`` (account, ``in_flight``: its
        own transactions not final, nonce -> vaults; ``pending_on_node``: transactions of its
        account the node holds unmined)
        """
        system, keeper = self._started()
        with self._lock:
            summary = self._chain_state(system, keeper)
            w3 = system.chain.w3
            pending = int(w3.eth.get_transaction_count(keeper.account, "pending"))
            mined = int(w3.eth.get_transaction_count(keeper.account, "latest"))
        summary.update(backend=self.system.backend.kind, chain_id=int(w3.eth.chain_id),
                       deployed=self.addresses is None, addresses=system.addresses())
        summary["keeper"].update(pending_on_node=max(0, pending - mined))
        logger.info("chain recovery: block %d, %d vaults, %d out of band, %d keeper transactions in flight, "
                    "%d pending on the node", summary["block"], len(summary["vaults"]), summary["out_of_band"],
                    len(summary["keeper"]["in_flight"]), summary["keeper"]["pending_on_node"])
        self._view = self._build_view(summary)
        return summary

    def on_event(self, event: MarketEvent) -> None:
        """Hand the underlying's price to the worker at most once per block interval of engine time (never waits)."""
        if event.stream != self.price_stream or not isinstance(event, TopOfBook | Trade | OracleUpdate):
            return
        price = market_price_usd(event)
        if price is None:
            self._counts["prices_rejected"] += 1
            return
        self._counts["prices_seen"] += 1
        if self._first_price_usd is None:
            self._first_price_usd = price
        if event.ts_ns < self._next_tick_ns:
            return
        self._next_tick_ns = event.ts_ns + self._interval_ns
        self._counts["ticks_queued"] += 1
        item = (event.ts_ns, price)
        try:
            self._queue.put_nowait(item)
        except queue.Full:  # the worker is still on an older price: the newer one takes its place
            try:
                self._queue.get_nowait()
                self._counts["ticks_dropped"] += 1
            except queue.Empty:
                pass
            try:
                self._queue.put_nowait(item)
            except queue.Full:
                self._counts["ticks_dropped"] += 1

    def stop(self) -> None:
        """Stop the keeper and the worker (after its current tick); keep the last view."""
        if self.keeper_ is not None:
            self.keeper_.stop()
        self._stop.set()
        thread = self._thread
        if thread is not None:
            try:
                self._queue.put_nowait(None)
            except queue.Full:
                pass
            thread.join(STOP_TIMEOUT_S)
            if thread.is_alive():
                logger.error("chain: the worker did not stop within %g s", STOP_TIMEOUT_S)
        while True:  # the prices still waiting are let go
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                self._counts["ticks_dropped"] += 1
        self._view = {**self._view, "status": "stopped", "counters": dict(self._counts)}

    def view(self) -> dict[str, Any]:
        """Return what the chain is doing, JSON-ready (replaced by reference after each tick; never blocks)."""
        return self._view

    def wait_idle(self, timeout_s: float = 30.0) -> bool:
        """Wait until every price handed over is done or dropped; return whether it is (tests, tools)."""
        deadline = time.monotonic() + timeout_s
        counts = self._counts
        while time.monotonic() < deadline:
            if counts["ticks_queued"] == counts["ticks_done"] + counts["ticks_dropped"]:
                return True
            time.sleep(0.01)
        return False

    # ---------------------------------------------------------------- worker

    def _started(self) -> tuple[DeployedSystem, Keeper]:
        if self.system_ is None or self.keeper_ is None:
            raise HedgekeeperError("the chain component is not started")
        return self.system_, self.keeper_

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                item = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            if item is None:
                break
            if self._stop.is_set():  # stopping: the price is let go
                self._counts["ticks_dropped"] += 1
                break
            started = time.perf_counter()
            try:
                with self._lock:
                    self._tick(*item)
            except Exception as error:  # noqa: BLE001 - a tick's failure must not end the chain's work
                self._counts["tick_errors"] += 1
                self._last_error = f"{type(error).__name__}: {error}"
                logger.warning("chain tick at %d ns failed: %s", item[0], self._last_error)
            elapsed = time.perf_counter() - started
            self._tick_s["last"] = elapsed
            self._tick_s["max"] = max(self._tick_s["max"], elapsed)
            self._tick_s["total"] += elapsed
            counts = dict(self._counts)
            counts["ticks_done"] += 1
            self._view = {**self._view, "counters": counts, "tick_s": self._tick_view(counts["ticks_done"]),
                          "last_error": self._last_error}
            self._counts["ticks_done"] += 1  # after the view: ``wait_idle`` sees the view of every tick done

    def _tick(self, ts_ns: int, price_usd: float) -> None:
        """Post the price if due (at its time on the chain), trade the pool to it if posted, step the keeper."""
        from hedgekeeper.chain.arbitrage import align_pool
        from hedgekeeper.chain.oracle_updater import PricePoint

        system, keeper = self._started()
        updater = self.updater_
        assert updater is not None
        ts_s = ts_ns // NS_PER_SECOND
        if self.time_offset_s_ is None:
            self.time_offset_s_ = system.chain.timestamp() + 1 - ts_s
            reference = self._first_price_usd or price_usd
            self.scale_ = self._start_price_usd / reference if self.settings.price == "scaled" else 1.0
            logger.info("chain: engine time + %d s is chain time; price x %.6g (%s)", self.time_offset_s_,
                        self.scale_, self.settings.price)
        assert self.scale_ is not None
        chain_price = price_usd * self.scale_
        submission = updater.post(PricePoint(ts_s + self.time_offset_s_, chain_price))
        self._counts["posted" if submission.posted else "held_back"] += 1
        stored = [_stored("oracle_submission", _submission_row(submission, ts_ns, price_usd))]
        self._submissions.appendleft(stored[0]["record"])
        if submission.posted and self.settings.arbitrage:
            align_pool(system, submission.price_usd)
        decisions_before = len(keeper.records.decisions)
        transactions_before = len(keeper.records.transactions)
        try:
            if keeper.step():
                self._counts["keeper_steps"] += 1
        finally:  # what a failing step did before it failed is kept too
            for decision in keeper.records.decisions[decisions_before:]:
                self._counts["decisions"] += 1
                self._counts["acted" if decision.act else "skipped"] += 1
                stored.append(_stored("keeper_decision", _jsonable(asdict(decision))))
                self._decisions.appendleft(stored[-1]["record"])
            for transaction in keeper.records.transactions[transactions_before:]:
                self._counts["transactions"] += 1
                stored.append(_stored("keeper_transaction", _jsonable(asdict(transaction))))
                self._transactions.appendleft(stored[-1]["record"])
            if self._writer is not None:
                self._writer.submit(lambda connection: Store.write_chain_records(connection, stored))
        for records in (keeper.records.decisions, keeper.records.transactions, updater.submissions):
            if len(records) > KEPT:
                del records[: len(records) - KEPT]
        self._view = self._build_view(self._chain_state(system, keeper))

    # ------------------------------------------------------------------ view

    def _chain_state(self, system: DeployedSystem, keeper: Keeper) -> dict[str, Any]:
        """Return the chain's block, oracle round, every vault's check and the keeper's transactions in flight."""
        from hedgekeeper.chain.reader import read_checks, read_oracle_round

        chain = system.chain
        block = int(chain.w3.eth.block_number)
        timestamp = chain.timestamp()
        oracle = read_oracle_round(system.oracle, block=block)
        addresses = [vault.address for vault in system.vaults]
        checks = []
        for start in range(0, len(addresses), 64):
            checks.extend(read_checks(system.batcher, addresses[start:start + 64], block))
        vaults = [{"vault": c.vault, "needs_rebalance": c.needs_rebalance, "beyond_outer_band": c.beyond_outer_band,
                   "delta_deviation_coin": c.delta_deviation_coin, "trade_coin": c.trade_risk_asset_coin,
                   "oracle_age_s": c.oracle_age_s} for c in checks]
        return {"block": block, "chain_ts_s": timestamp,
                "oracle": {"round_id": oracle.round_id, "price_usd": oracle.price_usd,
                           "updated_at_s": oracle.updated_at_s, "age_s": oracle.age_s(timestamp)},
                "vaults": vaults, "out_of_band": sum(c.needs_rebalance for c in checks),
                "keeper": {"account": keeper.account,
                           "in_flight": {str(nonce): list(v) for nonce, v in keeper.in_flight.items()}}}

    def _tick_view(self, done: int) -> dict[str, float]:
        """Return the last, longest and mean tick's wall time, seconds."""
        return {"last": self._tick_s["last"], "max": self._tick_s["max"],
                "mean": self._tick_s["total"] / done if done else 0.0}

    def _build_view(self, state: dict[str, Any]) -> dict[str, Any]:
        counts = dict(self._counts)
        return {
            "status": "running" if not self._stop.is_set() else "stopped",
            "backend": self.system.backend.kind, "underlying": self.underlying, "price_stream": self.price_stream,
            "price_mode": self.settings.price, "scale": self.scale_, "time_offset_s": self.time_offset_s_,
            "block_interval_s": self.settings.block_interval_s,
            **{k: v for k, v in state.items() if k != "keeper"},
            "keeper": {**state["keeper"], "decisions": list(self._decisions),
                       "transactions": list(self._transactions)},
            "oracle_submissions": list(self._submissions),
            "counters": counts,
            "tick_s": self._tick_view(counts["ticks_done"]),
            "last_error": self._last_error,
        }


def _submission_row(submission: OracleSubmission, ts_ns: int, market_price_usd: float) -> dict[str, Any]:
    return {"ts_ns": ts_ns, "market_price_usd": market_price_usd, **_jsonable(asdict(submission))}


def _stored(kind: str, row: dict[str, Any]) -> dict[str, Any]:
    """Return the ``chain_records`` row of one record's view row (``models.ChainRecord``)."""
    if kind == "keeper_decision":
        subject, outcome = row["vault"], "act" if row["act"] else "skip"
    elif kind == "keeper_transaction":
        subject, outcome = row["tx_hash"], row["event"]
    else:
        subject, outcome = str(row["round_id"] or ""), "posted" if row["posted"] else "held_back"
    return {"kind": kind, "block": row.get("block"), "ts_s": row.get("ts_s"), "subject": subject,
            "outcome": outcome, "reason": row["reason"], "record": row}


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in row.items()}


def build_chain_component(spec: ServiceSpec) -> ChainComponent:
    """Return the chain component of ``spec``'s ``[chain]`` table (enabled), its files read and validated.

    Raises
    ------
    ConfigError
        Naming the ``[chain]`` field, or the system file's field, that is wrong.
    """
    settings = spec.file.chain
    hedged = spec.file.hedging.underlyings
    underlying = settings.underlying or next(iter(hedged))
    system, keeper, addresses = load_chain_files(settings, source=spec.source)
    stream = settings.price_stream or hedged[underlying].spot_stream
    return ChainComponent(settings, system=system, keeper_config=keeper, price_stream=stream,
                          underlying=underlying, addresses=addresses)
