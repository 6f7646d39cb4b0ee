"""Save runs to a SQLite file and load them back: records, configuration and metrics.

One file holds any number of runs, each keyed by its ``run_id``. A run is its
records (``RiskSample``, ``Decision``, ``FillRecord``, in arrival order), its
configuration as JSON text and, optionally, its ``BacktestMetrics`` as JSON text.
Loading gives back a ``Recorder`` equal to the one saved, field for field.

Schema (``PRAGMA user_version`` = ``SCHEMA_VERSION``)
-----------------------------------------------------
=====================  ===================================================================
table                  one row per
=====================  ===================================================================
``runs``               run: ``run_id`` TEXT primary key, ``config_json`` TEXT,
                       ``metrics_json`` TEXT or NULL
``samples``            ``RiskSample``: ``run_id``, ``seq`` (arrival order), then every
                       field under its own name
``decisions``          ``Decision``: ``run_id``, ``seq``, every field but ``reasons`` and
                       ``goal``; ``act`` and ``forced`` are 0 or 1
``decision_reasons``   reason of a decision: ``run_id``, ``decision_seq``, ``position``, ``reason``
``decision_goals``     Greek of a decision's goal: ``run_id``, ``decision_seq``, ``position``,
                       ``greek`` (``Greek`` value), ``lower``, ``upper``
``fills``              ``FillRecord``: ``run_id``, ``seq``, then every field
=====================  ===================================================================

The complete DDL is ``SCHEMA_SQL``. Timestamps are INTEGER ns since the epoch (UTC).
Money, prices, sizes and risk are REAL, SQLite's IEEE-754 float64: stored as is,
never rounded. Two float64 values SQLite cannot hold are mapped: NaN is stored as
NULL and read back as NaN, and negative zero reads back as 0.0 (equal under ``==``).
In ``metrics_json``, non-finite numbers are the strings ``"inf"``, ``"-inf"`` and
``"nan"`` so that the text is standard JSON (SQLite's ``json_extract`` reads it);
finite floats are written in Python's shortest round-trip form, so they load exactly.

Example query, total cost per run::

    SELECT run_id, SUM(fee_usd + slippage_usd) FROM fills GROUP BY run_id;
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from hedgekeeper.backtest.metrics import BacktestMetrics
from hedgekeeper.engine.records import FillRecord, Recorder, RiskSample
from hedgekeeper.errors import HedgekeeperError
from hedgekeeper.policy.decision import Decision, Greek

SCHEMA_VERSION = 1

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    config_json TEXT NOT NULL,
    metrics_json TEXT
);
CREATE TABLE IF NOT EXISTS samples (
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    ts_ns INTEGER NOT NULL,
    underlying TEXT NOT NULL,
    spot_usd REAL,
    delta_coin REAL,
    gamma_usd_per_pct REAL,
    vega_usd_per_vol_pt REAL,
    weight REAL,
    equity_usd REAL,
    liquidation_distance REAL,
    PRIMARY KEY (run_id, seq)
);
CREATE TABLE IF NOT EXISTS decisions (
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    ts_ns INTEGER NOT NULL,
    underlying TEXT NOT NULL,
    act INTEGER NOT NULL CHECK (act IN (0, 1)),
    trigger TEXT NOT NULL,
    forced INTEGER NOT NULL CHECK (forced IN (0, 1)),
    expected_cost_usd REAL,
    expected_benefit_usd REAL,
    PRIMARY KEY (run_id, seq)
);
CREATE TABLE IF NOT EXISTS decision_reasons (
    run_id TEXT NOT NULL,
    decision_seq INTEGER NOT NULL,
    position INTEGER NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (run_id, decision_seq, position),
    FOREIGN KEY (run_id, decision_seq) REFERENCES decisions (run_id, seq) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS decision_goals (
    run_id TEXT NOT NULL,
    decision_seq INTEGER NOT NULL,
    position INTEGER NOT NULL,
    greek TEXT NOT NULL,
    lower REAL,
    upper REAL,
    PRIMARY KEY (run_id, decision_seq, position),
    FOREIGN KEY (run_id, decision_seq) REFERENCES decisions (run_id, seq) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS fills (
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    ts_ns INTEGER NOT NULL,
    instrument_id TEXT NOT NULL,
    venue TEXT NOT NULL,
    size_contracts REAL,
    price_usd REAL,
    mid_usd REAL,
    notional_usd REAL,
    fee_usd REAL,
    slippage_usd REAL,
    PRIMARY KEY (run_id, seq)
);
"""

_SAMPLE_FIELDS = tuple(f.name for f in fields(RiskSample))
_FILL_FIELDS = tuple(f.name for f in fields(FillRecord))
_DECISION_FIELDS = (
    "ts_ns",
    "underlying",
    "act",
    "trigger",
    "forced",
    "expected_cost_usd",
    "expected_benefit_usd",
)


