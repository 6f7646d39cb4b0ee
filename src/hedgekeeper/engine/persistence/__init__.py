"""Persistence of the live service: SQLAlchemy 2 models, Alembic migrations, the store and its writer.

- ``models.py``: the tables; ``migrations/``: their Alembic revisions, applied on open;
- ``schema.py``: create or upgrade a database to the shipped head;
- ``rows.py``: the engine's records as rows (pure);
- ``store.py``: ``Store``, reads and writes on SQLite (default) or PostgreSQL;
- ``writer.py``: ``StoreWriter``, the background thread that commits in batches.
"""
