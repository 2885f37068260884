"""The queries behind every feed: visible articles matching a FeedQuery, newest first.

A feed is read by walking an index from a starting point in (published_at, id) order
and stopping once the page is full: the articles' `ix_articles_feed` for everything,
`ix_articles_section_feed` for a section, `ix_articles_author_feed` for an author, and
the hashtag link's `ix_article_hashtags_tag_feed` for a hashtag (the link carries its
article's status, publish time, sponsored flag and section, and the index holds them,
so a walk reads no rows). A tag-feed rule walks each hashtag it is driven by (or each of
its sections); what the walk cannot see (another hashtag required or refused) is checked
for a chunk of rows at a time by primary-key lookups, and the walks are merged here. So no statement
scans a growing table or sorts what it reads, and a page costs the same on a million
articles as on ten thousand. Only trending sorts: the articles of its window, by the
views `ix_articles_feed` holds (the ranking reads no rows).

Articles are loaded by id once the page is known; nothing here aggregates a whole feed.
"""

from __future__ import annotations

import functools
import heapq
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, bindparam, func, literal, select, tuple_
from sqlalchemy.sql.elements import BindParameter

from feeds.models import Article, FeedQuery, Status, TagRule
from feeds.store import articles as article_store
from feeds.store.schema import article_hashtags, articles, hashtags

PUBLISHED = Status.PUBLISHED.value
# A feed's newest change is looked for among this many of its newest items: more than
# any page a feed serves, and never a scan of the whole feed.
NEWEST_CHANGE_DEPTH = 200
# When a rule is driven by one of its all_of hashtags, the rarest drives, judged from
# each tag's SIZE_PROBE newest links only, so that choosing costs the same on any store
# (counting up to a thousand read more on a big store than on a small one).
SIZE_PROBE = 64
# Rows read per statement by a walk whose rows are checked: the first chunk, and the
# most a chunk grows to while the checks refuse rows.
FIRST_CHECKED_CHUNK = 32
LARGEST_CHUNK = 1000

Cursor = tuple[datetime, int]
_link = article_hashtags


@dataclass(frozen=True)
class _Walk:
    """One index walk: rows of one table in (published_at, id) order.

    `conditions` are answered by the index; the rest is checked a chunk at a time: the
    row's section (read from the index), and hashtags each article must carry or not.
    """

    published: Any
    ident: Any
    conditions: tuple[Any, ...]
    section: Any = None
    sections: frozenset[str] = frozenset()
    required: frozenset[int] = frozenset()
    refused: frozenset[int] = frozenset()

    @property
    def checked(self) -> bool:
        return bool(self.sections or self.required or self.refused)


def _article_walk(spec: FeedQuery, *conditions: Any, refused: Iterable[int] = ()) -> _Walk:
    where = [articles.c.status == spec.status.value, *conditions]
    if not spec.include_sponsored:
        where.append(articles.c.sponsored.is_(False))
    if spec.published_after is not None:
        where.append(articles.c.published_at >= spec.published_after)
    if spec.by_views:
        # A ranking by views holds only what has been read.
        where.append(articles.c.views > 0)
    return _Walk(articles.c.published_at, articles.c.id, tuple(where), refused=frozenset(refused))


def _tag_walk(
    spec: FeedQuery,
    tag_id: int,
    *,
    sections: Iterable[str] = (),
    required: Iterable[int] = (),
    refused: Iterable[int] = (),
) -> _Walk:
    where = [_link.c.hashtag_id == tag_id, _link.c.status == spec.status.value]
    if not spec.include_sponsored:
        where.append(_link.c.sponsored.is_(False))
    return _Walk(
        _link.c.published_at,
        _link.c.article_id,
        tuple(where),
        section=_link.c.section,
        sections=frozenset(sections),
        required=frozenset(required) - {tag_id},
        refused=frozenset(refused),
    )


