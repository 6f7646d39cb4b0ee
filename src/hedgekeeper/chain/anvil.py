"""Start and stop a local anvil node on a free loopback port.

The binary comes from the npm package ``@foundry-rs/anvil`` (``make test``
installs it into ``node_modules/.bin/anvil``). ``find_anvil`` looks, in order, at
``$HEDGEKEEPER_ANVIL``, ``node_modules/.bin/anvil`` in the working directory and
its parents and beside this repository's checkout, then ``anvil`` on the PATH.
``AnvilNode`` starts it with automatic mining, waits until it answers JSON-RPC,
and kills it on ``stop``, on leaving its ``with`` block, or at interpreter exit.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from hedgekeeper.chain.backends import RpcBackend
from hedgekeeper.chain.errors import AnvilUnavailable

_REPOSITORY = Path(__file__).resolve().parents[3]


def find_anvil() -> Path | None:
    """Return the path of the anvil binary, or None when there is none."""
    explicit = os.environ.get("HEDGEKEEPER_ANVIL")
    if explicit:
        return Path(explicit) if Path(explicit).is_file() else None
    folders = [Path.cwd(), *Path.cwd().parents, _REPOSITORY]
    for folder in folders:
        candidate = folder / "node_modules" / ".bin" / "anvil"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("anvil")
    return Path(found) if found else None


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(url: str) -> bool:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=0.5) as response:
            return "result" in json.loads(response.read())
    except (OSError, ValueError, urllib.error.URLError):
        return False


class AnvilNode:
    """A local anvil process.

    Parameters
    ----------
    binary : Path or None, the anvil executable (None: ``find_anvil()``)
    port : int or None, the loopback port (None: a free one)
    startup_timeout_s : float, how long to wait for the node to answer, seconds
    extra_args : list of str, more anvil arguments (e.g. ``["--block-time", "2"]``)

    Examples
    --------
    >>> with AnvilNode() as node:  # doctest: +SKIP
    ...     chain = connect(node.backend())
    """

    def __init__(
        self,
        binary: Path | None = None,
        port: int | None = None,
        startup_timeout_s: float = 20.0,
        extra_args: list[str] | None = None,
    ) -> None:
        self.binary = binary
        self.port = port
        self.startup_timeout_s = startup_timeout_s
        self.extra_args = extra_args or []
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Return the node's JSON-RPC URL (``http://127.0.0.1:PORT``)."""
        if self.port is None:
            raise AnvilUnavailable("anvil is not started")
        return f"http://127.0.0.1:{self.port}"

    def backend(self, receipt_poll_latency_s: float = 0.01) -> RpcBackend:
        """Return the ``RpcBackend`` configuration that reaches this node."""
        return RpcBackend(url=self.url, receipt_poll_latency_s=receipt_poll_latency_s)

    def start(self) -> AnvilNode:
        """Start anvil and wait until it answers; return self.

        Raises
        ------
        AnvilUnavailable
            No binary, or the node did not answer within ``startup_timeout_s``.
        """
        binary = self.binary or find_anvil()
        if binary is None:
            raise AnvilUnavailable(
                "anvil not found: run `make test` (npm installs node_modules/.bin/anvil) or set HEDGEKEEPER_ANVIL"
            )
        if not binary.is_file():
            raise AnvilUnavailable(f"anvil not found at {binary}")
        self.binary = binary
        if self.port is None:
            self.port = free_port()
        command = [str(binary), "--host", "127.0.0.1", "--port", str(self.port), "--silent", *self.extra_args]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        atexit.register(self.stop)
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            status = self.process.poll()
            if status is not None:
                error = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                self.process = None
                raise AnvilUnavailable(f"anvil exited at start with status {status}: {error.strip()}")
            if _answers(self.url):
                return self
            time.sleep(0.05)
        self.stop()
        raise AnvilUnavailable(f"anvil did not answer on {self.url} within {self.startup_timeout_s} s")

    def stop(self) -> None:
        """Stop the node (terminate, then kill after 5 s); do nothing if it is not running."""
        process, self.process = self.process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()

    def __enter__(self) -> AnvilNode:
        return self.start() if self.process is None else self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
