"""The service's tests: the PostgreSQL server of the store's tests, for the service run on PostgreSQL."""

from __future__ import annotations

from engine.persistence.postgres_server import postgres  # noqa: F401 (the session's server)
