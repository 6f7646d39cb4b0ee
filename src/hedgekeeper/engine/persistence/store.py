"""The store: open a database (SQLite file or PostgreSQL URL), write the service's records, read them back.

``Store.open(url)`` creates the engine (``sqlite:///path`` or
``postgresql+psycopg://user@host/db``), applies the shipped migrations and returns
the store. Writes are functions of an open connection (``Store.write_*``), so a
caller groups them in one transaction (``with store.transaction() as connection``)
or hands them to the background ``StoreWriter``. Reads return plain records.

What is written is the engine's own vocabulary turned into rows (``rows.py``):
decisions (``policy.decision.Decision``), risk samples (``engine.records.RiskSample``),
orders and their transitions (``execution.order_state.ManagedOrder``), fills as the
venue reported them and as they were booked, positions, balances, hedge memories.
Secrets never reach it: configuration documents are written as their secret-free dump.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, delete, event, func, insert, select, update
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.pool import StaticPool

from hedgekeeper.engine.persistence import models as m
from hedgekeeper.engine.persistence.schema import upgrade
from hedgekeeper.errors import ConfigError, HedgekeeperError


class StoreError(HedgekeeperError):
    """The database could not be opened or written; the message names the database (never a password)."""


def json_safe(value: Any) -> Any:
    """Return ``value`` with every non-finite float as None: PostgreSQL's JSON has no NaN or infinity.

    >>> json_safe({"a": [1.0, float("inf")], "b": float("nan")})
    {'a': [1.0, None], 'b': None}
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value


def _infinite(value: float | None) -> float:
    return math.inf if value is None else value


@dataclass(frozen=True, slots=True)
class StoredRun:
    """A run as stored (see ``models.Run``)."""

    id: int
    id_prefix: str
    started_wall_ns: int
    heartbeat_wall_ns: int
    heartbeat_engine_ns: int
    clean_stop: bool
    recovery: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class StoredOrder:
    """An order as stored: its request's fields as strings, its state and transitions so far."""

    client_order_id: str
    venue: str
    instrument_id: str
    side: str
    quantity: str
    order_type: str
    price: str | None
    time_in_force: str
    reduce_only: bool
    status: str
    venue_order_id: str
    reason: str
    created_ns: int
    updated_ns: int
    transition_count: int


@dataclass(frozen=True, slots=True)
class StoredFill:
    """A fill as stored."""

    venue: str
    fill_id: str
    client_order_id: str | None
    instrument_id: str
    size_contracts: float
    price: str
    quantity: str
    fee: str
    fee_currency: str
    price_usd: float
    fee_usd: float
    slippage_usd: float
    ts_ns: int
    recovered: bool


