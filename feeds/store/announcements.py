"""What the outside WebSub hub was told about each feed (table websub_announcements)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, exists, func, literal, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from feeds.models import HubAnnouncement
from feeds.store.schema import feed_versions
from feeds.store.schema import websub_announcements as told
from feeds.store.versions import parse_key


def move_to(conn: Connection, hub: str) -> int:
    """Rows announced to another hub start over for `hub` from their feed's present
    version, as if first seen: the new hub was told nothing, and what changed before
    it was configured is not a change to it. Rows that name no hub (kept from before
    hubs were recorded) are taken as `hub`'s as they are. Returns the rows started over.

    Each statement locks its rows in key order (the subquery's FOR UPDATE on PostgreSQL),
    so two schedulers doing this at once wait for each other instead of deadlocking."""
    adopted = select(told.c.feed).where(told.c.hub.is_(None))
    conn.execute(update(told).where(told.c.feed.in_(_locked(adopted))).values(hub=hub))
    present = (
        select(feed_versions.c.version).where(feed_versions.c.key == told.c.feed).scalar_subquery()
    )
    other = select(told.c.feed).where(told.c.hub != hub)
    result = conn.execute(
        update(told)
        .where(told.c.feed.in_(_locked(other)))
        .values(
            hub=hub,
            version=func.coalesce(present, told.c.version),
            announced_at=None,
            failures=0,
            pinging_until=None,
            next_attempt_at=None,
        )
    )
    return int(result.rowcount or 0)


def _locked(feeds: Any) -> Any:
    return feeds.order_by(told.c.feed).with_for_update()


def take_present(conn: Connection, hub: str) -> int:
    """Feeds the hub was told nothing about yet take their present version as
    announced: a feed first seen is not a change. One statement, and a row another
    process added meanwhile is kept, so two schedulers doing this at once is fine."""
    insert_for = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    unknown = (
        select(feed_versions.c.key, feed_versions.c.version, literal(0), literal(hub))
        # The WHERE also keeps SQLite from reading ON CONFLICT as a join's ON.
        .where(~exists().where(told.c.feed == feed_versions.c.key))
        # In key order: two processes inserting the same keys at once wait for each
        # other in one order, never each for the other (a deadlock on PostgreSQL).
        .order_by(feed_versions.c.key)
    )
    result = conn.execute(
        insert_for(told)
        .from_select(["feed", "version", "failures", "hub"], unknown)
        .on_conflict_do_nothing(index_elements=["feed"])
    )
    return int(result.rowcount or 0)


def _unclaimed(now: datetime) -> Any:
    return or_(told.c.pinging_until.is_(None), told.c.pinging_until <= now)


def _ready(now: datetime) -> Any:
    """No process pings for the row (or its claim ran out) and its backoff is over."""
    waited = or_(told.c.next_attempt_at.is_(None), told.c.next_attempt_at <= now)
    return and_(_unclaimed(now), waited)


def behind(conn: Connection, hub: str, now: datetime) -> list[HubAnnouncement]:
    """Feeds whose version moved past what `hub` accepted and that are due a ping: no
    process is pinging about them (or its claim ran out) and no backoff holds them
    back, in key order."""
    return _behind(conn, hub, _ready(now))


def waiting(conn: Connection, hub: str) -> list[HubAnnouncement]:
    """Every feed whose version moved past what `hub` accepted, due a ping or not."""
    return _behind(conn, hub, true())


def _behind(conn: Connection, hub: str, condition: Any) -> list[HubAnnouncement]:
    rows = conn.execute(
        select(told, feed_versions.c.version.label("now"))
        .join(feed_versions, feed_versions.c.key == told.c.feed)
        .where(feed_versions.c.version != told.c.version, told.c.hub == hub, condition)
        .order_by(told.c.feed)
    )
    return [
        HubAnnouncement(
            feed=parse_key(row.feed),
            announced=row.version,
            version=row.now,
            failures=row.failures,
            next_attempt_at=row.next_attempt_at,
        )
        for row in rows
    ]


def claim(
    conn: Connection, change: HubAnnouncement, hub: str, now: datetime, until: datetime
) -> bool:
    """Take the ping for `change` to `hub` until `until`, unless another process took
    it, or announced or failed it since `change` was read (or the row started over for
    another hub): a conditional UPDATE, so of two schedulers that read the same row one
    wins (the row lock on PostgreSQL, the database lock on SQLite) and the other's
    statement matches nothing."""
    result = conn.execute(
        update(told)
        .where(
            told.c.feed == change.feed.storage_key,
            told.c.version == change.announced,
            told.c.failures == change.failures,
            told.c.hub == hub,
            _ready(now),
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
        .values(
            version=change.version,
            announced_at=now,
            failures=0,
            pinging_until=None,
            next_attempt_at=None,
        )
    )


def failed(conn: Connection, change: HubAnnouncement, until: datetime, retry_at: datetime) -> None:
    """The ping did not get through: the claim ends, and the next ping waits for
    `retry_at` (whichever process sends it)."""
    conn.execute(
        update(told)
        .where(_held(change, until))
        .values(failures=told.c.failures + 1, pinging_until=None, next_attempt_at=retry_at)
    )


@dataclass(frozen=True)
class Told:
    """One row as stored: what `hub` last accepted and the state of the next ping."""

    version: int
    failures: int
    pinging_until: datetime | None
    next_attempt_at: datetime | None
    hub: str | None


def all_announcements(conn: Connection) -> dict[str, Told]:
    """Every feed's row, by storage key."""
    rows = conn.execute(select(told).order_by(told.c.feed))
    return {
        row.feed: Told(row.version, row.failures, row.pinging_until, row.next_attempt_at, row.hub)
        for row in rows
    }
