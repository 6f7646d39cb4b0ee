"""Run storage: exact round trips through SQLite, several runs per file, clear errors."""

from __future__ import annotations

import math
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedgekeeper.backtest.metrics import compute_metrics
from hedgekeeper.backtest.storage import (
    IncompatibleRunFile,
    RunExists,
    UnknownRun,
    list_runs,
    load_run,
    save_run,
)
from hedgekeeper.engine.records import FillRecord, Recorder, RiskSample
from hedgekeeper.policy.decision import Decision, Greek
from hedgekeeper.policy.risk_profile import load_risk_profile

any_float = st.floats(allow_nan=True, allow_infinity=True)
ts_ns = st.integers(-(2**63), 2**63 - 1)
names = st.text(max_size=12)

samples = st.builds(
    RiskSample,
    ts_ns,
    names,
    any_float,
    any_float,
    any_float,
    any_float,
    any_float,
    any_float,
    any_float,
)
fills = st.builds(
    FillRecord,
    ts_ns,
    names,
    names,
    any_float,
    any_float,
    any_float,
    any_float,
    any_float,
    any_float,
)
decisions = st.builds(
    Decision,
    ts_ns=ts_ns,
    underlying=names,
    act=st.booleans(),
    trigger=names,
    reasons=st.lists(st.text(max_size=40), max_size=4).map(tuple),
    goal=st.dictionaries(st.sampled_from(Greek), st.tuples(any_float, any_float), max_size=4),
    forced=st.booleans(),
    expected_cost_usd=any_float,
    expected_benefit_usd=any_float,
)
recorders = st.builds(
    Recorder,
    st.lists(samples, max_size=8),
    st.lists(decisions, max_size=8),
    st.lists(fills, max_size=8),
)


def _same_value(first: Any, second: Any) -> bool:
    if isinstance(first, float) and isinstance(second, float):
        # NaN equals NaN here; every other float must be equal (no tolerance).
        return (math.isnan(first) and math.isnan(second)) or first == second
    if isinstance(first, tuple | list) and isinstance(second, tuple | list):
        return len(first) == len(second) and all(map(_same_value, first, second))
    if isinstance(first, dict) and isinstance(second, dict):
        return list(first) == list(second) and all(
            _same_value(first[key], second[key]) for key in first
        )
    return type(first) is type(second) and first == second


def _same_records(first: list[Any], second: list[Any]) -> bool:
    return len(first) == len(second) and all(
        type(a) is type(b)
        and all(_same_value(getattr(a, name), getattr(b, name)) for name in a.__slots__)
        for a, b in zip(first, second, strict=True)
    )


def _assert_same_recorder(loaded: Recorder, saved: Recorder) -> None:
    assert _same_records(loaded.samples, saved.samples)
    assert _same_records(loaded.decisions, saved.decisions)
    assert _same_records(loaded.fills, saved.fills)