def _tag_ids(conn: Connection, keys: Iterable[str]) -> dict[str, int]:
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    rows = conn.execute(select(hashtags.c.key, hashtags.c.id).where(hashtags.c.key.in_(wanted)))
    return {key: tag_id for key, tag_id in rows}


def _smallest(conn: Connection, tag_ids: Sequence[int]) -> int:
    """The rarest tag, from each one's SIZE_PROBE newest published links: one with fewer
    links than that, the fewest; otherwise the one whose SIZE_PROBE-th newest link is the
    oldest, the fewest per unit of time, which is what a walk from the present meets."""
    if len(tag_ids) == 1:
        return tag_ids[0]

    def rarity(tag_id: int) -> tuple[bool, int, datetime]:
        probe = (
            select(_link.c.published_at)
            .where(_link.c.hashtag_id == tag_id, _link.c.status == PUBLISHED)
            .order_by(_link.c.published_at.desc())
            .limit(SIZE_PROBE)
        )
        dates = list(conn.execute(probe).scalars())
        oldest = dates[-1] if dates else datetime.min.replace(tzinfo=UTC)
        return len(dates) == SIZE_PROBE, len(dates), oldest

    return min(tag_ids, key=rarity)


def _rule_walks(conn: Connection, spec: FeedQuery, rule: TagRule) -> list[_Walk]:
    ids = _tag_ids(conn, (*rule.any_of, *rule.all_of, *rule.none_of))
    if any(key not in ids for key in rule.all_of):
        return []  # a required tag nobody has used: the feed is empty
    required = list(dict.fromkeys(ids[key] for key in rule.all_of))
    refused = [ids[key] for key in rule.none_of if key in ids]
    if rule.any_of:
        drivers = list(dict.fromkeys(ids[key] for key in rule.any_of if key in ids))
    elif required:
        drivers = [_smallest(conn, required)]
    else:
        return [
            _article_walk(spec, articles.c.section == section, refused=refused)
            for section in dict.fromkeys(rule.sections)
        ]
    return [
        _tag_walk(spec, driver, sections=rule.sections, required=required, refused=refused)
        for driver in drivers
    ]


def _walks(conn: Connection, spec: FeedQuery) -> list[_Walk]:
    """The index walks whose merged rows are the feed."""
    if spec.rule is not None:
        return _rule_walks(conn, spec, spec.rule)
    if spec.tag is not None:
        tag_id = _tag_ids(conn, [spec.tag]).get(spec.tag)
        return [] if tag_id is None else [_tag_walk(spec, tag_id)]
    narrowed = _narrowed(spec)
    if narrowed is not None:
        column, value = narrowed
        return [_article_walk(spec, articles.c[column] == value)]
    return [_article_walk(spec)]


def _narrowed(spec: FeedQuery) -> tuple[str, str] | None:
    """The articles column and value a section's or an author's feed walks by."""
    if spec.section is not None:
        return "section", spec.section
    if spec.author is not None:
        return "author_slug", spec.author
    return None


def _keyset_chunk(
    conn: Connection,
    walk: _Walk,
    bounds: Sequence[ColumnElement[bool]],
    after: Cursor | None,
    size: int,
    *,
    ascending: bool,
) -> list[Any]:
    """The next `size` rows of the walk within `bounds` past `after`, in (published_at,
    id) order: oldest first when `ascending`, newest first otherwise."""
    columns = [walk.published, walk.ident]
    if walk.sections:
        columns.append(walk.section)
    where, order = _keyset(walk, bounds, after, ascending=ascending)
    return list(conn.execute(select(*columns).where(*where).order_by(*order).limit(size)))


def _bound(value: Any, type_: Any) -> Any:
    """A cursor's value in a statement: as given when it is a bound parameter already
    (a statement built once), otherwise a literal of the column's type."""
    return value if isinstance(value, BindParameter) else literal(value, type_)


