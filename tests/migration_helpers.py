"""Bringing a store to an older revision, to test what an upgrade does to existing rows."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from feeds.store import Store
from feeds.store.db import MIGRATIONS


def upgrade_to(store: Store, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def old_version_row(conn: Connection, key: str, version: int, changed_at: str) -> None:
    """A feed_versions row as a store before migration 0023 holds it (no moved_at);
    `changed_at` as SQLite's text, which PostgreSQL reads too."""
    conn.execute(
        text("INSERT INTO feed_versions (key, version, changed_at) VALUES (:key, :version, :at)"),
        {"key": key, "version": version, "at": changed_at},
    )
