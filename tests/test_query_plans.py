"""Feed queries cost the same on any store: read from the databases' own query plans.

A store of 20,000 generated articles (five years, hot, long-tail and rare hashtags;
PostgreSQL's statistics gathered by ANALYZE) is big enough for both planners to choose
as they do on a million. Every statement the feed queries send for each kind of feed is
explained (SQLite `EXPLAIN QUERY PLAN`, PostgreSQL `EXPLAIN (FORMAT JSON)`): none may
scan a growing table whole or sort what it reads (trending alone sorts, the articles of
its window), and the only indexes read are the feed indexes and primary keys. No clock
is read.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from feeds.service import Service
from tests import plans
from tests.conftest import FakeClock, make_app
from tests.stores import fresh_database

ARTICLES = 20_000

# Walks start from these; everything else is a primary-key or unique-key probe.
FEED_INDEXES = {
    "ix_articles_feed",
    "ix_articles_section_feed",
    "ix_articles_author_feed",
    "ix_article_hashtags_tag_feed",
}
KEYS = {
    # SQLite: the rowid, and the automatic indexes of primary and unique keys
    "PRIMARY KEY", "sqlite_autoindex_article_hashtags_1", "sqlite_autoindex_hashtags_1",
    "sqlite_autoindex_tag_feeds_1", "sqlite_autoindex_feed_versions_1",
    # PostgreSQL: the same constraints by name
    "pk_articles", "pk_article_hashtags", "pk_hashtags", "uq_hashtags_key",
    "uq_tag_feeds_slug", "pk_feed_versions", "pk_sources",
    "ix_feed_versions_next_change_at", "ix_feed_versions_moved_at",
}  # fmt: skip


@pytest.fixture(scope="module")
def big(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Service, list[plans.Statement]]]:
    with fresh_database(tmp_path_factory.mktemp("plans")) as url:
        app = make_app(url, FakeClock(datetime.now(UTC).replace(microsecond=0)))
        svc: Service = app.extensions["feeds"]
        report = svc.demo.generate(ARTICLES, seed=1)
        yield svc, plans.issued(svc, report.examples)
        svc.ctx.store.dispose()


def test_every_kind_of_feed_query_is_explained(
    big: tuple[Service, list[plans.Statement]],
) -> None:
    _svc, issued = big
    cases = {statement.case for statement in issued}
    assert cases == {
        "all", "section", "author", "hot tag", "long-tail tag", "rare tag",
        "tag feed any/all/sections", "tag feed any/none", "tag feed all/none",
        "tag feed sections/none", "trending", "all, deep page", "hot tag, deep page",
        "all, archive month", "hot tag, archive month", "versions", "publish round",
        "trending, views change", "undated fallback dates",
    }  # fmt: skip


def test_no_feed_query_scans_or_sorts_what_grows(
    big: tuple[Service, list[plans.Statement]],
) -> None:
    svc, issued = big
    found: dict[str, list[str]] = {}
    with svc.ctx.store.read() as conn:
        for statement in issued:
            problems = plans.problems(conn, statement)
            if problems:
                found.setdefault(f"{statement.case}: {statement.sql[:100]}", []).extend(problems)
    assert found == {}


def test_trending_ranks_its_window_from_the_index_alone(
    big: tuple[Service, list[plans.Statement]],
) -> None:
    """Trending sorts the articles of its window by views: the window is a range of the
    feed index, and the views are in its entries, so the ranking reads no article row
    however many articles a day the store publishes."""
    svc, issued = big
    ranking = [s for s in issued if s.case == "trending" and "ORDER BY articles.views" in s.sql]
    assert len(ranking) == 1
    with svc.ctx.store.read() as conn:
        assert plans.alone(conn, ranking[0]) == {"ix_articles_feed": True}


# The index each feed's walk must start from.
WALKS = {
    "all": "ix_articles_feed",
    "all, deep page": "ix_articles_feed",
    "trending": "ix_articles_feed",
    "trending, views change": "ix_articles_feed",
    "undated fallback dates": "ix_articles_feed",
    "section": "ix_articles_section_feed",
    "author": "ix_articles_author_feed",
    "tag feed sections/none": "ix_articles_section_feed",
    "hot tag": "ix_article_hashtags_tag_feed",
    "hot tag, deep page": "ix_article_hashtags_tag_feed",
    "all, archive month": "ix_articles_feed",
    "hot tag, archive month": "ix_article_hashtags_tag_feed",
    "long-tail tag": "ix_article_hashtags_tag_feed",
    "rare tag": "ix_article_hashtags_tag_feed",
    "tag feed any/all/sections": "ix_article_hashtags_tag_feed",
    "tag feed any/none": "ix_article_hashtags_tag_feed",
    "tag feed all/none": "ix_article_hashtags_tag_feed",
    # A round reads the version rows moved since the last, not every feed's.
    "publish round": "ix_feed_versions_moved_at",
}
ARTICLE_KEYS = {"PRIMARY KEY", "pk_articles"}


def test_walks_start_at_the_feed_indexes(big: tuple[Service, list[plans.Statement]]) -> None:
    svc, issued = big
    used: dict[str, set[tuple[str, str]]] = {}
    with svc.ctx.store.read() as conn:
        for statement in issued:
            used.setdefault(statement.case, set()).update(plans.indexes(conn, statement))
    names = {case: {name for _table, name in pairs} for case, pairs in used.items()}
    other = {case: found - FEED_INDEXES - KEYS for case, found in names.items()}
    assert {case: found for case, found in other.items() if found} == {}
    assert {case for case, index in WALKS.items() if index not in names[case]} == set()
    # A hashtag's feed never walks the articles: it reads them by id once the page is known.
    tag_cases = [case for case, index in WALKS.items() if index == "ix_article_hashtags_tag_feed"]
    read = {case: {n for table, n in used[case] if table == "articles"} for case in tag_cases}
    assert {case: found for case, found in read.items() if found - ARTICLE_KEYS} == {}
