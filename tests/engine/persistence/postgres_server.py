"""A throw-away PostgreSQL server on loopback for the tests: initdb in a temporary folder, a free port.

``PostgresServer.start(folder)`` runs Debian's PostgreSQL binaries
(``/usr/lib/postgresql/<version>/bin``) as the ``postgres`` user when the tests run
as root (PostgreSQL refuses to run as root), with its unix socket in the folder,
fsync off, and trust authentication on 127.0.0.1 only. ``database()`` makes a fresh
database and returns its ``postgresql+psycopg://`` URL. When PostgreSQL is absent
or does not start, ``start`` raises ``Unavailable`` with the reason, for the
fixture to skip with.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest


class Unavailable(RuntimeError):
    """PostgreSQL cannot be started here; the message says why."""


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """A running PostgreSQL cluster in a temporary folder."""

    def __init__(self, folder: Path, bin_dir: Path, port: int, prefix: list[str]) -> None:
        self.folder, self.bin_dir, self.port, self._prefix = folder, bin_dir, port, prefix
        self._databases = itertools.count(1)

    @classmethod
    def start(cls, folder: Path) -> PostgresServer:
        """Initialise and start a cluster in ``folder``.

        Raises
        ------
        Unavailable
            If the binaries are missing or the server does not start (with its log).
        """
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            raise Unavailable("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)")
        bin_dir = Path(found[-1]).parent
        prefix: list[str] = []
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            if runuser is None:
                raise Unavailable("running as root without runuser to start PostgreSQL as the postgres user")
            try:
                shutil.chown(folder, "postgres")
            except (LookupError, OSError) as error:
                raise Unavailable(f"cannot hand {folder} to the postgres user: {error}") from None
            folder.chmod(0o700)
            prefix = [runuser, "-u", "postgres", "--"]
        server = cls(folder, bin_dir, free_port(), prefix)
        data, log = folder / "data", folder / "server.log"
        try:
            server._run("initdb", "-D", str(data), "-U", "hedgekeeper", "-A", "trust", "--no-sync", "-E", "UTF8")
            server._run("pg_ctl", "-D", str(data), "-l", str(log), "-w", "-t", "30", "-o",
                        f"-p {server.port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                        "-c full_page_writes=off -c synchronous_commit=off", "start")
        except subprocess.CalledProcessError as error:
            detail = log.read_text()[-2000:] if log.exists() else ""
            raise Unavailable(f"PostgreSQL did not start: {error.stderr or error.stdout}\n{detail}") from None
        return server

    def _run(self, program: str, *arguments: str) -> None:
        subprocess.run([*self._prefix, str(self.bin_dir / program), *arguments], check=True, capture_output=True,
                       text=True, timeout=60)

    @property
    def admin_url(self) -> str:
        """Return the URL of the ``postgres`` database."""
        return f"postgresql+psycopg://hedgekeeper@127.0.0.1:{self.port}/postgres"

    def database(self) -> str:
        """Create a new, empty database; return its SQLAlchemy URL."""
        name = f"test_{next(self._databases)}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=hedgekeeper dbname=postgres",
                             autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}")
        return f"postgresql+psycopg://hedgekeeper@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        """Stop the server at once."""
        try:
            self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            pass


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """Start one PostgreSQL server for the session; skip with the reason when it cannot start."""
    folder = Path(tempfile.mkdtemp(prefix="hk-pg-"))
    try:
        server = PostgresServer.start(folder)
    except Unavailable as reason:
        print(f"PostgreSQL tests skipped: {reason}")
        pytest.skip(f"PostgreSQL unavailable: {reason}")
    yield server
    server.stop()
