"""Our WebSub subscriptions as a subscriber, one per source (table source_push)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, case, delete, insert, or_, select, update

from feeds.models import SourcePush
from feeds.store.schema import source_push as push
from feeds.store.schema import sources


def _row(row: Any) -> SourcePush:
    return SourcePush(**dict(row._mapping))


def get(conn: Connection, source_id: int) -> SourcePush | None:
    row = conn.execute(select(push).where(push.c.source_id == source_id)).first()
    return None if row is None else _row(row)


def by_token(conn: Connection, token: str) -> SourcePush | None:
    row = conn.execute(select(push).where(push.c.token == token)).first()
    return None if row is None else _row(row)


def add(conn: Connection, **values: Any) -> None:
    conn.execute(insert(push).values(**values))


def change(conn: Connection, source_id: int, **values: Any) -> None:
    conn.execute(update(push).where(push.c.source_id == source_id).values(**values))


def change_read(conn: Connection, read: SourcePush, **values: Any) -> None:
    """Change the subscription `read` was read from; nothing when the source's hub was
    found anew since (`discover` started it over with a new token and secret)."""
    conn.execute(
        update(push)
        .where(push.c.source_id == read.source_id, push.c.token == read.token)
        .values(**values)
    )


def requested(conn: Connection, read: SourcePush, state: str, **values: Any) -> None:
    """Write the outcome of asking `read`'s hub; `state` only if the hub has not verified
    the subscription meanwhile (a hub may verify before its answer reaches us: the
    callback then made it active, and `verified_at` moved since `read`)."""
    unverified = push.c.verified_at.is_not_distinct_from(read.verified_at)
    change_read(conn, read, state=case((unverified, state), else_=push.c.state), **values)


def count(
    conn: Connection, read: SourcePush, counter: Literal["pushes", "refused"], **values: Any
) -> None:
    """Add one to `counter` in the statement, not from `read`'s figure: deliveries that
    two web processes take at once each count."""
    change_read(conn, read, **{counter: push.c[counter] + 1}, **values)


def claim(conn: Connection, current: SourcePush, now: datetime, until: datetime) -> bool:
    """Take the request to `current`'s hub until `until`, unless another process took
    it, or asked, was answered or rediscovered the hub since `current` was read: a
    conditional UPDATE, so of two schedulers that read the same row one wins (the row
    lock on PostgreSQL, the database lock on SQLite) and the other's matches nothing."""
    result = conn.execute(
        update(push)
        .where(
            push.c.source_id == current.source_id,
            push.c.token == current.token,
            push.c.state == current.state,
            push.c.failures == current.failures,
            push.c.requested_at.is_not_distinct_from(current.requested_at),
            push.c.verified_at.is_not_distinct_from(current.verified_at),
            or_(push.c.requesting_until.is_(None), push.c.requesting_until <= now),
        )
        .values(requesting_until=until)
    )
    return result.rowcount == 1


def lapse(conn: Connection, source_id: int, now: datetime, error: str) -> bool:
    """Mark an active subscription whose lease ended as lapsed; False when it is not
    (another process marked it, or the hub renewed it since it was read)."""
    result = conn.execute(
        update(push)
        .where(push.c.source_id == source_id, push.c.state == "active", push.c.expires_at <= now)
        .values(state="lapsed", error=error)
    )
    return result.rowcount == 1


def remove(conn: Connection, source_id: int) -> None:
    conn.execute(delete(push).where(push.c.source_id == source_id))


def of_enabled_sources(conn: Connection) -> list[SourcePush]:
    """Every subscription whose source is enabled (the scheduler's work list)."""
    rows = conn.execute(
        select(push)
        .join(sources, sources.c.id == push.c.source_id)
        .where(sources.c.enabled.is_(True))
        .order_by(push.c.source_id)
    )
    return [_row(row) for row in rows]


def live_ids(conn: Connection, now: datetime) -> set[int]:
    """Sources whose pushes are expected now (verified, lease not ended)."""
    rows = conn.execute(
        select(push.c.source_id).where(push.c.state == "active", push.c.expires_at > now)
    )
    return set(rows.scalars())


def all_pushes(conn: Connection) -> dict[int, SourcePush]:
    return {row.source_id: _row(row) for row in conn.execute(select(push))}


def discover(
    conn: Connection, source_id: int, hubs: tuple[str, ...], topic: str, fresh: dict[str, str]
) -> None:
    """Record what a parsed document says about WebSub, in the refresh's transaction.

    A new hub (or topic) starts over at `discovered` with the `fresh` token and secret;
    the same hub changes nothing. A document that names no hub any more drops a
    subscription that is not active; an active one runs until its lease ends.
    """
    current = get(conn, source_id)
    if not hubs:
        if current is not None and current.state != "active":
            remove(conn, source_id)
        return
    hub = hubs[0]
    if current is None:
        add(conn, source_id=source_id, hub=hub, topic=topic, state="discovered", **fresh)
    elif current.hub not in hubs or current.topic != topic:
        change(
            conn, source_id, hub=hub, topic=topic, state="discovered", expires_at=None,
            failures=0, error=None, next_attempt_at=None, requesting_until=None, **fresh,
        )  # fmt: skip
