"""Alembic's environment for the service's store: runs on the connection ``schema.upgrade`` hands it."""

from __future__ import annotations

from alembic import context

from hedgekeeper.engine.persistence.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the store always passes its connection
    raise RuntimeError("run the store's migrations through hedgekeeper.engine.persistence.schema.upgrade")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
