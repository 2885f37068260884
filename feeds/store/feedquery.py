"""The queries behind every feed: visible articles matching a FeedQuery, newest first.

A page of a feed is one walk of one index from a starting point, in (published_at, id)
order, stopped after the page: the articles' (status, published_at, id) for everything,
(section, status, published_at, id) for a section, and the hashtag link's (hashtag_id,
status, published_at, article_id) for a hashtag (the link carries the article's status,
publish time, section and sponsored flag for this). A tag-feed rule walks each hashtag it
is driven by (or each of its sections) and the pages are merged here, so no query sorts
all of a feed's matches and a page costs the same on a million articles as on ten
thousand. Only trending sorts, and only the articles published within its window.

Articles are loaded by id once the page is known; nothing here counts or aggregates a
whole feed.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, exists, func, literal, not_, select, tuple_

from feeds.models import Article, FeedQuery, Status, TagRule
from feeds.store import articles as article_store
from feeds.store.schema import article_hashtags, articles, hashtags

PUBLISHED = Status.PUBLISHED.value
# A feed's newest change is looked for among this many of its newest items: more than
# any page a feed serves, and never a scan of the whole feed.
NEWEST_CHANGE_DEPTH = 200
# When a rule is driven by one of its all_of hashtags, the one with the fewest articles
# drives; each is counted only this far, so choosing costs the same on any store.
SIZE_PROBE = 1000

_link = article_hashtags
_other = article_hashtags.alias("other_link")


@dataclass(frozen=True)
class _Walk:
    """One index walk: rows of one table in (published_at, id) order, filtered."""

    published: Any
    ident: Any
    conditions: tuple[Any, ...]


def _article_walk(spec: FeedQuery, *conditions: Any) -> _Walk:
    where = [articles.c.status == PUBLISHED, *conditions]
    if not spec.include_sponsored:
        where.append(articles.c.sponsored.is_(False))
    if spec.published_after is not None:
        where.append(articles.c.published_at >= spec.published_after)
    if spec.by_views:
        # A ranking by views holds only what has been read.
        where.append(articles.c.views > 0)
    return _Walk(articles.c.published_at, articles.c.id, tuple(where))


def _tag_walk(spec: FeedQuery, tag_id: int, *conditions: Any) -> _Walk:
    where = [_link.c.hashtag_id == tag_id, _link.c.status == PUBLISHED, *conditions]
    if not spec.include_sponsored:
        where.append(_link.c.sponsored.is_(False))
    return _Walk(_link.c.published_at, _link.c.article_id, tuple(where))


def _tag_ids(conn: Connection, keys: Iterable[str]) -> dict[str, int]:
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    rows = conn.execute(select(hashtags.c.key, hashtags.c.id).where(hashtags.c.key.in_(wanted)))
    return {key: tag_id for key, tag_id in rows}


def _smallest(conn: Connection, tag_ids: Sequence[int]) -> int:
    """The tag with the fewest visible-status links, counted up to SIZE_PROBE each."""
    if len(tag_ids) == 1:
        return tag_ids[0]

    def size(tag_id: int) -> int:
        probe = (
            select(_link.c.article_id)
            .where(_link.c.hashtag_id == tag_id, _link.c.status == PUBLISHED)
            .limit(SIZE_PROBE)
            .subquery()
        )
        return int(conn.execute(select(func.count()).select_from(probe)).scalar_one())

    return min(tag_ids, key=size)


def _rule_walks(conn: Connection, spec: FeedQuery, rule: TagRule) -> list[_Walk]:
    ids = _tag_ids(conn, (*rule.any_of, *rule.all_of, *rule.none_of))
    if any(key not in ids for key in rule.all_of):
        return []  # a required tag nobody has used: the feed is empty
    required = list(dict.fromkeys(ids[key] for key in rule.all_of))
    refused = sorted({ids[key] for key in rule.none_of if key in ids})
    if rule.any_of:
        drivers = list(dict.fromkeys(ids[key] for key in rule.any_of if key in ids))
    elif required:
        drivers = [_smallest(conn, required)]
    else:
        # Sections only: one walk per section, each refusing the none_of tags.
        refuse = []
        if refused:
            refuse.append(
                not_(
                    exists().where(
                        _link.c.article_id == articles.c.id, _link.c.hashtag_id.in_(refused)
                    )
                )
            )
        return [
            _article_walk(spec, articles.c.section == section, *refuse)
            for section in dict.fromkeys(rule.sections)
        ]
    walks = []
    for driver in drivers:
        # Every other condition is a probe of the link's primary key for this article.
        conditions: list[Any] = [
            exists().where(_other.c.article_id == _link.c.article_id, _other.c.hashtag_id == tag)
            for tag in required
            if tag != driver
        ]
        if refused:
            conditions.append(
                not_(
                    exists().where(
                        _other.c.article_id == _link.c.article_id,
                        _other.c.hashtag_id.in_(refused),
                    )
                )
            )
        if rule.sections:
            conditions.append(_link.c.section.in_(sorted(set(rule.sections))))
        walks.append(_tag_walk(spec, driver, *conditions))
    return walks


def _walks(conn: Connection, spec: FeedQuery) -> list[_Walk]:
    """The index walks whose merged pages are the feed."""
    if spec.rule is not None:
        return _rule_walks(conn, spec, spec.rule)
    if spec.tag is not None:
        tag_id = _tag_ids(conn, [spec.tag]).get(spec.tag)
        return [] if tag_id is None else [_tag_walk(spec, tag_id)]
    if spec.section is not None:
        return [_article_walk(spec, articles.c.section == spec.section)]
    return [_article_walk(spec)]


def _page(
    conn: Connection,
    walk: _Walk,
    now: datetime,
    limit: int,
    before: tuple[datetime, int] | None,
) -> list[tuple[datetime, int]]:
    query = select(walk.published, walk.ident).where(*walk.conditions, walk.published <= now)
    if before is not None:
        # A row-value bound, so the cursor starts the index walk rather than filtering it.
        published, ident = before
        bound = tuple_(literal(published, walk.published.type), literal(ident, walk.ident.type))
        query = query.where(tuple_(walk.published, walk.ident) < bound)
    query = query.order_by(walk.published.desc(), walk.ident.desc()).limit(limit)
    return [(published, ident) for published, ident in conn.execute(query)]


def _newest_ids(
    conn: Connection,
    spec: FeedQuery,
    now: datetime,
    limit: int,
    before: tuple[datetime, int] | None,
) -> list[int]:
    pages = [_page(conn, walk, now, limit, before) for walk in _walks(conn, spec)]
    # Each page holds its walk's newest `limit`, so the merged newest `limit` are among
    # them; an article reached by two walks (two any_of tags) counts once.
    seen: set[int] = set()
    ids: list[int] = []
    for _published, ident in heapq.merge(*pages, reverse=True):
        if ident not in seen:
            seen.add(ident)
            ids.append(ident)
            if len(ids) == limit:
                break
    return ids


def _ranked_ids(conn: Connection, spec: FeedQuery, now: datetime, limit: int) -> list[int]:
    """Trending: the window's articles by views (a sort of the window, not of the store)."""
    walk = _article_walk(spec)
    query = (
        select(articles.c.id)
        .where(*walk.conditions, articles.c.published_at <= now)
        .order_by(articles.c.views.desc(), articles.c.published_at.desc(), articles.c.id.desc())
        .limit(limit)
    )
    return list(conn.execute(query).scalars())


