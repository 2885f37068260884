"""The one query behind every feed: visible articles matching a FeedQuery."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, and_, func, not_, or_, select

from feeds.models import Article, FeedQuery, Status
from feeds.store import articles as article_store
from feeds.store.schema import articles


def _conditions(spec: FeedQuery) -> list[Any]:
    conditions: list[Any] = [articles.c.status == Status.PUBLISHED.value]
    if spec.section is not None:
        conditions.append(articles.c.section == spec.section)
    if spec.tag is not None:
        conditions.append(article_store.has_tag(spec.tag))
    rule = spec.rule
    if rule is not None:
        if rule.any_of:
            conditions.append(article_store.has_any_tag(rule.any_of))
        conditions.extend(article_store.has_tag(key) for key in rule.all_of)
        if rule.none_of:
            conditions.append(not_(article_store.has_any_tag(rule.none_of)))
        if rule.sections:
            conditions.append(articles.c.section.in_(list(rule.sections)))
    if not spec.include_sponsored:
        conditions.append(articles.c.sponsored.is_(False))
    if spec.published_after is not None:
        conditions.append(articles.c.published_at >= spec.published_after)
    if spec.by_views:
        # A ranking by views holds only what has been read.
        conditions.append(articles.c.views > 0)
    return conditions


def visible(
    conn: Connection,
    spec: FeedQuery,
    now: datetime,
    limit: int,
    before: tuple[datetime, int] | None = None,
) -> list[Article]:
    """Newest first; `before` (published_at, id) continues a page where the last ended."""
    query: Select[Any] = article_store._select().where(
        *_conditions(spec), articles.c.published_at <= now
    )
    if before is not None:
        published, article_id = before
        query = query.where(
            or_(
                articles.c.published_at < published,
                and_(articles.c.published_at == published, articles.c.id < article_id),
            )
        )
    if spec.by_views:
        query = query.order_by(articles.c.views.desc(), articles.c.published_at.desc())
    else:
        query = query.order_by(articles.c.published_at.desc(), articles.c.id.desc())
    return article_store.load(conn, query.limit(limit))


def next_pending(conn: Connection, spec: FeedQuery, now: datetime) -> datetime | None:
    """When the next scheduled article of this feed comes due, if any."""
    value: datetime | None = conn.execute(
        select(func.min(articles.c.published_at)).where(
            and_(*_conditions(spec), articles.c.published_at > now)
        )
    ).scalar_one_or_none()
    return value


def newest_change(conn: Connection, spec: FeedQuery, now: datetime) -> datetime | None:
    value: datetime | None = conn.execute(
        select(func.max(articles.c.updated_at)).where(
            and_(*_conditions(spec), articles.c.published_at <= now)
        )
    ).scalar_one_or_none()
    return value
