"""Feed versions: a counter per feed that moves exactly when the feed's content changes.

The web layer keys its cache on (feed, format, version), so reading the version is the
only database work a cache hit does. Rows are made by writes: a write that moves a feed
without a row creates it, so a read never has to (see FeedService.current).

Every statement that creates a row or moves its version or next change sets `moved_at`
to the writer's clock, so the publisher reads only the rows that moved since its last
round (`moved_since`) instead of every feed's (`snapshot`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, case, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from feeds.models import FeedKey, FeedKind, FeedMoves, FeedVersion
from feeds.store import archive_moves
from feeds.store import hashtags as hashtag_store
from feeds.store.schema import feed_versions

# Built once: the request path runs it on every feed request, and building a statement
# costs more than SQLite takes to answer it.
_GET = select(feed_versions).where(feed_versions.c.key == bindparam("key"))


def get(conn: Connection, key: FeedKey) -> FeedVersion | None:
    row = conn.execute(_GET, {"key": key.storage_key}).first()
    if row is None:
        return None
    return FeedVersion(
        key=key, version=row.version, changed_at=row.changed_at, next_change_at=row.next_change_at
    )


def create(
    conn: Connection,
    key: FeedKey,
    changed_at: datetime,
    next_change_at: datetime | None,
    now: datetime,
) -> None:
    """Insert a first version; a concurrent creator winning the race is fine."""
    try:
        with conn.begin_nested():
            conn.execute(
                insert(feed_versions).values(
                    key=key.storage_key,
                    version=1,
                    changed_at=changed_at,
                    next_change_at=next_change_at,
                    moved_at=now,
                )
            )
    except IntegrityError:
        pass


def _storage_keys(keys: Iterable[FeedKey]) -> list[str]:
    return sorted({key.storage_key for key in keys})


def _moved(changed_at: datetime) -> dict[str, Any]:
    """The column values of a version that moves at `changed_at`."""
    return {
        "version": feed_versions.c.version + 1,
        "moved_at": changed_at,
        # Last-Modified must never go backwards, even if clocks disagree.
        "changed_at": case(
            (feed_versions.c.changed_at > changed_at, feed_versions.c.changed_at),
            else_=changed_at,
        ),
    }


def _ensure(conn: Connection, storage_keys: list[str], changed_at: datetime) -> None:
    """Rows for the feeds that have none yet, at version 0 (the caller moves them).

    A new row's next change by time alone is unknown (a store written before rows were
    made by writes may hold scheduled articles for it), so it is due at once: the next
    writer that settles the feed (the publisher) reads it, and until then a read names
    the content it shows by itself.
    """
    chunk = 500  # bound parameters per statement stay far below either driver's limit
    insert_for = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    for start in range(0, len(storage_keys), chunk):
        rows = [
            {
                "key": key,
                "version": 0,
                "changed_at": changed_at,
                "next_change_at": changed_at,
                "moved_at": changed_at,
            }
            for key in storage_keys[start : start + chunk]
        ]
        conn.execute(insert_for(feed_versions).on_conflict_do_nothing(index_elements=["key"]), rows)


def bump(conn: Connection, keys: Iterable[FeedKey], changed_at: datetime) -> None:
    """Mark feeds changed in what every item shows: every month of their archives too."""
    keys = list(keys)
    _bump(conn, keys, changed_at)
    # Trending is a ranking and has no archives.
    archive_moves.add_feeds(conn, [k for k in keys if k.kind is not FeedKind.TRENDING], changed_at)


def _bump(conn: Connection, keys: Iterable[FeedKey], changed_at: datetime, **also: Any) -> None:
    """Mark feeds changed (setting the columns in `also` too), creating the rows of
    feeds that have none yet."""
    storage_keys = _storage_keys(keys)
    if storage_keys:
        _ensure(conn, storage_keys, changed_at)
        conn.execute(
            update(feed_versions)
            .where(feed_versions.c.key.in_(storage_keys))
            .values(**_moved(changed_at), **also)
        )


def move(conn: Connection, moves: FeedMoves, now: datetime) -> None:
    """Apply what writes did to feed versions (see FeedMoves), in the caller's transaction."""
    _bump(conn, moves.changed, now)
    archive_moves.add(conn, [(k.storage_key, month, at) for k, month, at in moves.archives])
    hashtag_store.mark_public(conn, moves.public_tags)
    for keys, at in moves.expected:
        expect_change(conn, keys, at, now)


def expect_change(conn: Connection, keys: Iterable[FeedKey], at: datetime, now: datetime) -> None:
    """Record that these feeds will change at `at` (a scheduled article comes due),
    creating the rows of feeds that have none yet (a hashtag only a scheduled article
    carries: its row waits for the article, and its feed stays unknown until then)."""
    storage_keys = _storage_keys(keys)
    if not storage_keys:
        return
    _ensure(conn, storage_keys, now)
    conn.execute(
        update(feed_versions)
        .where(feed_versions.c.key.in_(storage_keys))
        .values(
            next_change_at=case(
                (feed_versions.c.next_change_at.is_(None), at),
                (feed_versions.c.next_change_at > at, at),
                else_=feed_versions.c.next_change_at,
            ),
            moved_at=now,
        )
    )