@settings(max_examples=60, deadline=None)
@given(
    recorders,
    st.dictionaries(st.text(max_size=8), st.integers() | st.text() | st.booleans(), max_size=4),
)
def test_round_trip_is_exact_for_every_field(recorder: Recorder, config: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "runs.sqlite"
        save_run(path, "run", recorder, config=config)
        stored = load_run(path, "run")
    _assert_same_recorder(stored.recorder, recorder)
    assert stored.config == config and stored.metrics is None


def test_money_is_stored_as_real_without_rounding(tmp_path: Path) -> None:
    fee = 0.1 + 0.2  # 0.30000000000000004, not 0.3
    path = tmp_path / "runs.sqlite"
    save_run(
        path,
        "run",
        Recorder(fills=[FillRecord(1, "BTC-PERP", "deribit", 1e-8, 1e5, 1e5, 1e-3, fee, -1e-300)]),
        config={},
    )
    with sqlite3.connect(path) as connection:
        row = connection.execute(
            "SELECT typeof(fee_usd), fee_usd, slippage_usd FROM fills"
        ).fetchone()
    assert row == ("real", fee, -1e-300)
    assert load_run(path, "run").recorder.fills[0].fee_usd == fee


def test_several_runs_share_one_file_with_their_configs_and_metrics(tmp_path: Path) -> None:
    path = tmp_path / "sweep.sqlite"
    profile = load_risk_profile({"BTC": {"delta_coin": {"target": 0.0, "width": 1.0}}})
    runs = {}
    for width in (1.0, 2.0, 3.0):
        recorder = Recorder(
            samples=[
                RiskSample(
                    i * 60, "BTC", 1e5, width * (-1) ** i, 0.0, 0.0, 0.0, 1e6 + i * width, math.inf
                )
                for i in range(4)
            ],
            decisions=[
                Decision(
                    60,
                    "BTC",
                    True,
                    "threshold",
                    ("delta_coin 2 above band upper 1",),
                    {Greek.DELTA_COIN: (-1.0, 1.0)},
                )
            ],
        )
        metrics = compute_metrics(recorder, profile)
        runs[f"width-{width:g}"] = (recorder, metrics)
        save_run(path, f"width-{width:g}", recorder, config={"width": width}, metrics=metrics)
    assert list_runs(path) == ("width-1", "width-2", "width-3")
    for run_id, (recorder, metrics) in runs.items():
        stored = load_run(path, run_id)
        _assert_same_recorder(stored.recorder, recorder)
        assert stored.config == {"width": float(run_id.split("-")[1])}
        # The liquidation distance is inf, the hedging error finite: both come back exactly.
        assert stored.metrics.to_dict() == metrics.to_dict()
    with sqlite3.connect(path) as connection:
        queried = connection.execute(
            "SELECT run_id, json_extract(metrics_json, '$.min_liquidation_distance_fraction') "
            "FROM runs ORDER BY run_id"
        ).fetchall()
    assert queried == [("width-1", "inf"), ("width-2", "inf"), ("width-3", "inf")]


def test_loading_an_unknown_run_names_the_stored_ones(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    save_run(path, "baseline", Recorder(), config={})
    with pytest.raises(UnknownRun, match=r"no run 'tuned'; stored runs: 'baseline'") as caught:
        load_run(path, "tuned")
    assert isinstance(caught.value, KeyError)


def test_saving_over_a_run_needs_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    first = Recorder(
        decisions=[Decision(1, "BTC", True, "time", ("a", "b"), {Greek.WEIGHT: (-0.1, 0.1)})]
    )
    second = Recorder(decisions=[Decision(2, "ETH", False)])
    save_run(path, "run", first, config={"version": 1})
    with pytest.raises(RunExists, match="overwrite=True"):
        save_run(path, "run", second, config={"version": 2})
    save_run(path, "run", second, config={"version": 2}, overwrite=True)
    stored = load_run(path, "run")
    assert stored.recorder.decisions == second.decisions and stored.config == {"version": 2}
    with sqlite3.connect(path) as connection:
        counts = [
            connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("decisions", "decision_reasons", "decision_goals")
        ]
    assert counts == [1, 0, 0]


def test_a_failed_save_leaves_no_partial_run(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    bad_goal = Decision(1, "BTC", True, "threshold", goal={"delta_coni": (-1.0, 1.0)})  # type: ignore[dict-item]
    samples = [RiskSample(0, "BTC", 1e5, 0.0, 0.0, 0.0, 0.0, 1e6, math.inf)]
    with pytest.raises(ValueError, match="delta_coni"):
        save_run(path, "run", Recorder(samples=samples, decisions=[bad_goal]), config={})
    assert list_runs(path) == ()
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM samples").fetchone() == (0,)


def test_a_config_with_a_non_finite_number_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        save_run(tmp_path / "runs.sqlite", "run", Recorder(), config={"width": math.nan})


def test_missing_and_foreign_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such run file"):
        load_run(tmp_path / "absent.sqlite", "run")
    foreign = tmp_path / "notes.sqlite"
    foreign.write_text("not a database, just text long enough to look like a header" * 4)
    with pytest.raises(IncompatibleRunFile, match="not a SQLite run file"):
        list_runs(foreign)
    other_schema = tmp_path / "other.sqlite"
    with sqlite3.connect(other_schema) as connection:
        connection.execute("CREATE TABLE things (x)")
    with pytest.raises(IncompatibleRunFile, match="schema version 0"):
        save_run(other_schema, "run", Recorder(), config={})
