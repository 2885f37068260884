"""The store: migrations match the tables, SQLite runs in WAL mode, times stay UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, select, text

from feeds.errors import Conflict
from feeds.models import Section
from feeds.service import Service
from feeds.store import Store
from feeds.store.schema import feed_versions, metadata


def test_migrations_create_exactly_the_declared_tables(service: Service) -> None:
    with service.ctx.store.engine.connect() as conn:
        context = MigrationContext.configure(conn)
        assert compare_metadata(context, metadata) == []


def test_sqlite_store_uses_wal(tmp_path: Path) -> None:
    store = Store.from_url(f"sqlite:///{tmp_path}/var/x.db")
    store.migrate()
    with store.read() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    assert (tmp_path / "var" / "x.db").exists()
    store.migrate()  # idempotent


def test_datetimes_come_back_aware_utc(service: Service) -> None:
    seoul = timezone(timedelta(hours=9))
    written = datetime(2026, 1, 12, 17, 23, tzinfo=seoul)
    with service.ctx.store.begin() as conn:
        conn.execute(insert(feed_versions).values(key="t:x", version=1, changed_at=written))
    with service.ctx.store.read() as conn:
        read = conn.execute(
            select(feed_versions.c.changed_at).where(feed_versions.c.key == "t:x")
        ).scalar_one()
    assert read == written
    assert read.tzinfo == UTC


def test_naive_datetimes_are_refused(service: Service) -> None:
    with pytest.raises(Exception, match="naive"), service.ctx.store.begin() as conn:
        conn.execute(
            insert(feed_versions).values(key="t:y", version=1, changed_at=datetime(2026, 1, 1))
        )


def test_integrity_errors_become_conflicts(service: Service) -> None:
    service.catalog.save_section(Section("dupe", "Dupe"))
    with pytest.raises(Conflict), service.ctx.store.begin() as conn:
        conn.execute(
            text("INSERT INTO sections (slug, title, description) VALUES ('dupe', 'x', '')")
        )
