"""Every feed query as the service issues it, and the database's plan for each.

`issued()` runs the store's feed queries for each kind of feed, with the query the
service builds for that feed (`query_for`), and records every statement and its
parameters on their way to the driver. `plan()` asks the database how it would run one:
SQLite's `EXPLAIN QUERY PLAN` lines, PostgreSQL's `EXPLAIN (FORMAT JSON)` nodes.
`problems()` names what would make a statement's cost grow with the store.

Used by tests/test_query_plans.py and by bench/plans.py on a real store.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, event

from feeds.models import FeedKey, FeedKind, FeedQuery, TagRule
from feeds.service import Service
from feeds.service.feedkeys import TRENDING, query_for
from feeds.store import feedquery, monthquery
from feeds.store import sources as source_store
from feeds.store import tagfeeds as tagfeed_store
from feeds.store import versions as version_store

# Tables whose size grows with the store: none may be scanned whole.
GROWING = ("articles", "article_hashtags", "other_link", "hashtags", "feed_versions")


@dataclass(frozen=True)
class Statement:
    case: str
    sql: str
    parameters: Any


@contextmanager
def recording(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, sql: str, parameters: Any, *_: Any) -> None:
        seen.append((sql, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _deep_cursor(conn: Connection, spec: FeedQuery, now: datetime) -> tuple[datetime, int]:
    """A page cursor far back in the feed's history (its oldest visible article)."""
    oldest = feedquery.visible(conn, spec, now - timedelta(days=4 * 365), 1)
    assert oldest, "the store needs years of history for a deep page"
    article = oldest[0]
    assert article.id is not None
    return (article.published_at + timedelta(days=30), article.id)


