"""Alembic environment: migrations run on a connection the store hands in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from feeds.store.schema import metadata

config = context.config
connection = config.attributes.get("connection")

if connection is None:
    # Only the `alembic` command line reaches this branch (e.g. autogenerate).
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.connect() as fresh:
        context.configure(connection=fresh, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
