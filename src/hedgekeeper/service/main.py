"""``hedgekeeper run CONFIG``: the service and its API in one process, until SIGINT/SIGTERM, the end of the market or ``--duration``.

The engine runs on its own thread (``runtime.py``); uvicorn serves the API on the
main thread's event loop and turns SIGINT and SIGTERM into a graceful stop: the
server stops accepting, then the service stops deciding, cancels or keeps its
orders as configured, writes its state and closes. Without the API, the same
signals end the wait directly.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hedgekeeper.service.config import load_service
from hedgekeeper.service.credentials import api_token
from hedgekeeper.service.runtime import Service

logger = logging.getLogger("hedgekeeper.service")

SWITCH_INTERVAL_S = 0.0005
"""How long a thread holds the GIL before handing it over (Python's default is 5 ms): the API's threads
must not hold the engine's thread up for milliseconds between two market events."""


def configure_logging(level: int = logging.INFO) -> None:
    """Log to stderr with times; quiet the libraries' chatter (migrations, HTTP access)."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in ("alembic", "uvicorn.access", "httpx"):
        logging.getLogger(name).setLevel(logging.WARNING)


def run(config: str | Path, *, duration_s: float | None = None, database_url: str | None = None,
        port: int | None = None) -> Service:
    """Run the service of the file ``config`` until a signal, the market's end or ``duration_s`` wall seconds.

    Parameters
    ----------
    config : the service file (``examples/service.toml``)
    duration_s : stop after this many wall-clock seconds; None to run until interrupted
    database_url : the store, instead of the file's ``service.database_url``
    port : the API's port, instead of the file's ``api.port``

    Returns
    -------
    Service, stopped

    Raises
    ------
    HedgekeeperError
        If the configuration, the store, a venue or a secret is refused (before anything runs).
    """
    spec = load_service(config)
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    service = Service(spec, database_url=database_url)
    api = spec.file.api
    token = source = None
    if api.enabled:
        token, source = api_token(api.token_env, api.token_file)
    service.start()
    logger.info("%s: store %s, engine speed %gx, orders %s on shutdown", spec.file.service.name,
                service.store.url, spec.file.service.speed, spec.file.service.on_shutdown)
    try:
        if api.enabled:
            _serve(service, token, source, api.host, api.port if port is None else port, duration_s)
        else:
            _wait(service, duration_s)
    finally:
        service.stop()
    logger.info("%s stopped%s", spec.file.service.name, f" after an error: {service.error}" if service.error else "")
    return service


def _serve(service: Service, token: Any, source: str | None, host: str, port: int, duration_s: float | None) -> None:
    import uvicorn

    from hedgekeeper.api.app import create_app

    class Server(uvicorn.Server):
        """uvicorn's server, whose SIGINT/SIGTERM end serving without killing the process (the service stops next)."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            previous = {number: signal.signal(number, self.handle_exit) for number in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for number, handler in previous.items():
                    signal.signal(number, handler)

    app = create_app(service, token)
    server = Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                                           lifespan="off"))

    def finish() -> None:
        server.should_exit = True

    service.on_finished = finish
    timer = None if duration_s is None else threading.Timer(duration_s, finish)
    if timer is not None:
        timer.daemon = True
        timer.start()

    def announce() -> None:
        while not server.started and not server.should_exit:
            threading.Event().wait(0.05)
        for listener in getattr(server, "servers", []):
            for sock in listener.sockets:
                address = sock.getsockname()
                logger.info("dashboard http://%s:%d/  (API token from %s; OpenAPI at /docs)", address[0],
                            address[1], source)

    threading.Thread(target=announce, daemon=True).start()
    server.run()
    if timer is not None:
        timer.cancel()


def _wait(service: Service, duration_s: float | None) -> None:
    done = threading.Event()
    service.on_finished = done.set
    previous = {number: signal.signal(number, lambda *_: done.set()) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        done.wait(duration_s)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
