"""Feed queries bounded by time: the articles of one archive month and its neighbours.

Archives (RFC 5005) split a feed by calendar month. Every statement here is a range on
the same indexes the feeds walk (`published_at` after the leading equality columns), so
a month costs what it holds, never what the store holds; the neighbouring months are
found by reading one row on either side of the range.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from feeds.models import Article, FeedQuery, Status
from feeds.store import articles as article_store
from feeds.store.feedquery import (
    FIRST_CHECKED_CHUNK,
    Cursor,
    _keyset_chunk,
    _Walk,
    _walked,
    _walks,
)
from feeds.store.schema import articles

CHUNK = 500
# Statement parameters per `IN` list: well under SQLite's limit.
IDS_PER_STATEMENT = 500
ARTICLES_PER_LOAD = 50


def _range(
    conn: Connection,
    walk: _Walk,
    low: datetime | None,
    high: datetime,
    *,
    ascending: bool,
    size: int = CHUNK,
) -> Iterator[Cursor]:
    """The walk's articles with low <= published_at < high, in the walk's direction,
    read `size` rows first (growing while more are asked for)."""
    bounds = [walk.published < high]
    if low is not None:
        bounds.append(walk.published >= low)

    def read(after: Cursor | None, size: int) -> list[Any]:
        return _keyset_chunk(conn, walk, bounds, after, size, ascending=ascending)

    return _walked(conn, walk, read, None, size, CHUNK)


@dataclass(frozen=True)
class MonthWalks:
    """A feed's index walks (its tag ids, the rarest tag an all_of rule walks), read once
    and shared by every month of the feed: for the published articles, and for the
    withdrawn ones a month's Last-Modified counts."""

    published: tuple[_Walk, ...]
    withdrawn: tuple[_Walk, ...]


def walks(conn: Connection, spec: FeedQuery) -> MonthWalks:
    """What every month query of the feed walks (two to four small reads)."""
    return MonthWalks(
        tuple(_walks(conn, replace(spec, status=Status.PUBLISHED))),
        tuple(_walks(conn, replace(spec, status=Status.WITHDRAWN))),
    )


Feed = FeedQuery | MonthWalks  # a feed's query, or its walks read once


def _published(conn: Connection, feed: Feed) -> tuple[_Walk, ...]:
    return feed.published if isinstance(feed, MonthWalks) else tuple(_walks(conn, feed))


def _merged(
    conn: Connection,
    feed: Feed | tuple[_Walk, ...],
    low: datetime | None,
    high: datetime,
    *,
    ascending: bool,
    first: bool = False,
) -> Iterator[Cursor]:
    """The walks' articles merged in order; `first` when only the first one is wanted
    (a neighbour): each walk reads one row at first instead of a chunk, or a few when
    its rows are checked."""
    found = feed if isinstance(feed, tuple) else _published(conn, feed)
    streams = [
        _range(
            conn, walk, low, high, ascending=ascending, size=_first_size(walk) if first else CHUNK
        )
        for walk in found
    ]
    seen: set[int] = set()
    for cursor in heapq.merge(*streams, reverse=not ascending):
        if cursor[1] not in seen:  # an article reached by two walks counts once
            seen.add(cursor[1])
            yield cursor


def _first_size(walk: _Walk) -> int:
    return FIRST_CHECKED_CHUNK if walk.checked else 1


def between(conn: Connection, feed: Feed, low: datetime, high: datetime) -> list[Article]:
    """The feed's articles with low <= published_at < high, newest first."""
    ids = [ident for _, ident in _merged(conn, feed, low, high, ascending=False)]
    # Loaded a feed page's worth at a time: a long id list makes a planner read the
    # hashtags table whole instead of probing its key.
    found: list[Article] = []
    for start in range(0, len(ids), ARTICLES_PER_LOAD):
        found.extend(article_store.by_ids(conn, ids[start : start + ARTICLES_PER_LOAD]))
    return found


def newest_before(conn: Connection, feed: Feed, high: datetime) -> datetime | None:
    """The publish time of the feed's newest article before `high`."""
    first = next(_merged(conn, feed, None, high, ascending=False, first=True), None)
    return None if first is None else first[0]


def oldest_from(conn: Connection, feed: Feed, low: datetime, high: datetime) -> datetime | None:
    """The publish time of the feed's oldest article in [low, high)."""
    first = next(_merged(conn, feed, low, high, ascending=True, first=True), None)
    return None if first is None else first[0]


def last_change(conn: Connection, feed: Feed, low: datetime, high: datetime) -> datetime | None:
    """The newest `updated_at` among the range's articles, withdrawn ones included.

    A withdrawal stamps `updated_at`, so taking the article out of a month moves the
    month's Last-Modified forward instead of back to the next newest article.
    """
    both = feed if isinstance(feed, MonthWalks) else walks(conn, feed)
    ids = [
        ident
        for found in (both.published, both.withdrawn)
        for _, ident in _merged(conn, found, low, high, ascending=False)
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