def advance(
    conn: Connection,
    key: FeedKey,
    seen: FeedVersion,
    next_change_at: datetime | None,
    due: datetime | None,
    now: datetime,
) -> None:
    """A scheduled change came due: record the feed's next one and, when `due` says the
    content changed (the newest publish time it now shows), move the version to it;
    once, whoever gets here first."""
    values: dict[str, Any] = {"next_change_at": next_change_at, "moved_at": now}
    if due is not None:
        values |= {"version": feed_versions.c.version + 1, "changed_at": max(seen.changed_at, due)}
    conn.execute(
        update(feed_versions)
        .where(
            feed_versions.c.key == key.storage_key,
            feed_versions.c.version == seen.version,
        )
        .values(**values)
    )


def redefine(conn: Connection, keys: Iterable[FeedKey], now: datetime) -> None:
    """A feed's definition changed (created again, new rule, deleted): move its version.

    Rows are never deleted: a version that started again at 1 could match a render
    cached for an earlier feed of the same name. The next read also recomputes when
    the feed next changes by itself, since scheduled articles it now holds may differ.
    """
    keys = list(keys)
    _bump(conn, keys, now, next_change_at=now)
    archive_moves.add_feeds(conn, keys, now)


def restamp(conn: Connection, since: datetime, now: datetime) -> None:
    """Date `now` every row moved at or after `since`: a long transaction (an import)
    calls it just before it commits, so the publisher, which reads the rows moved since
    its last round less a minute, finds the rows it moved early on."""
    conn.execute(
        update(feed_versions)
        .where(feed_versions.c.moved_at >= since, feed_versions.c.moved_at < now)
        .values(moved_at=now)
    )


def bump_all(conn: Connection, now: datetime) -> None:
    """Every feed changed (a section renamed shows in every feed's categories)."""
    conn.execute(update(feed_versions).values(**_moved(now)))
    archive_moves.add(conn, [(archive_moves.EVERY, archive_moves.EVERY, now)])


def all_versions(conn: Connection) -> dict[FeedKey, int]:
    """Every feed that has been read, with its version (for WebSub announcements)."""
    rows = conn.execute(select(feed_versions.c.key, feed_versions.c.version)).all()
    return {parse_key(row.key): row.version for row in rows}


def due(conn: Connection, now: datetime) -> list[FeedKey]:
    """Feeds whose next change by time alone (a scheduled article) has come."""
    rows = conn.execute(
        select(feed_versions.c.key).where(feed_versions.c.next_change_at <= now)
    ).all()
    return [parse_key(row.key) for row in rows]


def parse_key(storage_key: str) -> FeedKey:
    kind, _, value = storage_key.partition(":")
    return FeedKey(FeedKind(kind), value)


Versions = dict[FeedKey, tuple[int, datetime | None]]

_ROW = select(feed_versions.c.key, feed_versions.c.version, feed_versions.c.next_change_at)


def _read(conn: Connection, statement: Any, parameters: dict[str, Any] | None = None) -> Versions:
    rows = conn.execute(statement, parameters or {}).all()
    return {parse_key(key): (version, next_change) for key, version, next_change in rows}


def snapshot(conn: Connection) -> Versions:
    """Every feed's version and next change by time alone (the publisher compares them
    with what it published)."""
    return _read(conn, _ROW)


# Built once: the publisher runs them every few seconds. Each is a range of one index.
_MOVED = _ROW.where(feed_versions.c.moved_at >= bindparam("since"))
_DUE = _ROW.where(feed_versions.c.next_change_at <= bindparam("now"))
_OF = _ROW.where(feed_versions.c.key.in_(bindparam("keys", expanding=True)))
# Two subqueries, not one select of two aggregates: SQLite answers a lone min() or max()
# from the end of an index, but scans the table for two in one select.
_MARKS = select(
    select(func.max(feed_versions.c.moved_at)).scalar_subquery(),
    select(func.min(feed_versions.c.next_change_at)).scalar_subquery(),
)


def moved_since(conn: Connection, since: datetime, now: datetime) -> Versions:
    """The rows moved (or created) at or after `since`, and those whose next change by
    time alone has come by `now`: what can differ from a snapshot taken before `since`."""
    return _read(conn, _MOVED, {"since": since}) | _read(conn, _DUE, {"now": now})


def of(conn: Connection, keys: Iterable[FeedKey]) -> Versions:
    """The rows of these feeds (those that have one)."""
    storage_keys = _storage_keys(keys)
    return _read(conn, _OF, {"keys": storage_keys}) if storage_keys else {}


def marks(conn: Connection) -> tuple[datetime | None, datetime | None]:
    """(latest moved_at, soonest next change): while the first is before the publisher's
    last read (less its margin) and the second is ahead, no row moved. Two index ends."""
    row = conn.execute(_MARKS).one()
    return row[0], row[1]
