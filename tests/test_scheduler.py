"""The scheduler's jobs: the ingest tick, feed pre-rendering, retention housekeeping, the demo."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import quote

import pytest
from flask import Flask
from pytest_httpserver import HTTPServer

from feeds.jobs import Jobs
from feeds.models import ArticleFilter, FeedFormat, FeedKey, FeedKind
from feeds.service import Service
from feeds.service.feedkeys import ALL
from tests.conftest import FakeClock, make_app
from tests.ingest_helpers import Entry, add_source, feed_titles, ingest_app, rss, snapshot, svc

FEED = rss([Entry("s-1", "Port strike ends", categories=("Shipping",))])


@pytest.fixture
def app(database_url: str, clock: FakeClock) -> Iterator[Flask]:
    app = ingest_app(database_url, clock, ingest_per_host=1)
    yield app
    svc(app).ctx.store.dispose()


def test_a_tick_ingests_due_sources_one_per_host_and_publishes(
    service: Service, httpserver: HTTPServer, clock: FakeClock
) -> None:
    httpserver.expect_request("/a").respond_with_data(FEED)
    httpserver.expect_request("/b").respond_with_data(FEED)
    first = add_source(service, httpserver.url_for("/a"), name="A")
    second = add_source(service, httpserver.url_for("/b"), name="B")
    jobs = Jobs(service)
    outcomes = jobs.tick()
    assert [(o.source_id, o.status) for o in outcomes] == [(first, "fetched")]  # per host: 1
    # The feeds it touched are published before anyone asks.
    tree = service.publisher.tree
    for key in (ALL, FeedKey(FeedKind.SECTION, "world"), FeedKey(FeedKind.TAG, "shipping")):
        path = tree.path(key, FeedFormat.ATOM)
        assert path is not None and b"Port strike ends" in path.read_bytes(), key
    assert [o.source_id for o in jobs.tick()] == [second]
    assert jobs.tick() == []  # nothing is due until the interval has passed
    clock.advance(minutes=16)
    assert sorted(o.source_id for o in jobs.tick()) == [first]
    assert sorted(o.source_id for o in jobs.tick()) == [second]


def test_disabled_and_leased_sources_are_not_due(service: Service, httpserver: HTTPServer) -> None:
    off = add_source(service, httpserver.url_for("/off"), enabled=False)
    busy = add_source(service, httpserver.url_for("/busy"), name="Busy")
    assert service.sources.ingester._claim(busy)[1] is not None
    due = [s.id for s in service.sources.due()]
    assert off not in due and busy not in due


def test_housekeeping_prunes_past_retention_and_moves_feed_versions(
    service: Service, httpserver: HTTPServer, clock: FakeClock
) -> None:
    httpserver.expect_request("/feed").respond_with_data(FEED)
    source_id = add_source(service, httpserver.url_for("/feed"), retention_days=2)
    service.sources.refresh(source_id)
    before = service.feeds.settle(ALL).version
    jobs = Jobs(service)
    assert jobs.housekeeping() == 0
    clock.advance(days=3)
    assert jobs.housekeeping() == 1
    assert service.articles.count() == 0
    assert service.feeds.settle(ALL).version == before + 1
    assert jobs.housekeeping() == 0
    # The same unchanged document does not bring it back (the body is not even parsed).
    service.sources.refresh(source_id)
    assert service.articles.count() == 0


def test_housekeeping_leaves_a_source_being_fetched_alone(
    service: Service, httpserver: HTTPServer, clock: FakeClock
) -> None:
    from datetime import timedelta

    from feeds.store import sources as source_store

    httpserver.expect_request("/feed").respond_with_data(FEED)
    source_id = add_source(service, httpserver.url_for("/feed"), retention_days=2)
    service.sources.refresh(source_id)
    clock.advance(days=3)
    lease = clock.now + timedelta(minutes=1)
    with service.ctx.store.begin() as conn:
        assert source_store.claim(conn, source_id, clock.now, lease)  # a fetch under way
    assert Jobs(service).housekeeping() == 0
    assert service.articles.count() == 1
    clock.advance(minutes=2)  # that job's lease ran out
    assert Jobs(service).housekeeping() == 1
    assert service.articles.count() == 0


def test_entries_older_than_retention_are_not_ingested(
    service: Service, httpserver: HTTPServer
) -> None:
    old = rss([Entry("o-1", "Ancient news", date="Mon, 05 Jan 2015 10:00:00 GMT")])
    httpserver.expect_request("/old").respond_with_data(old)
    source_id = add_source(service, httpserver.url_for("/old"))
    assert service.sources.refresh(source_id).new == 0
    assert snapshot(service)[0] == []


def test_the_background_scheduler_runs_a_tick_at_start(
    service: Service, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/feed").respond_with_data(FEED)
    add_source(service, httpserver.url_for("/feed"))
    jobs = Jobs(service)
    scheduler = jobs.start_background()
    try:
        deadline = time.monotonic() + 10
        while service.articles.count() == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert service.articles.count() == 1
        assert {job.id for job in scheduler.get_jobs()} >= {"ingest", "housekeeping"}
    finally:
        scheduler.shutdown(wait=True)
        # The publish loop too: left running, it wrote into the next test's tables.
        jobs.publish_loop.stop()


def test_the_demo_wire_is_ingested_into_section_and_hashtag_feeds(
    database_url: str, clock: FakeClock
) -> None:
    """What a newcomer sees after `make run`: the demo source from config/sources.toml."""
    app = make_app(database_url, clock)
    try:
        service = svc(app)
        [wire] = service.sources.list()
        assert wire.url == "file:demo/wire.xml"
        assert (wire.managed_by or "").endswith("sources.toml")
        outcomes = Jobs(service).tick()
        assert [(o.status, o.new) for o in outcomes] == [("fetched", 5)]
        client = app.test_client()
        titles = feed_titles(client, "/feeds/sections/world.rss")
        assert "Night ferries return to Busan harbour after storm repairs" in titles
        assert len(feed_titles(client, "/feeds/tags/southkorea.atom")) == 2
        assert feed_titles(client, f"/feeds/tags/{quote('東京')}.rss") == [
            "Tokyo commuter line tests a quiet carriage on every train"
        ]
        assert len(feed_titles(client, "/feeds/custom/east-asia.atom")) == 3
        stories = service.articles.list(ArticleFilter(hashtag="wire"))
        assert len(stories) == 5 and all(a.origin for a in stories)
        assert {a.author for a in stories} >= {"Ha-eun Seo", "Ledger Wire (demo)"}
        clock.advance(minutes=16)
        assert [o.status for o in Jobs(service).tick()] == ["unchanged"]
        assert clock.now - stories[0].published_at < timedelta(minutes=20)
    finally:
        svc(app).ctx.store.dispose()


def test_a_publish_loop_ends_when_its_app_is_closed(database_url: str, clock: FakeClock) -> None:
    # A loop its owner forgot to stop kept publishing into whatever the URL named next.
    app = make_app(database_url, clock, publish_interval_seconds=1)
    service: Service = app.extensions["feeds"]
    loop = Jobs(service).publish_loop
    loop.start()
    thread = loop._thread
    assert thread is not None and thread.is_alive()
    service.ctx.store.dispose()
    thread.join(timeout=10)
    assert not thread.is_alive()