def _keyset(
    walk: _Walk,
    bounds: Sequence[ColumnElement[bool]],
    after: Cursor | tuple[Any, Any] | None,
    *,
    ascending: bool,
) -> tuple[list[Any], tuple[Any, ...]]:
    """The conditions and the order of the walk's rows within `bounds` past `after`."""
    where = [*walk.conditions, *bounds]
    if after is not None:
        published, ident = after
        bound = tuple_(
            published
            if isinstance(published, BindParameter)
            else literal(published, walk.published.type),
            ident if isinstance(ident, BindParameter) else literal(ident, walk.ident.type),
        )
        row = tuple_(walk.published, walk.ident)
        where.append(row > bound if ascending else row < bound)
    if ascending:
        return where, (walk.published, walk.ident)
    return where, (walk.published.desc(), walk.ident.desc())


def _walked(
    conn: Connection,
    walk: _Walk,
    read: Callable[[Cursor | None, int], list[Any]],
    after: Cursor | None,
    size: int,
    largest: int,
) -> Iterator[Cursor]:
    """The rows `read` gives that pass the walk's checks, a chunk at a time as the caller
    asks for more: each chunk starts past the last row of the one before, and the size
    doubles (up to `largest`) while chunks come back full."""
    while True:
        rows = read(after, size)
        yield from _passing(conn, walk, rows)
        if len(rows) < size:
            return
        after = (rows[-1][0], rows[-1][1])
        size = min(size * 2, max(largest, size))


def _passing(conn: Connection, walk: _Walk, rows: list[Any]) -> list[Cursor]:
    """The rows whose articles pass the checks the index cannot answer."""
    if walk.sections:
        rows = [row for row in rows if row[2] in walk.sections]
    found = [(row[0], row[1]) for row in rows]
    tags = walk.required | walk.refused
    if not (tags and found):
        return found
    carried: dict[int, set[int]] = {}
    probe = select(_link.c.article_id, _link.c.hashtag_id).where(
        _link.c.article_id.in_([ident for _, ident in found]),
        _link.c.hashtag_id.in_(sorted(tags)),
    )
    for article_id, tag_id in conn.execute(probe):
        carried.setdefault(article_id, set()).add(tag_id)
    return [
        (published, ident)
        for published, ident in found
        if walk.required <= carried.get(ident, set())
        and not walk.refused & carried.get(ident, set())
    ]


def _rows(
    conn: Connection,
    walk: _Walk,
    now: datetime,
    want: int,
    cursor: Cursor | None = None,
    *,
    ahead: bool = False,
) -> Iterator[Cursor]:
    """The walk's articles in order: newest first up to `now`, or, `ahead`, oldest first
    after `now` (scheduled articles)."""

    def read(after: Cursor | None, size: int) -> list[Any]:
        if ahead:
            return _keyset_chunk(conn, walk, [walk.published > now], after, size, ascending=True)
        # The walk starts at the cursor's time (a range on one column, which both
        # planners take as the index bound), or now.
        start = walk.published <= (min(now, after[0]) if after else now)
        return _keyset_chunk(conn, walk, [start], after, size, ascending=False)

    size = max(want, FIRST_CHECKED_CHUNK) if walk.checked else want
    return _walked(conn, walk, read, cursor, size, max(LARGEST_CHUNK, want))


def _newest_ids(
    conn: Connection,
    spec: FeedQuery,
    now: datetime,
    limit: int,
    before: Cursor | None,
    walks: list[_Walk],
) -> list[int]:
    streams = [_rows(conn, walk, now, limit, before) for walk in walks]
    # An article reached by two walks (two any_of tags) counts once.
    seen: set[int] = set()
    ids: list[int] = []
    for _published, ident in heapq.merge(*streams, reverse=True):
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


