"""A fast service for tests: the example file with a narrow band, many slices and its files in a temporary folder."""

from __future__ import annotations

import copy
import datetime as dt
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hedgekeeper.config import load_toml
from hedgekeeper.service.config import ServiceSpec, parse_service

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "service.toml"
TOKEN = "test-token-0123456789"


def wait_for(condition: Callable[[], bool], timeout_s: float = 40.0, what: str = "condition") -> None:
    """Return once ``condition()`` holds; fail the test naming ``what`` after ``timeout_s`` seconds."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.02)


@contextmanager
def serving_api(service: Any) -> Iterator[str]:
    """Serve ``service``'s API and dashboard with uvicorn on a free port; yield the dashboard's URL."""
    import pydantic
    import uvicorn

    from hedgekeeper.api.app import create_app

    server = uvicorn.Server(uvicorn.Config(create_app(service, pydantic.SecretStr(TOKEN)), host="127.0.0.1",
                                           port=free_port(), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{server.config.port}/"
    finally:
        server.should_exit = True
        thread.join(10)


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_document(folder: Path, *, speed: float = 1500.0, width: float = 0.3, slices: int = 3,
                     interval_s: float = 30.0, latency_ms: float = 0.0, duration_s: float = 86_400.0,
                     port: int | None = None, database_url: str | None = None,
                     chain: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the example service document made fast: files in ``folder``, a band of +-``width`` BTC.

    The chain is off unless ``chain`` gives the ``[chain]`` table.
    """
    document = copy.deepcopy(load_toml(EXAMPLE))
    document["profile"]["BTC"]["delta_coin"] = {"target": 0.0, "width": width}
    document["simulation"]["duration_s"] = duration_s
    document["execution"].update(slices=slices, interval_s=interval_s)
    document["service"].update(speed=speed, database_url=database_url or f"sqlite:///{folder / 'store.sqlite'}",
                               snapshot_interval_s=0.05, heartbeat_s=0.2)
    document["api"].update(port=port or 8000, token_file=str(folder / "api-token"))
    document["exchange"]["simulated"].update(journal_path=str(folder / "exchange.sqlite"), order_latency_ms=latency_ms)
    document["chain"] = {"enabled": False} if chain is None else chain
    return document


def service_spec(folder: Path, **options: Any) -> ServiceSpec:
    """Return the fast service's specification (see ``service_document``)."""
    return parse_service(service_document(folder, **options), source="test service")


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f'"{k}" = {_value(v)}' for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")


def to_toml(document: dict[str, Any], prefix: str = "") -> str:
    """Return ``document`` as TOML text (tables and arrays of tables; what the service file uses)."""
    lines, tables = [], []
    for key, value in document.items():
        if isinstance(value, dict) and value and all(isinstance(k, str) for k in value):
            tables.append((key, value))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            tables.append((key, value))
        else:
            lines.append(f'"{key}" = {_value(value)}')
    text = "\n".join(lines) + ("\n" if lines else "")
    for key, value in tables:
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, list):
            for item in value:
                text += f"\n[[{name}]]\n" + to_toml(item, name)
        else:
            text += f"\n[{name}]\n" + to_toml(value, name)
    return text