class RunStorageError(HedgekeeperError):
    """A run file cannot be used as asked."""


class UnknownRun(RunStorageError, KeyError):
    """No run with this id is stored in the file."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class RunExists(RunStorageError):
    """A run with this id is already stored and overwriting was not asked for."""


class IncompatibleRunFile(RunStorageError):
    """The file is not a run file of this schema version."""


@dataclass(frozen=True, slots=True)
class StoredRun:
    """A run as loaded back from its file.

    Attributes
    ----------
    run_id : str
    recorder : Recorder, equal to the one saved
    config : the configuration saved with the run, parsed from JSON
    metrics : BacktestMetrics or None if none was saved
    """

    run_id: str
    recorder: Recorder
    config: dict[str, Any]
    metrics: BacktestMetrics | None


def _real(value: float) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value


def _reals(record: RiskSample | FillRecord, names: Sequence[str]) -> tuple[float | None, ...]:
    return tuple(_real(getattr(record, name)) for name in names)


def _from_real(value: float | None) -> float:
    return math.nan if value is None else value


def _json_numbers(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, Mapping):
        return {key: _json_numbers(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_numbers(item) for item in value]
    return value


@contextmanager
def _connect(path: Path, *, create: bool) -> Iterator[sqlite3.Connection]:
    if not create and not path.is_file():
        raise FileNotFoundError(f"{path}: no such run file")
    with closing(sqlite3.connect(path)) as connection:
        try:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            tables = connection.execute(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table'"
            ).fetchone()[0]
        except sqlite3.DatabaseError as error:
            raise IncompatibleRunFile(f"{path}: not a SQLite run file ({error})") from None
        if version != SCHEMA_VERSION and (tables or not create):
            raise IncompatibleRunFile(
                f"{path}: schema version {version}, this hedgekeeper reads version {SCHEMA_VERSION}"
            )
        connection.execute("PRAGMA foreign_keys = ON")
        if create and not tables:
            connection.executescript(SCHEMA_SQL + f"PRAGMA user_version = {SCHEMA_VERSION};")
        with connection:  # one transaction: a failed save leaves no partial run
            yield connection


def _placeholders(count: int) -> str:
    return ", ".join("?" * count)


def save_run(
    path: str | Path,
    run_id: str,
    recorder: Recorder,
    *,
    config: Mapping[str, Any],
    metrics: BacktestMetrics | None = None,
    overwrite: bool = False,
) -> None:
    """Save a run's records, configuration and metrics into a SQLite file, in one transaction.

    Parameters
    ----------
    path : the run file; created with the schema if absent
    run_id : the key of the run in the file
    recorder : the run's records
    config : the run's configuration, JSON-serialisable (a pydantic model's
        ``model_dump(mode="json")``); stored as JSON text, key order kept
    metrics : the run's metrics, stored as JSON text, or None
    overwrite : replace a run already stored under ``run_id``

    Raises
    ------
    RunExists
        If ``run_id`` is stored and ``overwrite`` is false.
    IncompatibleRunFile
        If the file holds another schema version.
    TypeError
        If ``config`` holds a value JSON cannot represent.
    ValueError
        If ``config`` holds a non-finite number.
    """
    config_json = json.dumps(config, allow_nan=False)
    metrics_json = (
        None if metrics is None else json.dumps(_json_numbers(metrics.to_dict()), allow_nan=False)
    )
    with _connect(Path(path), create=True) as connection:
        if (
            connection.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            is not None
        ):
            if not overwrite:
                raise RunExists(
                    f"{path}: run {run_id!r} is already stored; pass overwrite=True to replace it"
                )
            connection.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))
        connection.execute("INSERT INTO runs VALUES (?, ?, ?)", (run_id, config_json, metrics_json))
        connection.executemany(
            f"INSERT INTO samples VALUES ({_placeholders(2 + len(_SAMPLE_FIELDS))})",
            (
                (
                    run_id,
                    seq,
                    int(sample.ts_ns),
                    sample.underlying,
                    *_reals(sample, _SAMPLE_FIELDS[2:]),
                )
                for seq, sample in enumerate(recorder.samples)
            ),
        )
        connection.executemany(
            f"INSERT INTO fills VALUES ({_placeholders(2 + len(_FILL_FIELDS))})",
            (
                (
                    run_id,
                    seq,
                    int(fill.ts_ns),
                    fill.instrument_id,
                    fill.venue,
                    *_reals(fill, _FILL_FIELDS[3:]),
                )
                for seq, fill in enumerate(recorder.fills)
            ),
        )
        _save_decisions(connection, run_id, recorder.decisions)


def _save_decisions(
    connection: sqlite3.Connection, run_id: str, decisions: Sequence[Decision]
) -> None:
    connection.executemany(
        f"INSERT INTO decisions VALUES ({_placeholders(2 + len(_DECISION_FIELDS))})",
        (
            (
                run_id,
                seq,
                int(d.ts_ns),
                d.underlying,
                int(bool(d.act)),
                d.trigger,
                int(bool(d.forced)),
                _real(d.expected_cost_usd),
                _real(d.expected_benefit_usd),
            )
            for seq, d in enumerate(decisions)
        ),
    )
    connection.executemany(
        "INSERT INTO decision_reasons VALUES (?, ?, ?, ?)",
        (
            (run_id, seq, position, reason)
            for seq, decision in enumerate(decisions)
            for position, reason in enumerate(decision.reasons)
        ),
    )
    connection.executemany(
        "INSERT INTO decision_goals VALUES (?, ?, ?, ?, ?, ?)",
        (
            (run_id, seq, position, Greek(greek).value, _real(lower), _real(upper))
            for seq, d in enumerate(decisions)
            for position, (greek, (lower, upper)) in enumerate(d.goal.items())
        ),
    )


def list_runs(path: str | Path) -> tuple[str, ...]:
    """Return the ids of the runs stored in a file, in the order they were saved.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    IncompatibleRunFile
        If the file holds another schema version.
    """
    with _connect(Path(path), create=False) as connection:
        return tuple(row[0] for row in connection.execute("SELECT run_id FROM runs ORDER BY rowid"))


def load_run(path: str | Path, run_id: str) -> StoredRun:
    """Return a stored run: its records, configuration and metrics.

    Raises
    ------
    UnknownRun
        If no run ``run_id`` is stored in the file; the message lists those that are.
    FileNotFoundError
        If the file does not exist.
    IncompatibleRunFile
        If the file holds another schema version.
    """
    with _connect(Path(path), create=False) as connection:
        row = connection.execute(
            "SELECT config_json, metrics_json FROM runs WHERE run_id = ?", (run_id,)
        ).fetchone()
        if row is None:
            stored = [
                name for (name,) in connection.execute("SELECT run_id FROM runs ORDER BY rowid")
            ]
            raise UnknownRun(
                f"{path}: no run {run_id!r}; stored runs: {', '.join(map(repr, stored)) or 'none'}"
            )
        config_json, metrics_json = row
        samples = [
            RiskSample(ts_ns, underlying, *map(_from_real, reals))
            for ts_ns, underlying, *reals in connection.execute(
                f"SELECT {', '.join(_SAMPLE_FIELDS)} FROM samples WHERE run_id = ? ORDER BY seq",
                (run_id,),
            )
        ]
        fills = [
            FillRecord(ts_ns, instrument_id, venue, *map(_from_real, reals))
            for ts_ns, instrument_id, venue, *reals in connection.execute(
                f"SELECT {', '.join(_FILL_FIELDS)} FROM fills WHERE run_id = ? ORDER BY seq",
                (run_id,),
            )
        ]
        decisions = _load_decisions(connection, run_id)
    return StoredRun(
        run_id=run_id,
        recorder=Recorder(samples=samples, decisions=decisions, fills=fills),
        config=json.loads(config_json),
        metrics=None
        if metrics_json is None
        else BacktestMetrics.from_dict(json.loads(metrics_json)),
    )


def _load_decisions(connection: sqlite3.Connection, run_id: str) -> list[Decision]:
    reasons: dict[int, list[str]] = {}
    for seq, reason in connection.execute(
        "SELECT decision_seq, reason FROM decision_reasons WHERE run_id = ? "
        "ORDER BY decision_seq, position",
        (run_id,),
    ):
        reasons.setdefault(seq, []).append(reason)
    goals: dict[int, dict[Greek, tuple[float, float]]] = {}
    for seq, greek, lower, upper in connection.execute(
        "SELECT decision_seq, greek, lower, upper FROM decision_goals WHERE run_id = ? "
        "ORDER BY decision_seq, position",
        (run_id,),
    ):
        goals.setdefault(seq, {})[Greek(greek)] = (_from_real(lower), _from_real(upper))
    rows = connection.execute(
        f"SELECT seq, {', '.join(_DECISION_FIELDS)} FROM decisions WHERE run_id = ? ORDER BY seq",
        (run_id,),
    )
    return [
        Decision(
            ts_ns=ts_ns,
            underlying=underlying,
            act=bool(act),
            trigger=trigger,
            reasons=tuple(reasons.get(seq, ())),
            goal=goals.get(seq, {}),
            forced=bool(forced),
            expected_cost_usd=_from_real(expected_cost),
            expected_benefit_usd=_from_real(expected_benefit),
        )
        for seq, ts_ns, underlying, act, trigger, forced, expected_cost, expected_benefit in rows
    ]
