"""The store: migrations match the tables, SQLite runs in WAL mode, times stay UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import DateTime, insert, select, text

from feeds.errors import Conflict, InvalidValue, StorageError
from feeds.models import Section
from feeds.service import Service
from feeds.store import Store
from feeds.store.schema import feed_versions, metadata
from tests.migration_helpers import upgrade_to


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
        conn.execute(
            insert(feed_versions).values(key="t:x", version=1, changed_at=written, moved_at=written)
        )
    with service.ctx.store.read() as conn:
        read = conn.execute(
            select(feed_versions.c.changed_at).where(feed_versions.c.key == "t:x")
        ).scalar_one()
    assert read == written
    assert read.tzinfo == UTC


def test_sqlite_datetime_text_in_any_iso_form_comes_back_aware_utc(service: Service) -> None:
    if service.ctx.store.engine.dialect.name != "sqlite":
        pytest.skip("SQLite keeps datetimes as text")
    # Written by hand or by an older release: without fractions, with a "T", with an
    # offset. Each is read as the instant it names, in UTC.
    written = {
        "t:plain": ("2026-01-12 08:23:00", datetime(2026, 1, 12, 8, 23, tzinfo=UTC)),
        "t:micro": ("2026-01-12 08:23:00.000250", datetime(2026, 1, 12, 8, 23, 0, 250, UTC)),
        "t:tee": ("2026-01-12T08:23:00", datetime(2026, 1, 12, 8, 23, tzinfo=UTC)),
        "t:offset": ("2026-01-12 17:23:00+09:00", datetime(2026, 1, 12, 8, 23, tzinfo=UTC)),
    }
    with service.ctx.store.begin() as conn:
        for key, (stored, _) in written.items():
            conn.execute(
                text(
                    "INSERT INTO feed_versions (key, version, changed_at, moved_at)"
                    " VALUES (:k, 1, :at, :at)"
                ),
                {"k": key, "at": stored},
            )
    with service.ctx.store.read() as conn:
        read = dict(
            conn.execute(
                select(feed_versions.c.key, feed_versions.c.changed_at).where(
                    feed_versions.c.key.in_(list(written))
                )
            ).all()
        )
    assert read == {key: instant for key, (_, instant) in written.items()}
    assert {value.tzinfo for value in read.values()} == {UTC}


def test_sqlite_datetime_text_is_what_sqlalchemy_writes(service: Service) -> None:
    if service.ctx.store.engine.dialect.name != "sqlite":
        pytest.skip("SQLite keeps datetimes as text")
    # UTCDateTime writes the text in one step; it must be the text SQLAlchemy's own
    # DATETIME writes for the value in UTC (which the readers and older rows expect).
    dialect = service.ctx.store.engine.dialect
    general = DateTime().dialect_impl(dialect).bind_processor(dialect)
    seoul = timezone(timedelta(hours=9))
    values = {
        "t:offset": datetime(2026, 1, 12, 17, 23, tzinfo=seoul),
        "t:micro": datetime(2026, 1, 12, 8, 23, 0, 250, UTC),
        "t:whole": datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),
        "t:early": datetime(987, 3, 4, 5, 6, 7, 8, UTC),
    }
    with service.ctx.store.begin() as conn:
        for key, value in values.items():
            conn.execute(
                insert(feed_versions).values(key=key, version=1, changed_at=value, moved_at=value)
            )
    with service.ctx.store.read() as conn:
        rows = conn.execute(text("SELECT key, changed_at FROM feed_versions WHERE key LIKE 't:%'"))
        stored = {key: written for key, written in rows}
    assert stored == {
        key: general(value.astimezone(UTC).replace(tzinfo=None)) for key, value in values.items()
    }
    assert stored["t:offset"] == "2026-01-12 08:23:00.000000"


def test_naive_datetimes_are_refused(service: Service) -> None:
    with pytest.raises(Exception, match="naive"), service.ctx.store.begin() as conn:
        conn.execute(
            insert(feed_versions).values(
                key="t:y", version=1, changed_at=datetime(2026, 1, 1), moved_at=datetime(2026, 1, 1)
            )
        )


def test_integrity_errors_become_conflicts(service: Service) -> None:
    service.catalog.save_section(Section("dupe", "Dupe"))
    with pytest.raises(Conflict), service.ctx.store.begin() as conn:
        conn.execute(
            text("INSERT INTO sections (slug, title, description) VALUES ('dupe', 'x', '')")
        )


def test_upgrade_marks_only_tags_already_shown_as_public(tmp_path: Path) -> None:
    store = Store.from_url(f"sqlite:///{tmp_path}/old.db")
    upgrade_to(store, "0002")
    with store.engine.begin() as conn:
        conn.execute(text("INSERT INTO sections (slug, title, description) VALUES ('w', 'W', '')"))
        for n, status, when in ((1, "published", "2020-01-01"), (2, "draft", "2020-01-01"),
                                (3, "published", "2999-01-01")):  # fmt: skip
            conn.execute(
                text(
                    "INSERT INTO articles (id, guid, slug, title, summary, content_html, author,"
                    " section, views, sponsored, status, language, published_at, updated_at)"
                    f" VALUES ({n}, 'g{n}', 's{n}', 't', '', '', 'a', 'w', 0, 0, '{status}',"
                    f" 'en', '{when} 00:00:00.000000', '{when} 00:00:00.000000')"
                )
            )
            conn.execute(
                text(f"INSERT INTO hashtags (id, key, display) VALUES ({n}, 't{n}', 'T{n}')")
            )
            conn.execute(text(f"INSERT INTO article_hashtags VALUES ({n}, {n}, 0)"))
    store.migrate()
    with store.read() as conn:
        rows = conn.execute(text("SELECT key, public FROM hashtags ORDER BY key")).all()
    assert [(key, bool(public)) for key, public in rows] == [
        ("t1", True), ("t2", False), ("t3", False),
    ]  # fmt: skip
    with store.read() as conn:
        # The column is added in place: no table copy whose drop would cascade.
        assert conn.execute(text("SELECT count(*) FROM article_hashtags")).scalar_one() == 3


def test_values_the_database_refuses_are_invalid_values(service: Service) -> None:
    # PostgreSQL: out of range for integer (DataError); SQLite: the driver's OverflowError.
    with pytest.raises(InvalidValue), service.ctx.store.read() as conn:
        conn.execute(text("SELECT CAST(:v AS INTEGER)"), {"v": 2**70})


def test_other_driver_errors_are_storage_errors(service: Service) -> None:
    with pytest.raises(StorageError), service.ctx.store.begin() as conn:
        conn.execute(text("SELECT * FROM no_such_table"))
    with pytest.raises(StorageError), service.ctx.store.read() as conn:
        conn.execute(text("SELEC 1"))