def _safe_url(url: str) -> str:
    """Return ``url`` with any password hidden."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<malformed database URL>"


def create_store_engine(url: str) -> Engine:
    """Return the SQLAlchemy engine of ``url``: SQLite in WAL mode with a busy timeout, or PostgreSQL.

    Raises
    ------
    ConfigError
        If the URL is malformed or names another database.
    """
    try:
        if url.startswith("sqlite"):
            memory = url in ("sqlite://", "sqlite:///:memory:")
            if not memory:
                from sqlalchemy.engine import make_url

                database = make_url(url).database
                if database:
                    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(
                url, connect_args={"check_same_thread": False, "timeout": 30.0},
                poolclass=StaticPool if memory else None,
            )

            @event.listens_for(engine, "connect")
            def _pragmas(connection: Any, _record: Any) -> None:
                cursor = connection.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.close()

            return engine
        if url.startswith("postgresql"):
            return create_engine(url, pool_pre_ping=True)
    except ArgumentError as error:
        raise ConfigError(f"database URL {_safe_url(url)}: {error}") from None
    raise ConfigError(f"database URL {_safe_url(url)}: give sqlite:///PATH or postgresql+psycopg://...")


class Store:
    """The service's database: its engine and the reads and writes of every record.

    Parameters
    ----------
    engine : an SQLAlchemy engine whose database is at the latest revision (``Store.open``)
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> Store:
        """Open the database at ``url``, applying the migrations; return the store.

        Raises
        ------
        StoreError
            If the database cannot be reached or migrated (the URL shown without password).
        """
        engine = create_store_engine(url)
        try:
            upgrade(engine)
        except OperationalError as error:
            engine.dispose()
            raise StoreError(f"cannot open the store {_safe_url(url)}: {error.orig}") from None
        return cls(engine)

    @property
    def url(self) -> str:
        """Return the database URL, password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """Yield a connection in a transaction, committed on leaving (rolled back on an error)."""
        with self.engine.begin() as connection:
            yield connection

    # ------------------------------------------------------------------ runs

    @staticmethod
    def write_run_start(connection: Connection, *, id_prefix: str, wall_ns: int, engine_ns: int) -> int:
        """Insert a run; return its id."""
        result = connection.execute(insert(m.Run).values(
            started_wall_ns=wall_ns, started_engine_ns=engine_ns, id_prefix=id_prefix,
            heartbeat_wall_ns=wall_ns, heartbeat_engine_ns=engine_ns, clean_stop=False,
        ))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    @staticmethod
    def write_heartbeat(connection: Connection, run_id: int, *, wall_ns: int, engine_ns: int) -> None:
        """Record that run ``run_id`` was alive at ``wall_ns`` with the engine at ``engine_ns``."""
        connection.execute(update(m.Run).where(m.Run.id == run_id).values(
            heartbeat_wall_ns=wall_ns, heartbeat_engine_ns=engine_ns))

    @staticmethod
    def write_recovery(connection: Connection, run_id: int, summary: Mapping[str, Any]) -> None:
        """Record what the recovery of run ``run_id`` found."""
        connection.execute(update(m.Run).where(m.Run.id == run_id).values(recovery=json_safe(dict(summary))))

    @staticmethod
    def write_run_stop(connection: Connection, run_id: int, *, wall_ns: int, engine_ns: int) -> None:
        """Record a clean stop of run ``run_id``."""
        connection.execute(update(m.Run).where(m.Run.id == run_id).values(
            stopped_wall_ns=wall_ns, heartbeat_wall_ns=wall_ns, heartbeat_engine_ns=engine_ns, clean_stop=True))

    def runs(self) -> list[StoredRun]:
        """Return every run, oldest first."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(m.Run.__table__).order_by(m.Run.id)).all()
        return [StoredRun(r.id, r.id_prefix, r.started_wall_ns, r.heartbeat_wall_ns, r.heartbeat_engine_ns,
                          r.clean_stop, r.recovery) for r in rows]

    # -------------------------------------------------------- configuration

    @staticmethod
    def write_config_version(connection: Connection, *, ts_ns: int, source: str, profile: Mapping[str, Any],
                             document: Mapping[str, Any]) -> int:
        """Insert the next configuration version; return its number (1 for the first)."""
        latest = connection.execute(select(func.max(m.ConfigVersion.version))).scalar()
        version = 1 if latest is None else int(latest) + 1
        connection.execute(insert(m.ConfigVersion).values(
            version=version, ts_ns=ts_ns, source=source, profile=json_safe(dict(profile)),
            document=json_safe(dict(document))))
        return version

    def config_versions(self) -> list[dict[str, Any]]:
        """Return every configuration version, oldest first, as mappings."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(m.ConfigVersion.__table__).order_by(m.ConfigVersion.version)).all()
        return [dict(row._mapping) for row in rows]

    def latest_config(self) -> dict[str, Any] | None:
        """Return the configuration version in force, None before the first start."""
        with self.engine.connect() as connection:
            row = connection.execute(select(m.ConfigVersion.__table__)
                                     .order_by(m.ConfigVersion.version.desc()).limit(1)).first()
        return None if row is None else dict(row._mapping)

    # ------------------------------------------------------ book and memory

    @staticmethod
    def write_book(connection: Connection, positions: Iterable[tuple[str, float, float | None]],
                   balances: Iterable[tuple[str, str, str]], ts_ns: int) -> None:
        """Replace the positions ``(instrument id, contracts, entry USD)`` and balances ``(venue, currency, amount)``."""
        connection.execute(delete(m.PositionRow))
        connection.execute(delete(m.BalanceRow))
        position_rows = [{"instrument_id": i, "size_contracts": s, "entry_price_usd": e, "updated_ns": ts_ns}
                         for i, s, e in positions]
        balance_rows = [{"venue": v, "currency": c, "amount": a, "updated_ns": ts_ns} for v, c, a in balances]
        if position_rows:
            connection.execute(insert(m.PositionRow), position_rows)
        if balance_rows:
            connection.execute(insert(m.BalanceRow), balance_rows)

    def book(self) -> tuple[list[tuple[str, float, float | None]], list[tuple[str, str, str]]] | None:
        """Return the stored positions and balances, None if no book was ever written."""
        with self.engine.connect() as connection:
            positions = connection.execute(select(m.PositionRow.instrument_id, m.PositionRow.size_contracts,
                                                  m.PositionRow.entry_price_usd)
                                           .order_by(m.PositionRow.instrument_id)).all()
            balances = connection.execute(select(m.BalanceRow.venue, m.BalanceRow.currency, m.BalanceRow.amount)
                                          .order_by(m.BalanceRow.venue, m.BalanceRow.currency)).all()
        if not positions and not balances:
            return None
        return [(i, s, e) for i, s, e in positions], [(v, c, a) for v, c, a in balances]

    @staticmethod
    def write_hedge_memories(connection: Connection, memories: Mapping[str, tuple[int | None, float | None]]) -> None:
        """Replace the memory ``(last rebalance ns, reference USD)`` of each underlying given."""
        if not memories:
            return
        connection.execute(delete(m.HedgeMemoryRow).where(m.HedgeMemoryRow.underlying.in_(list(memories))))
        connection.execute(insert(m.HedgeMemoryRow), [
            {"underlying": u, "last_rebalance_ts_ns": ts, "last_reference_usd": ref}
            for u, (ts, ref) in memories.items()])

    def hedge_memories(self) -> dict[str, tuple[int | None, float | None]]:
        """Return each underlying's stored memory of its last rebalance."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(m.HedgeMemoryRow.__table__)).all()
        return {r.underlying: (r.last_rebalance_ts_ns, r.last_reference_usd) for r in rows}

    @staticmethod
    def write_control(connection: Connection, name: str, value: str, ts_ns: int) -> None:
        """Set the control ``name`` (``paused``, ``kill_switch``) to ``value`` ("" when off)."""
        connection.execute(delete(m.ControlRow).where(m.ControlRow.name == name))
        connection.execute(insert(m.ControlRow).values(name=name, value=value, updated_ns=ts_ns))

    def controls(self) -> dict[str, str]:
        """Return the controls set, by name."""
        with self.engine.connect() as connection:
            return {r.name: r.value for r in connection.execute(select(m.ControlRow.__table__)).all()}

    # ---------------------------------------------------------------- orders

    @staticmethod
    def write_order(connection: Connection, run_id: int, order: Mapping[str, Any]) -> None:
        """Insert an order (``rows.order_row``) before it is sent."""
        connection.execute(insert(m.OrderRow).values(run_id=run_id, **order))

    @staticmethod
    def write_order_state(connection: Connection, client_order_id: str, *, status: str, venue_order_id: str,
                          reason: str, updated_ns: int, transitions: Sequence[Mapping[str, Any]], first_sequence: int
                          ) -> None:
        """Update an order's state and append its new transitions, numbered from ``first_sequence``."""
        connection.execute(update(m.OrderRow).where(m.OrderRow.client_order_id == client_order_id).values(
            status=status, venue_order_id=venue_order_id, reason=reason, updated_ns=updated_ns))
        if transitions:
            connection.execute(insert(m.OrderTransitionRow), [
                {"client_order_id": client_order_id, "sequence": first_sequence + i, **t}
                for i, t in enumerate(transitions)])

    def orders(self, *, working_only: bool = False, limit: int | None = None) -> list[StoredOrder]:
        """Return the orders, newest first (the working ones only if asked)."""
        counts = (select(m.OrderTransitionRow.client_order_id, func.count().label("n"))
                  .group_by(m.OrderTransitionRow.client_order_id).subquery())
        query = (select(m.OrderRow.__table__, func.coalesce(counts.c.n, 0).label("transition_count"))
                 .outerjoin(counts, counts.c.client_order_id == m.OrderRow.client_order_id)
                 .order_by(m.OrderRow.created_ns.desc(), m.OrderRow.client_order_id.desc()))
        if working_only:
            query = query.where(m.OrderRow.status.in_(("new", "acknowledged", "partially_filled")))
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [StoredOrder(r.client_order_id, r.venue, r.instrument_id, r.side, r.quantity, r.order_type, r.price,
                            r.time_in_force, r.reduce_only, r.status, r.venue_order_id, r.reason, r.created_ns,
                            r.updated_ns, int(r.transition_count)) for r in rows]

    def transitions(self, client_order_id: str) -> list[dict[str, Any]]:
        """Return an order's transitions, in order."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(m.OrderTransitionRow.__table__)
                                      .where(m.OrderTransitionRow.client_order_id == client_order_id)
                                      .order_by(m.OrderTransitionRow.sequence)).all()
        return [dict(r._mapping) for r in rows]

    def order_status_counts(self) -> dict[str, int]:
        """Return how many orders are in each state."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(m.OrderRow.status, func.count()).group_by(m.OrderRow.status)).all()
        return {status: int(n) for status, n in rows}

    # ----------------------------------------------------------------- fills

    @staticmethod
    def write_fills(connection: Connection, fills: Sequence[Mapping[str, Any]]) -> None:
        """Insert fills (``rows.fill_row``) and their costs (fee and slippage, USD)."""
        if not fills:
            return
        connection.execute(insert(m.FillRow), list(fills))
        costs = []
        for fill in fills:
            reference = f"{fill['venue']}:{fill['fill_id']}"
            costs.append({"ts_ns": fill["ts_ns"], "kind": "fee", "amount_usd": fill["fee_usd"], "reference": reference})
            costs.append({"ts_ns": fill["ts_ns"], "kind": "slippage", "amount_usd": fill["slippage_usd"],
                          "reference": reference})
        connection.execute(insert(m.CostRow), costs)

    def fill_ids(self, venue: str | None = None) -> set[str]:
        """Return the venue trade ids of the fills stored (of one venue, or all)."""
        query = select(m.FillRow.fill_id)
        if venue is not None:
            query = query.where(m.FillRow.venue == venue)
        with self.engine.connect() as connection:
            return set(connection.execute(query).scalars())

    def fills(self, limit: int | None = None) -> list[StoredFill]:
        """Return the fills, newest first."""
        query = select(m.FillRow.__table__).order_by(m.FillRow.ts_ns.desc(), m.FillRow.id.desc())
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [StoredFill(r.venue, r.fill_id, r.client_order_id, r.instrument_id, r.size_contracts, r.price,
                           r.quantity, r.fee, r.fee_currency, r.price_usd, r.fee_usd, r.slippage_usd, r.ts_ns,
                           r.recovered) for r in rows]

    def costs(self) -> dict[str, float]:
        """Return the costs paid so far by kind (``fee``, ``slippage``), USD."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(m.CostRow.kind, func.sum(m.CostRow.amount_usd))
                                      .group_by(m.CostRow.kind)).all()
        return {kind: float(total) for kind, total in rows}

    # --------------------------------------------------- decisions and Greeks

    @staticmethod
    def write_decisions(connection: Connection, decisions: Sequence[Mapping[str, Any]]) -> None:
        """Insert decisions (``rows.decision_row``)."""
        if decisions:
            connection.execute(insert(m.DecisionRow), [json_safe(dict(d)) for d in decisions])

    def decisions(self, limit: int = 100) -> list[dict[str, Any]]:
        """Return the latest decisions, newest first."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(m.DecisionRow.__table__)
                                      .order_by(m.DecisionRow.id.desc()).limit(limit)).all()
        return [dict(r._mapping) for r in rows]

    def decision_count(self) -> int:
        """Return how many decisions are stored."""
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(m.DecisionRow)).scalar() or 0)

    @staticmethod
    def write_chain_records(connection: Connection, records: Sequence[Mapping[str, Any]]) -> None:
        """Insert the chain's records (``rows.chain_record_row``)."""
        if records:
            connection.execute(insert(m.ChainRecord), [json_safe(dict(r)) for r in records])

    def chain_records(self, kind: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Return the latest chain records (of one ``kind``, or all), newest first."""
        query = select(m.ChainRecord.__table__).order_by(m.ChainRecord.id.desc()).limit(limit)
        if kind is not None:
            query = query.where(m.ChainRecord.kind == kind)
        with self.engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(query).all()]

    @staticmethod
    def write_greeks(connection: Connection, samples: Sequence[Mapping[str, Any]]) -> None:
        """Insert risk samples (``rows.greeks_row``)."""
        if samples:
            connection.execute(insert(m.GreeksSnapshotRow), list(samples))

    def greeks(self, underlying: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
        """Return the latest risk samples, oldest first, infinite distances as ``inf``."""
        query = select(m.GreeksSnapshotRow.__table__).order_by(m.GreeksSnapshotRow.id.desc()).limit(limit)
        if underlying is not None:
            query = query.where(m.GreeksSnapshotRow.underlying == underlying)
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        out = []
        for row in reversed(rows):
            record = dict(row._mapping)
            record["weight"] = _infinite(record["weight"])
            record["liquidation_distance"] = _infinite(record["liquidation_distance"])
            out.append(record)
        return out