def cases(svc: Service, tags: dict[str, str]) -> dict[str, Any]:
    """Each feed query the service makes, as a function of a connection; `tags` are the
    examples `feeds demo generate` reports (hot, tail and rare hashtags, an author)."""
    settings = svc.settings
    now = svc.now()
    limit = settings.feed_limit + 1  # the service reads one more to know a next page exists

    def feed(key: FeedKey, *, before: bool = False, custom: TagRule | None = None) -> Any:
        def run(conn: Connection) -> None:
            if custom is not None:
                # A rule of the shape given, as query_for builds one from a tag feed.
                spec = FeedQuery(rule=custom, include_sponsored=custom.include_sponsored)
            else:
                is_custom = key.kind is FeedKind.CUSTOM
                tag_feed = tagfeed_store.get(conn, key.value) if is_custom else None
                spec = query_for(key, settings, now, tag_feed)
            cursor = _deep_cursor(conn, spec, now) if before else None
            feedquery.visible(conn, spec, now, limit, cursor)
            if not before:
                feedquery.next_pending(conn, spec, now)
                feedquery.newest_change(conn, spec, now)

        return run

    def author(conn: Connection) -> None:
        # Whether the author's feed exists and its title, besides the walk itself.
        feedquery.author_name(conn, tags["author"], now, settings.include_sponsored)
        feed(FeedKey(FeedKind.AUTHOR, tags["author"]))(conn)

    def archive(key: FeedKey) -> Any:
        """One month a year back, as the archive of the feed reads it (feeds.service.archives)."""

        def run(conn: Connection) -> None:
            spec = query_for(key, settings, now)
            start = datetime(now.year - 1, now.month, 1, tzinfo=UTC)
            end = datetime(now.year - 1 + now.month // 12, now.month % 12 + 1, 1, tzinfo=UTC)
            monthquery.between(conn, spec, start, end)
            monthquery.newest_before(conn, spec, start)
            monthquery.oldest_from(conn, spec, end, now)
            monthquery.last_change(conn, spec, start, end)

        return run

    def views_change(conn: Connection) -> None:
        # Whether a change of views reorders trending (feeds.service.articles.trending_moves).
        spec = query_for(FeedKey(FeedKind.TRENDING), settings, now)
        margin = timedelta(seconds=settings.trending_refresh_seconds)
        feedquery.ranking_moves(conn, spec, now, 1, (3, 300), settings.feed_limit_max, margin)

    def fallback_dates(conn: Connection) -> None:
        # The seconds undated outside entries must step past (feeds.ingest.plan.FallbackDates).
        source_store.shown_seconds(conn, now - timedelta(minutes=5), now)

    def versions(conn: Connection) -> None:
        version_store.get(conn, FeedKey(FeedKind.TAG, tags["rare"]))
        version_store.due(conn, now)

    def publish_round(conn: Connection) -> None:
        # What a round of the publisher reads after its first (feeds.service.publish):
        # whether anything moved, then the rows moved since its last read (here a minute
        # after the load, when nothing has) and those due, and trending's row.
        version_store.marks(conn)
        version_store.moved_since(conn, now + timedelta(minutes=1), now)
        version_store.of(conn, [TRENDING])

    custom = FeedKey(FeedKind.CUSTOM, "")
    return {
        "all": feed(FeedKey(FeedKind.ALL)),
        "section": feed(FeedKey(FeedKind.SECTION, "world")),
        "author": author,
        "hot tag": feed(FeedKey(FeedKind.TAG, tags["hot"])),
        "long-tail tag": feed(FeedKey(FeedKind.TAG, tags["tail"])),
        "rare tag": feed(FeedKey(FeedKind.TAG, tags["rare"])),
        "tag feed any/all/sections": feed(FeedKey(FeedKind.CUSTOM, "green-shipping")),
        "tag feed any/none": feed(FeedKey(FeedKind.CUSTOM, "east-asia")),
        "tag feed all/none": feed(
            custom, custom=TagRule(all_of=("latest", tags["tail"]), none_of=("sponsored",))
        ),
        "tag feed sections/none": feed(
            custom, custom=TagRule(sections=("world", "sport"), none_of=(tags["hot"],))
        ),
        "trending": feed(FeedKey(FeedKind.TRENDING)),
        "all, deep page": feed(FeedKey(FeedKind.ALL), before=True),
        "hot tag, deep page": feed(FeedKey(FeedKind.TAG, tags["hot"]), before=True),
        "all, archive month": archive(FeedKey(FeedKind.ALL)),
        "hot tag, archive month": archive(FeedKey(FeedKind.TAG, tags["hot"])),
        "versions": versions,
        "publish round": publish_round,
        "trending, views change": views_change,
        "undated fallback dates": fallback_dates,
    }


def issued(svc: Service, tags: dict[str, str]) -> list[Statement]:
    found = []
    engine = svc.ctx.store.engine
    for name, run in cases(svc, tags).items():
        with svc.ctx.store.read() as conn, recording(engine) as seen:
            run(conn)
        found.extend(Statement(name, sql, parameters) for sql, parameters in seen)
    return found


def plan(conn: Connection, statement: Statement) -> Any:
    if conn.dialect.name == "postgresql":
        sql = "EXPLAIN (FORMAT JSON) " + statement.sql
        return conn.exec_driver_sql(sql, statement.parameters).scalar_one()[0]["Plan"]
    sql = "EXPLAIN QUERY PLAN " + statement.sql
    return [row[3] for row in conn.exec_driver_sql(sql, statement.parameters)]


def _pg_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from _pg_nodes(child)


def problems(conn: Connection, statement: Statement) -> list[str]:
    """What in the statement's plan grows with the store: whole scans, sorts of what is
    read (trending alone may sort: the articles of its window)."""
    found = []
    may_sort = statement.case == "trending"
    if conn.dialect.name == "postgresql":
        for node in _pg_nodes(plan(conn, statement)):
            kind = node["Node Type"]
            table = node.get("Alias", node.get("Relation Name", ""))
            whole_index = "Index Name" in node and "Index Cond" not in node
            if table in GROWING and (kind == "Seq Scan" or whole_index):
                found.append(f"{kind} of {table} with no bound")
            if kind in ("Sort", "Incremental Sort") and not may_sort:
                found.append(f"{kind} by {', '.join(node.get('Sort Key', []))}")
        return found
    for line in plan(conn, statement):
        words = line.split()
        # SQLite says SCAN for a walk of a whole table or index, SEARCH for a bounded one.
        if words[0] == "SCAN" and words[1] in GROWING:
            found.append(line)
        if "TEMP B-TREE" in line and not may_sort:
            found.append(line)
    return found


def indexes(conn: Connection, statement: Statement) -> set[tuple[str, str]]:
    """(table or alias, index) for every index the plan reads."""
    found = set()
    if conn.dialect.name == "postgresql":
        for node in _pg_nodes(plan(conn, statement)):
            if "Index Name" in node:
                table = node.get("Alias") or node.get("Relation Name") or ""
                found.add((table, node["Index Name"]))
        return found
    for line in plan(conn, statement):
        words = line.split()
        # e.g. SEARCH articles USING [COVERING] INDEX ix_name (status=? AND ...)
        #      SEARCH articles USING INTEGER PRIMARY KEY (rowid=?)
        if words[0] in ("SEARCH", "SCAN") and "USING" in words:
            how = words[words.index("USING") + 1 :]
            name = how[how.index("INDEX") + 1] if "INDEX" in how else "PRIMARY KEY"
            found.add((words[1], name))
    return found


def alone(conn: Connection, statement: Statement) -> dict[str, bool]:
    """Every index the plan reads, and whether it answers from its entries alone (SQLite's
    COVERING INDEX, PostgreSQL's Index Only Scan) or also reads each entry's row."""
    found: dict[str, bool] = {}
    if conn.dialect.name == "postgresql":
        for node in _pg_nodes(plan(conn, statement)):
            if "Index Name" in node:
                found[node["Index Name"]] = node["Node Type"] == "Index Only Scan"
        return found
    for line in plan(conn, statement):
        words = line.split()
        if words[0] in ("SEARCH", "SCAN") and "INDEX" in words:
            found[words[words.index("INDEX") + 1]] = "COVERING" in words
    return found
