"""Upgrading an existing store to the feed indexes, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from feeds.store import Store
from feeds.store.db import MIGRATIONS
from feeds.store.schema import metadata
from tests.stores import fresh_database


@pytest.fixture
def empty_store(tmp_path: Path) -> Iterator[Store]:
    """A store with no tables, on the database the suite runs on."""
    with fresh_database(tmp_path) as url:
        store = Store.from_url(url)
        yield store
        store.dispose()


def migrate(store: Store, revision: str, *, down: bool = False) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        if down:
            command.downgrade(config, revision)
        else:
            command.upgrade(config, revision)


# The revision before the feed indexes.
BEFORE = "0005"

ROWS = [
    # id, status, sponsored, section, published
    (1, "published", False, "w", "2020-01-01 08:00:00"),
    (2, "draft", False, "b", "2021-02-03 09:30:00"),
    (3, "withdrawn", True, "b", "2022-03-04 10:45:00"),
]


def test_upgrade_fills_the_links_and_builds_the_indexes(empty_store: Store) -> None:
    migrate(empty_store, BEFORE)
    with empty_store.engine.begin() as conn:
        for slug in ("w", "b"):
            conn.execute(
                text("INSERT INTO sections (slug, title, description) VALUES (:s, :s, '')"),
                {"s": slug},
            )
        conn.execute(text("INSERT INTO hashtags (id, key, display) VALUES (1, 'x', 'X')"))
        for n, status, sponsored, section, when in ROWS:
            conn.execute(
                text(
                    "INSERT INTO articles (id, guid, slug, title, summary, content_html, author,"
                    " section, views, sponsored, status, language, published_at, updated_at)"
                    " VALUES (:n, :g, :g, 't', '', '', 'a', :section, 0, :sponsored, :status,"
                    " 'en', :when, :when)"
                ),
                {
                    "n": n,
                    "g": f"g{n}",
                    "section": section,
                    "sponsored": sponsored,
                    "status": status,
                    "when": when,
                },
            )
            conn.execute(text("INSERT INTO article_hashtags VALUES (:n, 1, 0)"), {"n": n})
    empty_store.migrate()

    with empty_store.read() as conn:
        links = conn.execute(
            text(
                "SELECT article_id, status, sponsored, section, published_at"
                " FROM article_hashtags ORDER BY article_id"
            )
        ).all()
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    assert [(n, status, bool(sp), section) for n, status, sp, section, _ in links] == [
        (n, status, sponsored, section) for n, status, sponsored, section, _ in ROWS
    ]
    assert [str(row[4])[:19] for row in links] == [when for *_, when in ROWS]
    names = {index["name"] for index in inspect(empty_store.engine).get_indexes("article_hashtags")}
    assert "ix_article_hashtags_tag_feed" in names

    # And back: the old shape, the same links.
    migrate(empty_store, BEFORE, down=True)
    with empty_store.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM article_hashtags")).scalar_one() == 3
    columns = {c["name"] for c in inspect(empty_store.engine).get_columns("article_hashtags")}
    assert columns == {"article_id", "hashtag_id", "position"}
