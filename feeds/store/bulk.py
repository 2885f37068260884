"""Writing many articles at once: COPY on PostgreSQL, the driver's executemany on SQLite.

Rows are the same as one article's write makes (`articles.row_values`, each hashtag
link with `hashtags.feed_columns`); only the way they reach the database differs. The
caller's transaction holds the whole load, so a failure leaves the store as it was.
Articles are given their ids here, from a number reserved under a lock, so their links
can be written without reading anything back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import psycopg
import psycopg.sql
from sqlalchemy import Connection, Table, func, insert, select, text

from feeds.errors import Conflict, StorageError
from feeds.models import Article, FeedKey
from feeds.store.articles import row_values
from feeds.store.db import Store
from feeds.store.hashtags import link_rows
from feeds.store.schema import article_hashtags, articles, feed_versions, hashtags

# Keys per statement: bound parameters are limited (SQLite 32766, PostgreSQL 65535).
CHUNK = 1000
# Pages SQLite keeps in memory while loading (negative: KiB), so index pages stay hot.
SQLITE_LOAD_CACHE_KIB = 512 * 1024


def first_free_id(conn: Connection) -> int:
    """The first article id of a load; concurrent writers of articles wait until commit."""
    if conn.dialect.name == "postgresql":
        # SHARE ROW EXCLUSIVE: others may read, nobody else may insert until we commit.
        conn.execute(text("LOCK TABLE articles IN SHARE ROW EXCLUSIVE MODE"))
    else:
        # A write that changes nothing takes SQLite's write lock now, before the read.
        conn.execute(text("UPDATE articles SET id = id WHERE 0"))
    highest = conn.execute(select(func.max(articles.c.id))).scalar_one()
    return int(highest or 0) + 1


@contextmanager
def loading(conn: Connection) -> Iterator[None]:
    """Settings for the duration of a load, restored after it."""
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_LOAD_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")


def insert_articles(conn: Connection, batch: Sequence[Article], tag_ids: Mapping[str, int]) -> None:
    """Insert articles that carry their ids, with their hashtag links."""
    rows: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    for article in batch:
        if article.id is None:
            raise ValueError("a bulk load gives every article its id")
        rows.append(row_values(article) | {"id": article.id, "content_hash": None})
        links.extend(link_rows(article.id, article, tag_ids))
    _load(conn, articles, rows)
    _load(conn, article_hashtags, links)


def _load(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Write rows straight through the driver (COPY on PostgreSQL, executemany on SQLite).

    Values are converted by the columns' own bind processors, as SQLAlchemy would; the
    driver's errors are translated here, since SQLAlchemy never sees these statements.
    """
    if not rows:
        return
    names = [column.name for column in table.columns if column.name in rows[0]]
    # None where the driver takes the value as it is.
    processors = [table.c[name].type.bind_processor(conn.dialect) for name in names]
    pairs = list(zip(names, processors, strict=True))
    values = ([row[n] if p is None else p(row[n]) for n, p in pairs] for row in rows)
    driver = conn.connection.driver_connection
    assert driver is not None
    try:
        if conn.dialect.name == "postgresql":
            command = psycopg.sql.SQL("COPY {} ({}) FROM STDIN").format(
                psycopg.sql.Identifier(table.name),
                psycopg.sql.SQL(", ").join(map(psycopg.sql.Identifier, names)),
            )
            with driver.cursor() as cursor, cursor.copy(command) as copy:
                for row in values:
                    copy.write_row(row)
        else:
            compiled = insert(table).compile(dialect=conn.dialect, column_keys=names)
            assert list(compiled.positiontup or ()) == names
            driver.executemany(str(compiled), values)
    except (psycopg.IntegrityError, sqlite3.IntegrityError) as exc:
        raise Conflict(f"conflicts with stored data: {exc}") from exc
    except (psycopg.Error, sqlite3.Error) as exc:
        raise StorageError(f"loading {table.name} failed: {exc}") from exc


def finish(conn: Connection) -> None:
    """After a load with explicit ids: the next ordinary insert continues after them."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('articles', 'id'),"
                " (SELECT max(id) FROM articles))"
            )
        )


def ensure_versions(conn: Connection, keys: Iterable[FeedKey], changed_at: datetime) -> None:
    """Give each feed a version row (version 1) unless it has one; in one statement per
    chunk, since a load can touch every hashtag's feed."""
    wanted = sorted({key.storage_key for key in keys})
    existing: set[str] = set()
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        found = select(feed_versions.c.key).where(feed_versions.c.key.in_(chunk))
        existing.update(conn.execute(found).scalars())
    rows = [
        {
            "key": key,
            "version": 1,
            "changed_at": changed_at,
            "next_change_at": None,
            "moved_at": changed_at,
        }
        for key in wanted
        if key not in existing
    ]
    if rows:
        conn.execute(insert(feed_versions), rows)


def after_load(store: Store) -> None:
    """Make a loaded PostgreSQL store ready to serve: fresh planner statistics, and the
    visibility map set so feed walks are answered from their indexes alone (autovacuum
    would get there, later). VACUUM cannot run inside a transaction."""
    if store.dialect != "postgresql":
        return
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in (articles, article_hashtags, hashtags, feed_versions):
            conn.execute(text(f'VACUUM ANALYZE "{table.name}"'))
