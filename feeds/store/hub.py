"""The built-in WebSub hub's subscriptions (table websub_subscriptions)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, or_, select, update

from feeds.models import FeedFormat, FeedKey, HubSubscription
from feeds.store.schema import websub_subscriptions as subs
from feeds.store.versions import parse_key


def _row(row: Any) -> HubSubscription:
    values = dict(row._mapping)
    values["feed"] = parse_key(values["feed"])
    values["format"] = FeedFormat(values["format"])
    return HubSubscription(**values)


def get(conn: Connection, topic: str, callback: str) -> HubSubscription | None:
    row = conn.execute(
        select(subs).where(subs.c.topic == topic, subs.c.callback == callback)
    ).first()
    return None if row is None else _row(row)


def count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(subs)).scalar_one())


def add_intent(
    conn: Connection,
    topic: str,
    callback: str,
    key: FeedKey,
    fmt: FeedFormat,
    intent: dict[str, Any],
    now: datetime,
) -> None:
    """A new row holding only an intent (not yet a subscription)."""
    conn.execute(
        insert(subs).values(
            topic=topic, callback=callback, feed=key.storage_key, format=fmt.value,
            active=False, lease_seconds=intent["pending_lease"] or 0, created_at=now,
            **intent,
        )
    )  # fmt: skip


def change(conn: Connection, subscription_id: int, **values: Any) -> None:
    conn.execute(update(subs).where(subs.c.id == subscription_id).values(**values))


def claim(conn: Connection, sub: HubSubscription, now: datetime, until: datetime) -> bool:
    """Take one delivery of `sub` until `until`, unless another process took it or
    delivered it since `sub` was read: a conditional UPDATE, so of two schedulers that
    read the same row, one wins (the row lock on PostgreSQL, the database lock on
    SQLite) and the other's statement matches nothing."""
    due = or_(subs.c.next_attempt_at.is_(None), subs.c.next_attempt_at <= now)
    result = conn.execute(
        update(subs)
        .where(
            subs.c.id == sub.id,
            subs.c.active.is_(True),
            subs.c.delivered_version.is_not_distinct_from(sub.delivered_version),
            subs.c.failures == sub.failures,
            due,
        )
        .values(next_attempt_at=until)
    )
    return result.rowcount == 1


def remove(conn: Connection, subscription_id: int) -> None:
    conn.execute(delete(subs).where(subs.c.id == subscription_id))


def pending(conn: Connection, limit: int, now: datetime) -> list[HubSubscription]:
    """Intents waiting for verification that no process has taken (or whose taker's
    claim ran out)."""
    rows = conn.execute(
        select(subs)
        .where(subs.c.pending_mode.is_not(None), _unclaimed(now))
        .order_by(subs.c.id)
        .limit(limit)
    )
    return [_row(row) for row in rows]


def _unclaimed(now: datetime) -> Any:
    return or_(subs.c.verifying_until.is_(None), subs.c.verifying_until <= now)


def claim_verification(
    conn: Connection, sub: HubSubscription, now: datetime, until: datetime
) -> bool:
    """Take the verification of `sub`'s pending intent until `until`, unless another
    process took it, settled it or the subscriber asked again since `sub` was read (a
    conditional UPDATE, as `claim`: of two schedulers one wins)."""
    result = conn.execute(
        update(subs)
        .where(
            subs.c.id == sub.id,
            subs.c.pending_mode == sub.pending_mode,
            subs.c.pending_at.is_not_distinct_from(sub.pending_at),
            _unclaimed(now),
        )
        .values(verifying_until=until)
    )
    return result.rowcount == 1


def live(conn: Connection, now: datetime) -> list[HubSubscription]:
    """Active subscriptions whose lease has not ended."""
    rows = conn.execute(
        select(subs).where(subs.c.active.is_(True), subs.c.expires_at > now).order_by(subs.c.id)
    )
    return [_row(row) for row in rows]


def expire(conn: Connection, now: datetime, stale_before: datetime) -> int:
    """Drop subscriptions whose lease ended, and failed intents older than `stale_before`."""
    result = conn.execute(
        delete(subs).where(
            or_(
                subs.c.expires_at <= now,
                (subs.c.active.is_(False))
                & subs.c.pending_mode.is_(None)
                & (subs.c.pending_at < stale_before),
            )
        )
    )
    return int(result.rowcount or 0)


def all_subscriptions(conn: Connection) -> list[HubSubscription]:
    return [_row(row) for row in conn.execute(select(subs).order_by(subs.c.topic, subs.c.id))]
