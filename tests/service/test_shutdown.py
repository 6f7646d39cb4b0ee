"""Graceful shutdown: SIGINT and SIGTERM stop ``hedgekeeper run`` cleanly; open orders are cancelled or kept as configured."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from service.service_builders import TOKEN, free_port, service_document, service_spec, to_toml, wait_for

from hedgekeeper.engine.persistence.store import Store
from hedgekeeper.service.runtime import Service

_SCRIPT = Path(sys.executable).with_name("hedgekeeper")  # the console script, as ``make run`` starts it
RUN = [str(_SCRIPT), "run"] if _SCRIPT.exists() else [sys.executable, "-c", "from hedgekeeper.cli import app; app()",
                                                     "run"]


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_service_cleanly_and_no_secret_reaches_the_log(tmp_path: Path, signal_number: int) -> None:
    port = free_port()
    config = tmp_path / "service.toml"
    config.write_text(to_toml(service_document(tmp_path, speed=600.0, port=port)))
    process = subprocess.Popen([*RUN, str(config), "--port", str(port)], text=True, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, env=os.environ | {"HEDGEKEEPER_API_TOKEN": TOKEN})
    deadline = time.monotonic() + 60
    try:
        while True:
            assert time.monotonic() < deadline and process.poll() is None, "the service did not start"
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/api/status",
                                   headers={"Authorization": f"Bearer {TOKEN}"}, timeout=2).json()
                if status["status"] == "running" and status["counters"]["fills"] > 0:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        process.send_signal(signal_number)
        output = process.communicate(timeout=60)[0]
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output[-3000:]
    assert "shutdown:" in output and "stopped" in output
    assert TOKEN not in output
    store = Store.open(f"sqlite:///{tmp_path / 'store.sqlite'}")
    assert [run.clean_stop for run in store.runs()] == [True]
    assert all(order.status in ("filled", "cancelled", "expired", "rejected") for order in store.orders())
    assert TOKEN not in str(store.config_versions())
    store.close()


@pytest.mark.parametrize(("on_shutdown", "left_working"), [("cancel", False), ("keep", True)])
def test_open_orders_are_cancelled_or_kept_on_shutdown_as_configured(tmp_path: Path, on_shutdown: str,
                                                                     left_working: bool) -> None:
    spec = service_spec(tmp_path, speed=300.0, latency_ms=120_000.0)
    spec = spec.model_copy(update={"file": spec.file.model_copy(update={
        "service": spec.file.service.model_copy(update={"on_shutdown": on_shutdown})})})
    service = Service(spec)
    service.start()
    wait_for(lambda: bool(service.snapshot.open_orders), what="an order working")
    service.stop()
    assert service.error is None
    store = Store.open(spec.file.service.database_url)
    working = store.orders(working_only=True)
    assert bool(working) is left_working
    if not left_working:
        assert any(o.status == "cancelled" and o.reason == "cancelled before it reached the book"
                   for o in store.orders())
    store.close()


def test_without_the_api_run_stops_after_its_duration(tmp_path: Path) -> None:
    document = service_document(tmp_path, speed=600.0)
    document["api"]["enabled"] = False
    config = tmp_path / "service.toml"
    config.write_text(to_toml(document))
    finished = subprocess.run([*RUN, str(config), "--duration", "2"], text=True, capture_output=True, timeout=120)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert "dashboard" not in finished.stderr and "shutdown:" in finished.stderr
    store = Store.open(f"sqlite:///{tmp_path / 'store.sqlite'}")
    assert [run.clean_stop for run in store.runs()] == [True]
    assert store.greeks("BTC")
    store.close()
