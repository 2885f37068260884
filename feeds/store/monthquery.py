"""Feed queries bounded by time: the articles of one archive month and its neighbours.

Archives (RFC 5005) split a feed by calendar month. Every statement here is a range on
the same indexes the feeds walk (`published_at` after the leading equality columns), so
a month costs what it holds, never what the store holds; the neighbouring months are
found by reading one row on either side of the range.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from feeds.models import Article, FeedQuery, Status
from feeds.store import articles as article_store
from feeds.store.feedquery import Cursor, _keyset_chunk, _Walk, _walked, _walks
from feeds.store.schema import articles

CHUNK = 500
# Statement parameters per `IN` list: well under SQLite's limit.
IDS_PER_STATEMENT = 500
ARTICLES_PER_LOAD = 50


def _range(
    conn: Connection, walk: _Walk, low: datetime | None, high: datetime, *, ascending: bool
) -> Iterator[Cursor]:
    """The walk's articles with low <= published_at < high, in the walk's direction."""
    bounds = [walk.published < high]
    if low is not None:
        bounds.append(walk.published >= low)

    def read(after: Cursor | None, size: int) -> list[Any]:
        return _keyset_chunk(conn, walk, bounds, after, size, ascending=ascending)

    return _walked(conn, walk, read, None, CHUNK, CHUNK)


def _merged(
    conn: Connection, spec: FeedQuery, low: datetime | None, high: datetime, *, ascending: bool
) -> Iterator[Cursor]:
    streams = [_range(conn, walk, low, high, ascending=ascending) for walk in _walks(conn, spec)]
    seen: set[int] = set()
    for cursor in heapq.merge(*streams, reverse=not ascending):
        if cursor[1] not in seen:  # an article reached by two walks counts once
            seen.add(cursor[1])
            yield cursor


def between(conn: Connection, spec: FeedQuery, low: datetime, high: datetime) -> list[Article]:
    """The feed's articles with low <= published_at < high, newest first."""
    ids = [ident for _, ident in _merged(conn, spec, low, high, ascending=False)]
    # Loaded a feed page's worth at a time: a long id list makes a planner read the
    # hashtags table whole instead of probing its key.
    found: list[Article] = []
    for start in range(0, len(ids), ARTICLES_PER_LOAD):
        found.extend(article_store.by_ids(conn, ids[start : start + ARTICLES_PER_LOAD]))
    return found


def newest_before(conn: Connection, spec: FeedQuery, high: datetime) -> datetime | None:
    """The publish time of the feed's newest article before `high`."""
    first = next(_merged(conn, spec, None, high, ascending=False), None)
    return None if first is None else first[0]


def oldest_from(
    conn: Connection, spec: FeedQuery, low: datetime, high: datetime
) -> datetime | None:
    """The publish time of the feed's oldest article in [low, high)."""
    first = next(_merged(conn, spec, low, high, ascending=True), None)
    return None if first is None else first[0]


def last_change(
    conn: Connection, spec: FeedQuery, low: datetime, high: datetime
) -> datetime | None:
    """The newest `updated_at` among the range's articles, withdrawn ones included.

    A withdrawal stamps `updated_at`, so taking the article out of a month moves the
    month's Last-Modified forward instead of back to the next newest article.
    """
    ids = [
        ident
        for status in (Status.PUBLISHED, Status.WITHDRAWN)
        for _, ident in _merged(conn, replace(spec, status=status), low, high, ascending=False)
    ]
    newest: datetime | None = None
    for start in range(0, len(ids), IDS_PER_STATEMENT):
        batch = ids[start : start + IDS_PER_STATEMENT]
        value = conn.execute(
            select(func.max(articles.c.updated_at)).where(articles.c.id.in_(batch))
        ).scalar_one()
        if value is not None and (newest is None or value > newest):
            newest = value
    return newest