def ranking_moves(
    conn: Connection,
    spec: FeedQuery,
    now: datetime,
    article_id: int,
    views: tuple[int, int],
    depth: int,
    margin: timedelta,
) -> bool:
    """Whether one article's views going from *views[0]* to *views[1]* can change the
    first *depth* places of the ranking *spec* gives. It cannot when no other article
    of the window has views between the two (ties count as between), or when *depth*
    others outrank it either way; an article entering or leaving the ranking (0 views)
    changes it only within those places. The window may start up to *margin* earlier
    (it is pinned to a refresh bucket): "between" looks that far back, "outrank" not.
    """
    own = (articles.c.published_at <= now, articles.c.id != article_id)
    conditions = (*_article_walk(spec).conditions, *own)
    low, high = sorted(views)
    if low > 0:
        assert spec.published_after is not None
        wide = replace(spec, published_after=spec.published_after - margin)
        between = select(articles.c.id).where(
            *_article_walk(wide).conditions, *own, articles.c.views >= low, articles.c.views <= high
        )
        if conn.execute(between.limit(1)).first() is None:
            return False
    above = select(articles.c.id).where(*conditions, articles.c.views > high).limit(depth)
    return len(conn.execute(above).all()) < depth


def visible(
    conn: Connection,
    spec: FeedQuery,
    now: datetime,
    limit: int,
    before: Cursor | None = None,
) -> list[Article]:
    """Newest first; `before` (published_at, id) continues a page where the last ended."""
    if spec.by_views:
        if spec.published_after is None:
            raise ValueError("a ranking by views needs a window (published_after)")
        ids = _ranked_ids(conn, spec, now, limit)
        return article_store.by_ids(conn, ids)
    if spec.rule is None and spec.tag is None and spec.published_after is None:
        # One walk of the articles table that the index answers alone (all, a section, an
        # author): its rows are the page, read with their columns in the same statement.
        narrowed = _narrowed(spec)
        column = narrowed[0] if narrowed else None
        query = _article_page(spec.status, column, spec.include_sponsored, before is not None)
        values: dict[str, Any] = {"start": min(now, before[0]) if before else now, "limit": limit}
        if narrowed is not None:
            values["value"] = narrowed[1]
        if before is not None:
            values["before_at"], values["before_id"] = before
        return article_store.load(conn, query, values)
    return article_store.by_ids(
        conn, _newest_ids(conn, spec, now, limit, before, _walks(conn, spec))
    )


@functools.cache
def _article_page(
    status: Status, column: str | None, include_sponsored: bool, paged: bool
) -> Select[Any]:
    """The statement of a one-walk page (all, a section when `column` is "section", an
    author when it is "author_slug"), built once per shape with its values bound at
    execution: building and keying a statement costs a page more than running it."""
    published = articles.c.published_at
    conditions = [published <= bindparam("start", type_=published.type)]
    if column is not None:
        conditions.append(articles.c[column] == bindparam("value"))
    walk = _article_walk(FeedQuery(status=status, include_sponsored=include_sponsored), *conditions)
    after: tuple[Any, Any] | None = None
    if paged:
        after = (bindparam("before_at", type_=published.type), bindparam("before_id"))
    where, order = _keyset(walk, [], after, ascending=False)
    return article_store.page_query(where, order)


def next_pending(conn: Connection, spec: FeedQuery, now: datetime) -> datetime | None:
    """When the next scheduled article of this feed comes due, if any."""
    firsts = (next(_rows(conn, walk, now, 1, ahead=True), None) for walk in _walks(conn, spec))
    return min((first[0] for first in firsts if first is not None), default=None)


def newest_published(conn: Connection, spec: FeedQuery, now: datetime) -> datetime | None:
    """The publish time of the feed's newest visible item (the first step of its walks)."""
    firsts = (next(_rows(conn, walk, now, 1), None) for walk in _walks(conn, spec))
    return max((first[0] for first in firsts if first is not None), default=None)


