"""WebSub: the hub is announced in every format and told when feeds change."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs

import feedparser
import pytest
from flask import Flask
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from feeds.jobs import Jobs
from tests.conftest import FakeClock, article_payload, make_app


class Hub:
    """A local hub that records publish notifications; `fail` makes it answer 500."""

    def __init__(self, httpserver: HTTPServer) -> None:
        self.published: list[str] = []
        self.fail = False
        httpserver.expect_request("/hub", method="POST").respond_with_handler(self.handle)
        self.url = httpserver.url_for("/hub")

    def handle(self, request: Request) -> Response:
        form = parse_qs(request.get_data(as_text=True))
        assert form["hub.mode"] == ["publish"]
        if self.fail:
            return Response(status=500)
        self.published.extend(form["hub.url"])
        return Response(status=204)


@pytest.fixture
def hub(httpserver: HTTPServer) -> Hub:
    return Hub(httpserver)


@pytest.fixture
def hub_app(database_url: str, clock: FakeClock, hub: Hub) -> Flask:
    return make_app(
        database_url,
        clock,
        load_demo=True,
        websub_hub=hub.url,
        hub_enabled=False,  # the outside hub instead of the built-in one
        public_url="https://news.example",
    )


def world_urls() -> list[str]:
    return [f"https://news.example/feeds/sections/world.{f}" for f in ("atom", "json", "rss")]


def test_hub_is_announced_in_every_format(hub_app: Flask, hub: Hub) -> None:
    client = hub_app.test_client()
    atom = feedparser.parse(client.get("/feeds/sections/world.atom").data)
    assert [link.href for link in atom.feed.links if link.rel == "hub"] == [hub.url]
    rss = client.get("/feeds/sections/world.rss").data
    assert f'<atom:link href="{hub.url}" rel="hub"/>'.encode() in rss
    data = json.loads(client.get("/feeds/sections/world.json").data)
    assert data["hubs"] == [{"type": "WebSub", "url": hub.url}]


def test_hub_is_told_about_changed_feeds_only(hub_app: Flask, hub: Hub, clock: FakeClock) -> None:
    client = hub_app.test_client()
    service = hub_app.extensions["feeds"]
    client.get("/feeds/sections/world.rss")
    client.get("/feeds/sections/culture.rss")  # unchanged by the write below
    jobs = Jobs(service)
    jobs.publisher.start()
    clock.advance(minutes=1)
    token = service.tokens.create("desk", ("articles:write",))
    created = client.post(
        "/api/v1/articles",
        json=article_payload(section="world", hashtags=[], published_at=None),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert created.status_code == 201
    # Every feed the article shows in, read before or not: versions are made by writes.
    assert jobs.notify_hub() == 9
    changed = ("all", "authors/min-ji-park", "sections/world")
    assert sorted(hub.published) == sorted(
        f"https://news.example/feeds/{path}.{fmt}"
        for path in changed
        for fmt in ("atom", "json", "rss")
    )
    assert not any("culture" in url for url in hub.published)
    assert jobs.notify_hub() == 0  # nothing new since


def test_a_scheduled_article_coming_due_is_pushed_without_any_reader(
    hub_app: Flask, hub: Hub, clock: FakeClock
) -> None:
    client = hub_app.test_client()
    service = hub_app.extensions["feeds"]
    client.get("/feeds/sections/business.rss")
    jobs = Jobs(service)
    jobs.publisher.start()
    scheduled = service.articles.get_by_slug("central-bank-rate-day")
    clock.now = scheduled.published_at + timedelta(seconds=1)
    assert jobs.notify_hub() >= 3
    assert "https://news.example/feeds/sections/business.rss" in hub.published


def test_a_failing_hub_delays_pushes_but_loses_none(
    hub_app: Flask, hub: Hub, clock: FakeClock
) -> None:
    client = hub_app.test_client()
    service = hub_app.extensions["feeds"]
    client.get("/feeds/sections/world.rss")
    jobs = Jobs(service)
    jobs.publisher.start()
    clock.advance(minutes=1)
    article = service.articles.get_by_slug("seoul-tokyo-resume-leader-talks")
    service.articles.withdraw(article.id)
    hub.fail = True
    assert jobs.notify_hub() == 0
    hub.fail = False
    # Every feed the withdrawn article was in, each in its three formats, once.
    pushed = jobs.notify_hub()
    assert pushed == len(hub.published) == len(set(hub.published)) and pushed % 3 == 0
    assert set(world_urls()) <= set(hub.published)
    assert "https://news.example/feeds/all.rss" in hub.published
    assert jobs.notify_hub() == 0