def visible(
    conn: Connection,
    spec: FeedQuery,
    now: datetime,
    limit: int,
    before: tuple[datetime, int] | None = None,
) -> list[Article]:
    """Newest first; `before` (published_at, id) continues a page where the last ended."""
    if spec.by_views:
        if spec.published_after is None:
            raise ValueError("a ranking by views needs a window (published_after)")
        ids = _ranked_ids(conn, spec, now, limit)
    else:
        ids = _newest_ids(conn, spec, now, limit, before)
    return article_store.by_ids(conn, ids)


def next_pending(conn: Connection, spec: FeedQuery, now: datetime) -> datetime | None:
    """When the next scheduled article of this feed comes due, if any."""
    found = []
    for walk in _walks(conn, spec):
        first = conn.execute(
            select(walk.published)
            .where(*walk.conditions, walk.published > now)
            .order_by(walk.published.asc())
            .limit(1)
        ).scalar_one_or_none()
        if first is not None:
            found.append(first)
    return min(found, default=None)


def newest_change(conn: Connection, spec: FeedQuery, now: datetime) -> datetime | None:
    """The newest `updated_at` among the feed's newest NEWEST_CHANGE_DEPTH visible items."""
    ids = _newest_ids(conn, spec, now, NEWEST_CHANGE_DEPTH, None)
    if not ids:
        return None
    value: datetime | None = conn.execute(
        select(func.max(articles.c.updated_at)).where(articles.c.id.in_(ids))
    ).scalar_one()
    return value
