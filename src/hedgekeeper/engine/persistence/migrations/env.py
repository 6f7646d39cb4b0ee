"""Alembic's environment for the service's store: runs on the connection ``schema.upgrade`` hands it."""

from __future__ import annotations

from alembic import context

from hedgekeeper.engine.persistence.models import Base


def run_migrations() -> None:
    """Run the migrations on the connection the store passed in ``config.attributes``."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run the store's migrations through hedgekeeper.engine.persistence.schema.upgrade")
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if hasattr(context, "config"):  # imported by Alembic, not by a module scan (doctests)
    run_migrations()
