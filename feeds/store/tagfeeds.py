"""The tag_feeds table."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update

from feeds.models import TagFeed, TagRule
from feeds.store.schema import tag_feeds


def _from_row(row: Row[Any]) -> TagFeed:
    return TagFeed(
        id=row.id,
        slug=row.slug,
        title=row.title,
        description=row.description,
        rule=TagRule(
            any_of=tuple(row.any_of),
            all_of=tuple(row.all_of),
            none_of=tuple(row.none_of),
            sections=tuple(row.sections),
            include_sponsored=row.include_sponsored,
        ),
        limit=row.item_limit,
        managed_by=row.managed_by,
    )


def _values(feed: TagFeed) -> dict[str, Any]:
    return {
        "slug": feed.slug,
        "title": feed.title,
        "description": feed.description,
        **feed.rule.as_lists(),
        "item_limit": feed.limit,
        "managed_by": feed.managed_by,
    }


def all_feeds(conn: Connection) -> list[TagFeed]:
    return [_from_row(r) for r in conn.execute(select(tag_feeds).order_by(tag_feeds.c.title))]


def get(conn: Connection, slug: str) -> TagFeed | None:
    row = conn.execute(select(tag_feeds).where(tag_feeds.c.slug == slug)).first()
    return _from_row(row) if row else None


def get_by_id(conn: Connection, feed_id: int) -> TagFeed | None:
    row = conn.execute(select(tag_feeds).where(tag_feeds.c.id == feed_id)).first()
    return _from_row(row) if row else None


def insert_feed(conn: Connection, feed: TagFeed) -> TagFeed:
    feed_id = conn.execute(
        insert(tag_feeds).values(**_values(feed)).returning(tag_feeds.c.id)
    ).scalar_one()
    stored = get_by_id(conn, feed_id)
    assert stored is not None
    return stored


def update_feed(conn: Connection, feed_id: int, feed: TagFeed) -> TagFeed:
    conn.execute(update(tag_feeds).where(tag_feeds.c.id == feed_id).values(**_values(feed)))
    stored = get_by_id(conn, feed_id)
    assert stored is not None
    return stored


def delete_feed(conn: Connection, feed_id: int) -> None:
    conn.execute(delete(tag_feeds).where(tag_feeds.c.id == feed_id))
