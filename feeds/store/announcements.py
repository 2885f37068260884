"""What the outside WebSub hub was told about each feed (table websub_announcements)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, exists, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from feeds.models import HubAnnouncement
from feeds.store.schema import feed_versions
from feeds.store.schema import websub_announcements as told
from feeds.store.versions import parse_key


def take_present(conn: Connection) -> int:
    """Feeds the hub was told nothing about yet take their present version as
    announced: a feed first seen is not a change. One statement, and a row another
    process added meanwhile is kept, so two schedulers doing this at once is fine."""
    insert_for = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    unknown = (
        select(feed_versions.c.key, feed_versions.c.version, literal(0))
        # The WHERE also keeps SQLite from reading ON CONFLICT as a join's ON.
        .where(~exists().where(told.c.feed == feed_versions.c.key))
        # In key order: two processes inserting the same keys at once wait for each
        # other in one order, never each for the other (a deadlock on PostgreSQL).
        .order_by(feed_versions.c.key)
    )
    result = conn.execute(
        insert_for(told)
        .from_select(["feed", "version", "failures"], unknown)
        .on_conflict_do_nothing(index_elements=["feed"])
    )
    return int(result.rowcount or 0)


def _unclaimed(now: datetime) -> Any:
    return or_(told.c.pinging_until.is_(None), told.c.pinging_until <= now)


def behind(conn: Connection, now: datetime) -> list[HubAnnouncement]:
    """Feeds whose version moved past what the hub accepted and that no process is
    pinging about (or whose pinger's claim ran out), in key order."""
    rows = conn.execute(
        select(told.c.feed, told.c.version, told.c.failures, feed_versions.c.version.label("now"))
        .join(feed_versions, feed_versions.c.key == told.c.feed)
        .where(feed_versions.c.version != told.c.version, _unclaimed(now))
        .order_by(told.c.feed)
    )
    return [
        HubAnnouncement(
            feed=parse_key(row.feed), announced=row.version, version=row.now, failures=row.failures
        )
        for row in rows
    ]


def claim(conn: Connection, change: HubAnnouncement, now: datetime, until: datetime) -> bool:
    """Take the ping for `change` until `until`, unless another process took it, or
    announced or failed it since `change` was read: a conditional UPDATE, so of two
    schedulers that read the same row one wins (the row lock on PostgreSQL, the
    database lock on SQLite) and the other's statement matches nothing."""
    result = conn.execute(
        update(told)
        .where(
            told.c.feed == change.feed.storage_key,
            told.c.version == change.announced,
            told.c.failures == change.failures,
            _unclaimed(now),
        )
        .values(pinging_until=until)
    )
    return result.rowcount == 1


def _held(change: HubAnnouncement, until: datetime) -> Any:
    """The row as `claim` left it: a process that took over a claim run out decides."""
    return (
        (told.c.feed == change.feed.storage_key)
        & (told.c.version == change.announced)
        & (told.c.pinging_until == until)
    )


def announced(conn: Connection, change: HubAnnouncement, until: datetime, now: datetime) -> None:
    """The hub accepted `change.version`: the claim ends and the failures are forgotten."""
    conn.execute(
        update(told)
        .where(_held(change, until))
        .values(version=change.version, announced_at=now, failures=0, pinging_until=None)
    )


def failed(conn: Connection, change: HubAnnouncement, until: datetime) -> None:
    """The ping did not get through: the claim ends, so the next round pings again."""
    conn.execute(
        update(told)
        .where(_held(change, until))
        .values(failures=told.c.failures + 1, pinging_until=None)
    )


def all_announcements(conn: Connection) -> dict[str, tuple[int, int, datetime | None]]:
    """Every feed's (version announced, failures, claim end), by storage key."""
    rows = conn.execute(select(told).order_by(told.c.feed))
    return {row.feed: (row.version, row.failures, row.pinging_until) for row in rows}
