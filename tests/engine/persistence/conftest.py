"""The store's tests run against an SQLite file and a real PostgreSQL server on loopback (skipped with the reason if it cannot start)."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine.persistence.postgres_server import postgres  # noqa: F401 (the session's server)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Return the URL of an empty database: an SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    return request.getfixturevalue("postgres").database()
