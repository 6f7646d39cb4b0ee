"""The shipped migrations create exactly the models' schema, go down to nothing and up again."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from hedgekeeper.engine.persistence.models import Base
from hedgekeeper.engine.persistence.schema import current_revision, downgrade, head_revision, upgrade
from hedgekeeper.engine.persistence.store import Store, create_store_engine

TABLES = {"runs", "config_versions", "positions", "balances", "hedge_memories", "orders", "order_transitions",
          "fills", "costs", "decisions", "greeks_snapshots", "controls", "chain_records"}


def test_opening_a_new_database_applies_the_migrations_to_head(database_url: str) -> None:
    store = Store.open(database_url)
    assert current_revision(store.engine) == head_revision()
    assert TABLES <= set(inspect(store.engine).get_table_names())
    store.close()


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    store = Store.open(database_url)
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
    store.close()


def test_downgrade_to_base_drops_every_table_and_upgrade_restores_them(database_url: str) -> None:
    engine = create_store_engine(database_url)
    upgrade(engine)
    downgrade(engine, "base")
    assert not TABLES & set(inspect(engine).get_table_names())
    assert current_revision(engine) is None
    upgrade(engine)
    assert TABLES <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_opening_twice_keeps_the_data(database_url: str) -> None:
    store = Store.open(database_url)
    with store.transaction() as connection:
        Store.write_control(connection, "paused", "yes", 1)
    store.close()
    again = Store.open(database_url)
    assert again.controls() == {"paused": "yes"}
    again.close()