def newest_change(conn: Connection, spec: FeedQuery, now: datetime) -> datetime | None:
    """The newest `updated_at` among the feed's newest NEWEST_CHANGE_DEPTH visible items."""
    ids = _newest_ids(conn, spec, now, NEWEST_CHANGE_DEPTH, None, _walks(conn, spec))
    if not ids:
        return None
    value: datetime | None = conn.execute(
        select(func.max(articles.c.updated_at)).where(articles.c.id.in_(ids))
    ).scalar_one()
    return value


def author_name(conn: Connection, slug: str, now: datetime, include_sponsored: bool) -> str | None:
    """The byline of the author's newest article that is visible, else of one that was
    withdrawn, or None when there is none: the feed exists once a story of theirs has
    been seen, and a withdrawal does not take it away from readers' subscriptions.
    Without `include_sponsored`, a byline seen only on sponsored articles (a sponsor's)
    has no feed."""
    for status in (PUBLISHED, Status.WITHDRAWN.value):
        # One status at a time, in the index's order: each probe is the first step of
        # an author feed's walk, never a scan for any matching row.
        where = [
            articles.c.author_slug == slug,
            articles.c.status == status,
            articles.c.published_at <= now,
        ]
        if not include_sponsored:
            where.append(articles.c.sponsored.is_(False))
        found = conn.execute(
            select(articles.c.author)
            .where(*where)
            .order_by(articles.c.published_at.desc(), articles.c.id.desc())
            .limit(1)
        ).first()
        if found is not None:
            return str(found.author)
    return None


def authors_in_use(
    conn: Connection, now: datetime, include_sponsored: bool
) -> list[tuple[str, str, int]]:
    """(slug, byline, visible articles) of every newsroom author with a visible article,
    read from the author feed index; for the feed directory."""
    where = [
        articles.c.author_slug.is_not(None),
        articles.c.status == PUBLISHED,
        articles.c.published_at <= now,
    ]
    if not include_sponsored:
        where.append(articles.c.sponsored.is_(False))
    query = (
        select(articles.c.author_slug, func.min(articles.c.author), func.count())
        .where(*where)
        .group_by(articles.c.author_slug)
        .order_by(articles.c.author_slug)
    )
    return [(slug, name, n) for slug, name, n in conn.execute(query)]


def feed_facts(
    conn: Connection, now: datetime, include_sponsored: bool
) -> dict[tuple[str, str], tuple[int, datetime | None]]:
    """(kind, value) -> (visible items, newest publish time) for the everything, section,
    hashtag and author feeds: four grouped queries, however many feeds there are."""
    visible_now = [articles.c.status == PUBLISHED, articles.c.published_at <= now]
    unsponsored = [] if include_sponsored else [articles.c.sponsored.is_(False)]
    newest = func.max(articles.c.published_at)
    facts: dict[tuple[str, str], tuple[int, datetime | None]] = {}
    total, latest = conn.execute(select(func.count(), newest).where(*visible_now)).one()
    facts[("all", "")] = (total, latest)
    by_section = (
        select(articles.c.section, func.count(), newest)
        .where(*visible_now, *unsponsored)
        .group_by(articles.c.section)
    )
    facts.update({("section", s): (n, at) for s, n, at in conn.execute(by_section)})
    by_author = (
        select(articles.c.author_slug, func.count(), newest)
        .where(articles.c.author_slug.is_not(None), *visible_now, *unsponsored)
        .group_by(articles.c.author_slug)
    )
    facts.update({("author", a): (n, at) for a, n, at in conn.execute(by_author)})
    links = article_hashtags.c
    by_tag = (
        select(hashtags.c.key, func.count(), func.max(links.published_at))
        .join(article_hashtags, links.hashtag_id == hashtags.c.id)
        .where(links.status == PUBLISHED, links.published_at <= now)
        .group_by(hashtags.c.key)
    )
    if not include_sponsored:
        by_tag = by_tag.where(links.sponsored.is_(False))
    facts.update({("tag", k): (n, at) for k, n, at in conn.execute(by_tag)})
    return facts
