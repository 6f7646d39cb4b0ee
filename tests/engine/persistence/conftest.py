"""The store's tests run against an SQLite file and a real PostgreSQL server on loopback (skipped with the reason if it cannot start)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from engine.persistence.postgres_server import PostgresServer, Unavailable


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


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Return the URL of an empty database: an SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    return request.getfixturevalue("postgres").database()
