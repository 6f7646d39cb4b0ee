"""Kill ``hedgekeeper run`` with SIGKILL in the middle of a rebalance, restart it on the same store, check the books.

The simulated exchange keeps its own journal, apart from the service's store, and
is rebuilt from it at the restart over the same market up to the time the
service resumes, so it outlived the crash as a real exchange would (orders sent
before the crash arrive at the book while the service is down). After the
restart and a graceful stop, the exchange is rebuilt once more, independently of
the service, and compared with the store: every order sent once, every fill of
the exchange in the store exactly once, positions equal, and the fills adding up
to the positions.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from service.service_builders import TOKEN, free_port, service_document, to_toml
from service.test_runtime import rebuilt_exchange

from hedgekeeper.engine.persistence.store import Store
from hedgekeeper.service.config import parse_service

_SCRIPT = Path(sys.executable).with_name("hedgekeeper")  # the console script, as ``make run`` starts it
RUN = [str(_SCRIPT), "run"] if _SCRIPT.exists() else [sys.executable, "-c", "from hedgekeeper.cli import app; app()",
                                                     "run"]
TERMINAL = {"filled", "cancelled", "expired", "rejected"}


def _start(config: Path, port: int, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*RUN, str(config), "--port", str(port), *extra], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=os.environ | {"HEDGEKEEPER_API_TOKEN": TOKEN})


def _get(port: int, path: str) -> dict | list | None:
    try:
        return httpx.get(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {TOKEN}"},
                         timeout=2).json()
    except httpx.HTTPError:
        return None


def _working_orders(store_file: Path) -> list[str]:
    """Return the orders the store holds as working (written before sending, not yet answered)."""
    try:
        with sqlite3.connect(f"file:{store_file}?mode=ro", uri=True, timeout=1) as connection:
            return [row[0] for row in connection.execute(
                "SELECT client_order_id FROM orders WHERE status IN ('new', 'acknowledged', 'partially_filled')")]
    except sqlite3.Error:
        return []


def test_sigkill_mid_rebalance_then_restart_duplicates_no_order_and_loses_no_fill(tmp_path: Path) -> None:
    port = free_port()
    document = service_document(tmp_path, speed=300.0, width=0.15, slices=4, interval_s=60.0, latency_ms=20_000.0,
                                port=port)
    config = tmp_path / "service.toml"
    config.write_text(to_toml(document))
    spec = parse_service(document)
    store_file = tmp_path / "store.sqlite"

    process = _start(config, port)
    killed_while: dict | None = None
    deadline = time.monotonic() + 90
    patience = time.monotonic() + 30  # then any moment of a rebalance will do, orders in flight or not
    try:
        while time.monotonic() < deadline and process.poll() is None:
            status = _get(port, "/api/status")
            if status and status["hedging"] and status["counters"]["fills"] >= 1:
                working = _working_orders(store_file)
                if working or time.monotonic() > patience:
                    process.send_signal(signal.SIGKILL)
                    killed_while = status | {"working_orders": working}
                    break
            time.sleep(0.002)
    finally:
        if process.poll() is None and killed_while is None:
            process.kill()
        output = process.communicate(timeout=30)[0]
    assert killed_while is not None, f"no rebalance seen working within 90 s:\n{output[-3000:]}"
    assert process.returncode == -signal.SIGKILL

    store = Store.open(spec.file.service.database_url)
    assert [run.clean_stop for run in store.runs()] == [False]
    store.close()

    restarted = _start(config, port, "--duration", "4")
    output = restarted.communicate(timeout=120)[0]
    assert restarted.returncode == 0, output[-3000:]

    store = Store.open(spec.file.service.database_url)
    runs = store.runs()
    assert [run.clean_stop for run in runs] == [False, True]
    recovery = runs[1].recovery
    assert recovery["reconciled"] is True, recovery
    assert recovery["orders_restored"] >= 1, recovery  # the order the kill left working
    print(f"killed while hedging {killed_while['hedging']} after {killed_while['counters']['fills']} fills, "
          f"{len(killed_while['working_orders'] or [])} orders working; "
          f"recovery: {recovery['orders_restored']} working orders restored, {recovery['order_transitions']} "
          f"transitions, {recovery['fills_recovered']} fills picked up, "
          f"{recovery['exchange_requests_replayed']} exchange requests replayed")

    market = rebuilt_exchange(spec, tmp_path, runs[1].heartbeat_engine_ns + 1)
    core = market.cores["binance"]
    placed = Counter(p["client_order_id"] for _, _, _, kind, p in market.journal.requests() if kind == "place")
    assert placed and max(placed.values()) == 1, "an order was sent twice"
    orders = {order.client_order_id: order for order in store.orders()}
    assert set(placed) <= set(orders), "an order reached the exchange without being in the store"
    for cid, order in orders.items():
        assert order.status in TERMINAL, (cid, order.status)
        if cid not in placed:
            assert order.status == "rejected", (cid, order.status, order.reason)
    prefixes = {cid.rsplit("-", 1)[0] for cid in orders}
    assert len(prefixes) == 2, "each start names its orders apart"

    venue_fills = {fill.fill_id: fill for fill in core.fills()}
    stored = [fill for fill in store.fills() if fill.venue == "binance"]
    assert len(stored) == len({fill.fill_id for fill in stored})
    assert {fill.fill_id for fill in stored} == set(venue_fills), "a fill was lost or invented"
    for fill in stored:
        venue_fill = venue_fills[fill.fill_id]
        assert (fill.quantity, fill.price, fill.client_order_id) == (
            str(venue_fill.quantity.value), str(venue_fill.price.value), venue_fill.client_order_id)

    positions = {instrument: size for instrument, size, _ in store.book()[0]}
    [venue_position] = core.positions()
    perpetual = venue_position.instrument_id
    assert positions[perpetual] == pytest.approx(float(venue_position.size_contracts), abs=1e-9)
    assert sum(fill.size_contracts for fill in stored) == pytest.approx(positions[perpetual], abs=1e-9)
    for order in orders.values():
        filled = sum(float(f.quantity) for f in stored if f.client_order_id == order.client_order_id)
        assert filled <= float(order.quantity) + 1e-12
    market.close()
    store.close()
