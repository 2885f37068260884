"""A refresh writes its new articles in bulk: one INSERT per table, however many entries,
with slugs that stay unique against the store and within the refresh itself."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import event, select

from feeds.ingest import plan as plan_module
from feeds.models import ArticleFilter
from feeds.service import Service
from feeds.store.schema import articles
from tests.ingest_helpers import (
    Entry,
    add_source,
    ingest_app_fixture,  # noqa: F401 (the `app` fixture)
    rss,
)

ENTRIES = 120


def serve(httpserver: HTTPServer, body: bytes) -> str:
    httpserver.clear()
    httpserver.expect_request("/wire.xml").respond_with_data(
        body, content_type="application/rss+xml"
    )
    return httpserver.url_for("/wire.xml")


@pytest.fixture
def statements(service: Service) -> Iterator[list[str]]:
    """Every statement the store's engine sends, as the driver sees it."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split()))

    engine = service.ctx.store.engine
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def same_slugs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every entry wants the same slug: the first gets it, the others the unique last resort."""
    monkeypatch.setattr(
        plan_module,
        "slug_candidates",
        lambda _title, _identity, unique: ("story", f"story-{unique}"),
    )


def test_a_first_fetch_inserts_articles_and_links_with_one_statement_each(
    service: Service, httpserver: HTTPServer, statements: list[str]
) -> None:
    entries = [
        Entry(f"s-{n}", f"Story {n}", categories=("Port", f"Berth {n}")) for n in range(ENTRIES)
    ]
    source_id = add_source(
        service, serve(httpserver, rss(entries)), hashtags=["Wire"], max_items=1000
    )
    statements.clear()
    outcome = service.sources.refresh(source_id)
    assert outcome.new == ENTRIES

    def inserts_into(table: str) -> int:
        return sum(s.upper().startswith(f"INSERT INTO {table.upper()} ") for s in statements)

    assert inserts_into("articles") == 1
    assert inserts_into("article_hashtags") == 1
    assert inserts_into("hashtags") == 1
    stored = service.articles.list(ArticleFilter(limit=ENTRIES))
    assert len(stored) == ENTRIES
    by_title = {a.title: a for a in stored}
    assert [t.display for t in by_title["Story 7"].hashtags] == ["Wire", "Port", "Berth7"]


def test_a_first_fetch_asks_the_store_about_each_new_articles_first_slug_only(
    service: Service, httpserver: HTTPServer, statements: list[str]
) -> None:
    entries = [Entry(f"s-{n}", f"Story {n}") for n in range(ENTRIES)]
    source_id = add_source(service, serve(httpserver, rss(entries)), max_items=1000)
    statements.clear()
    assert service.sources.refresh(source_id).new == ENTRIES
    asked = [s for s in statements if s.upper().startswith("SELECT ARTICLES.SLUG ")]
    # One parameter per new article (SQLite's "?" or psycopg's "%(name)s").
    assert [s.count("?") + s.count("%(") for s in asked] == [ENTRIES]


@pytest.mark.usefixtures("same_slugs")
def test_slugs_stay_unique_within_a_refresh_and_against_the_store(
    service: Service, httpserver: HTTPServer
) -> None:
    source_id = add_source(
        service, serve(httpserver, rss([Entry(f"u-{n}", "Same") for n in range(3)]))
    )
    assert service.sources.refresh(source_id).new == 3
    serve(httpserver, rss([Entry(f"v-{n}", "Same") for n in range(2)]))
    assert service.sources.refresh(source_id).new == 2

    slugs = [a.slug for a in service.articles.list(ArticleFilter())]
    assert len(slugs) == len(set(slugs)) == 5
    assert slugs.count("story") == 1


@pytest.mark.usefixtures("same_slugs")
def test_entries_without_a_link_keep_a_copy_made_against_the_page_of_the_slug_they_got(
    service: Service, httpserver: HTTPServer
) -> None:
    items = "".join(
        f"<item><guid isPermaLink='false'>n-{n}</guid><title>Same</title>"
        f"<description>&lt;p&gt;&lt;a href='/desk/{n}'&gt;desk&lt;/a&gt;&lt;/p&gt;"
        "</description></item>"
        for n in range(3)
    )
    body = (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Wire</title>"
        f"<link>https://wire.example.com/</link>{items}</channel></rss>"
    ).encode()
    assert service.sources.refresh(add_source(service, serve(httpserver, body))).new == 3
    with service.ctx.store.read() as conn:
        rows = conn.execute(
            select(
                articles.c.slug,
                articles.c.url,
                articles.c.content_html,
                articles.c.feed_base,
                articles.c.feed_content,
            )
        ).all()
    root = service.ctx.settings.public_root
    assert len(rows) == 3 and len({row.slug for row in rows}) == 3
    for row in rows:
        assert row.url is None
        assert row.feed_base == f"{root}articles/{row.slug}"
        # Resolved against the document's address when it was sanitised, the content is
        # the copy as it is.
        assert row.feed_content == row.content_html
        assert f'href="{httpserver.url_for("/desk/")}' in row.feed_content
