"""The ingest pipeline against a real local HTTP server: what is written, and what is not."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote
from xml.etree import ElementTree as ET

import pytest
from flask import Flask
from pytest_httpserver import HTTPServer

from feeds.models import ArticleFilter, FeedKey, FeedKind
from feeds.service import Service
from feeds.service.feedkeys import ALL
from tests.conftest import FakeClock
from tests.ingest_helpers import (
    Entry,
    add_source,
    feed_titles,
    hours_ago,
    ingest_app_fixture,  # noqa: F401 (the `app` fixture)
    rss,
    snapshot,
)  # fmt: skip

ENTRIES = [
    Entry("w-1", "Harbour cranes return", categories=("South Korea", "Shipping")),
    Entry("w-2", "서울 시장 선거", categories=("서울",), date=hours_ago(1)),
]


def serve(httpserver: HTTPServer, body: bytes, **headers: str) -> str:
    httpserver.clear()
    httpserver.expect_request("/wire.xml").respond_with_data(
        body, content_type="application/rss+xml", headers=headers
    )
    return httpserver.url_for("/wire.xml")


def test_new_entries_appear_in_section_and_hashtag_feeds(
    app: Flask, service: Service, httpserver: HTTPServer
) -> None:
    source_id = add_source(service, serve(httpserver, rss(ENTRIES)), hashtags=["Wire"])
    outcome = service.sources.refresh(source_id)
    assert (outcome.status, outcome.new, outcome.updated, outcome.error) == ("fetched", 2, 0, None)
    assert outcome.http_status == 200
    client = app.test_client()
    assert set(feed_titles(client, "/feeds/sections/world.atom")) >= {
        "Harbour cranes return",
        "서울 시장 선거",
    }
    assert feed_titles(client, "/feeds/tags/southkorea.rss") == ["Harbour cranes return"]
    assert feed_titles(client, "/feeds/tags/wire.rss") == [
        "서울 시장 선거",
        "Harbour cranes return",
    ]
    assert feed_titles(client, f"/feeds/tags/{quote('서울')}.atom") == ["서울 시장 선거"]
    # The origin is credited: RSS <source url="feed URL">source title</source>.
    item = ET.fromstring(client.get("/feeds/tags/southkorea.rss").data).find("channel/item")
    assert item is not None
    credit = item.find("source")
    assert credit is not None and credit.text == "Test Wire"
    assert credit.get("url") == service.sources.get(source_id).url


def test_ingested_articles_are_published_with_tag_guid_slug_and_origin(
    service: Service, httpserver: HTTPServer
) -> None:
    source_id = add_source(service, serve(httpserver, rss(ENTRIES)))
    service.sources.refresh(source_id)
    found = service.articles.list(ArticleFilter(section="world"))
    assert len(found) == 2
    for article in found:
        assert article.status.value == "published"
        assert article.guid.startswith(f"tag:feeds.example.org,2026:source/{source_id}/")
        assert article.author == "Test Wire"  # no author in the entry: the source's name
        assert article.origin is not None and article.origin.source_id == source_id
        assert article.origin.original_date and article.origin.link
    slugs = {a.title: a.slug for a in found}
    assert slugs["Harbour cranes return"].startswith("harbour-cranes-return-")
    assert slugs["서울 시장 선거"].startswith("article-")  # no Latin letters in the title
    assert len(set(slugs.values())) == 2


def test_reingesting_the_same_document_writes_nothing(
    service: Service, httpserver: HTTPServer
) -> None:
    url = serve(httpserver, rss(ENTRIES))
    source_id = add_source(service, url)
    service.sources.refresh(source_id)
    for key in (ALL, FeedKey(FeedKind.SECTION, "world"), FeedKey(FeedKind.TAG, "southkorea")):
        service.feeds.settle(key)  # a feed never read has no version to move
    before = snapshot(service)
    same = service.sources.refresh(source_id)
    assert (same.status, same.new, same.updated, same.unchanged) == ("unchanged", 0, 0, 2)
    # New bytes (another lastBuildDate), same entries: parsed, compared, nothing written.
    serve(httpserver, rss(ENTRIES, build="Tue, 13 Jan 2026 10:00:00 GMT"))
    reparsed = service.sources.refresh(source_id)
    assert (reparsed.status, reparsed.new, reparsed.updated, reparsed.unchanged) == (
        "fetched", 0, 0, 2,
    )  # fmt: skip
    assert snapshot(service) == before


def test_304_is_not_parsed_and_writes_nothing(service: Service, httpserver: HTTPServer) -> None:
    url = serve(httpserver, rss(ENTRIES), ETag='"v1"')
    source_id = add_source(service, url)
    service.sources.refresh(source_id)
    before = snapshot(service)
    httpserver.clear()
    httpserver.expect_request("/wire.xml", headers={"If-None-Match": '"v1"'}).respond_with_data(
        "", status=304
    )
    outcome = service.sources.refresh(source_id)
    assert (outcome.status, outcome.http_status, outcome.new) == ("not_modified", 304, 0)
    assert snapshot(service) == before
    assert service.sources.get(source_id).state.etag == '"v1"'


def test_a_changed_entry_is_updated_in_place_with_the_same_guid(
    service: Service, httpserver: HTTPServer, clock: FakeClock
) -> None:
    source_id = add_source(service, serve(httpserver, rss(ENTRIES)))
    service.sources.refresh(source_id)
    first = {a.title: a for a in service.articles.list(ArticleFilter())}["Harbour cranes return"]
    clock.advance(minutes=20)
    changed = [Entry("w-1", "Harbour cranes return", body="Now with a correction."), *ENTRIES[1:]]
    serve(httpserver, rss(changed))
    outcome = service.sources.refresh(source_id)
    assert (outcome.new, outcome.updated, outcome.unchanged) == (0, 1, 1)
    again = service.articles.get(first.id or 0)
    assert (again.guid, again.slug) == (first.guid, first.slug)
    assert "correction" in again.content_html
    assert again.updated_at > first.updated_at
    assert len(service.articles.list(ArticleFilter())) == 2


def test_a_failing_fetch_leaves_the_store_unchanged_and_records_the_error(
    service: Service, httpserver: HTTPServer, clock: FakeClock
) -> None:
    source_id = add_source(service, serve(httpserver, rss(ENTRIES)))
    service.sources.refresh(source_id)
    before = snapshot(service)
    httpserver.clear()
    httpserver.expect_request("/wire.xml").respond_with_data("oops", status=500)
    outcome = service.sources.refresh(source_id)
    assert (outcome.status, outcome.http_status) == ("failed", 500)
    assert outcome.error and "500" in outcome.error and "\n" not in outcome.error
    state = service.sources.get(source_id).state
    assert (state.failures, state.last_status, state.last_error) == (1, 500, outcome.error)
    assert state.last_success_at is not None and state.last_fetch_at == clock.now
    assert state.next_check_at is not None and state.next_check_at > clock.now
    assert snapshot(service) == before


def test_an_html_page_is_a_parse_failure(service: Service, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/page").respond_with_data(
        "<!doctype html><html><body>Home</body></html>", content_type="text/html"
    )
    source_id = add_source(service, httpserver.url_for("/page"))
    outcome = service.sources.refresh(source_id)
    assert outcome.status == "failed" and "HTML page" in (outcome.error or "")
    assert service.articles.count() == 0


def test_410_disables_the_source_and_says_so(service: Service, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/gone").respond_with_data("", status=410)
    source_id = add_source(service, httpserver.url_for("/gone"))
    outcome = service.sources.refresh(source_id)
    assert (outcome.status, outcome.http_status) == ("gone", 410)
    source = service.sources.get(source_id)
    assert not source.enabled
    assert "disabled" in (source.state.last_error or "")
    assert source_id not in [s.id for s in service.sources.due()]


def test_retry_after_sets_the_next_check(
    service: Service, httpserver: HTTPServer, clock: FakeClock
) -> None:
    httpserver.expect_request("/busy").respond_with_data(
        "", status=429, headers={"Retry-After": "7200"}
    )
    source_id = add_source(service, httpserver.url_for("/busy"))
    outcome = service.sources.refresh(source_id)
    assert (outcome.status, outcome.http_status) == ("failed", 429)
    assert outcome.next_check_at is not None
    # Retry-After counts from the real clock; the fake one started at the real present.
    wait = outcome.next_check_at - clock.now
    assert timedelta(seconds=7100) < wait < timedelta(seconds=7300)


def test_five_failures_back_off_then_one_success_resets(
    service: Service, httpserver: HTTPServer, clock: FakeClock
) -> None:
    httpserver.expect_request("/flaky").respond_with_data("", status=503)
    source_id = add_source(service, httpserver.url_for("/flaky"))
    waits = []
    for expected in range(1, 6):
        # Scheduled fetches: a fetch by hand would not lengthen the backoff.
        (outcome,) = service.sources.ingest_due()
        assert service.sources.get(source_id).state.failures == expected
        assert outcome.next_check_at is not None
        waits.append(outcome.next_check_at - clock.now)
        clock.now = outcome.next_check_at
    assert waits[-1] > waits[0] * 4  # doubling, less jitter
    httpserver.clear()
    httpserver.expect_request("/flaky").respond_with_data(rss(ENTRIES))
    outcome = service.sources.refresh(source_id)
    assert (outcome.status, outcome.new) == ("fetched", 2)
    state = service.sources.get(source_id).state
    assert (state.failures, state.last_error, state.last_status) == (0, None, 200)
    assert state.next_check_at == clock.now + timedelta(minutes=15)


def test_a_permanent_redirect_moves_the_url_only_after_confirmations(
    service: Service, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/old").respond_with_data(
        "", status=301, headers={"Location": "/new"}
    )
    httpserver.expect_request("/new").respond_with_data(rss(ENTRIES))
    old, new = httpserver.url_for("/old"), httpserver.url_for("/new")
    source_id = add_source(service, old)
    for seen in (1, 2):
        assert service.sources.refresh(source_id).status in ("fetched", "unchanged")
        source = service.sources.get(source_id)
        assert (source.url, source.state.redirect_target, source.state.redirect_seen) == (
            old, new, seen,
        )  # fmt: skip
    service.sources.refresh(source_id)
    source = service.sources.get(source_id)
    assert (source.url, source.state.redirect_target, source.state.redirect_seen) == (new, None, 0)
    assert service.articles.count() == 2


def test_a_redirect_seen_once_then_gone_is_forgotten(
    service: Service, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/old").respond_with_data(
        "", status=308, headers={"Location": "/new"}
    )
    httpserver.expect_request("/new").respond_with_data(rss(ENTRIES))
    source_id = add_source(service, httpserver.url_for("/old"))
    service.sources.refresh(source_id)
    httpserver.clear()
    httpserver.expect_request("/old").respond_with_data(rss(ENTRIES))
    service.sources.refresh(source_id)
    state = service.sources.get(source_id).state
    assert (state.redirect_target, state.redirect_seen) == (None, 0)


def test_a_busy_source_is_not_fetched_twice(service: Service, httpserver: HTTPServer) -> None:
    source_id = add_source(service, serve(httpserver, rss(ENTRIES)))
    ingester = service.sources.ingester
    _source, lease = ingester._claim(source_id)
    assert lease is not None
    outcome = service.sources.refresh(source_id)
    assert outcome.status == "busy"
    assert httpserver.log == [] and service.articles.count() == 0


def test_an_untitled_entry_is_served_and_can_be_withdrawn_and_restored(
    app: Flask, service: Service, httpserver: HTTPServer
) -> None:
    source_id = add_source(service, serve(httpserver, rss([Entry("g-1", "", body="")])))
    assert service.sources.refresh(source_id).new == 1
    article = service.articles.list(ArticleFilter())[0]
    assert article.title == "(untitled)" and article.id is not None
    client = app.test_client()
    assert service.articles.withdraw(article.id).status.value == "withdrawn"
    assert feed_titles(client, "/feeds/all.atom") == []
    assert service.articles.restore(article.id).status.value == "published"
    assert feed_titles(client, "/feeds/all.atom") == ["(untitled)"]


def test_a_conflict_that_is_not_a_lost_race_is_recorded_as_a_failure(
    service: Service, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from feeds.errors import Conflict
    from feeds.store import articles as article_store

    def refuse(*_args: object, **_kwargs: object) -> int:
        raise Conflict("conflicts with stored data: duplicate key")

    source_id = add_source(service, serve(httpserver, rss(ENTRIES)))
    monkeypatch.setattr(article_store, "insert_articles", refuse)
    outcome = service.sources.refresh(source_id)
    assert outcome.status == "failed"
    state = service.sources.get(source_id).state
    assert state.failures == 1 and "duplicate key" in (state.last_error or "")
    assert state.next_check_at is not None
    assert service.articles.count() == 0


def test_the_outcome_names_every_feed_the_refresh_changed(
    service: Service, httpserver: HTTPServer
) -> None:
    source_id = add_source(service, serve(httpserver, rss(ENTRIES)))
    outcome = service.sources.refresh(source_id)
    # The same membership rule as API writes: tag feeds included (trending ranks only
    # articles with views, which new ones have not).
    assert set(outcome.feeds) == {
        ALL,
        FeedKey(FeedKind.SECTION, "world"),
        FeedKey(FeedKind.TAG, "southkorea"),
        FeedKey(FeedKind.TAG, "shipping"),
        FeedKey(FeedKind.TAG, "서울"),
        FeedKey(FeedKind.CUSTOM, "east-asia"),
    }


def test_markup_in_outside_titles_never_reaches_our_feeds(
    app: Flask, service: Service, httpserver: HTTPServer
) -> None:
    hostile = [
        Entry("t-1", "&lt;script&gt;alert(1)&lt;/script&gt;Harbour reopens"),
        Entry("t-2", "&lt;img src=x onerror=alert(1)&gt;Ferry times", date=hours_ago(1)),
    ]
    source_id = add_source(service, serve(httpserver, rss(hostile)))
    assert service.sources.refresh(source_id).new == 2
    client = app.test_client()
    for path in ("/feeds/sections/world.rss", "/feeds/sections/world.atom"):
        assert feed_titles(client, path)[:2] == ["Ferry times", "Harbour reopens"], path
    items = client.get("/feeds/sections/world.json").get_json()["items"]
    assert [item["title"] for item in items[:2]] == ["Ferry times", "Harbour reopens"]
