"""WebSub: the hub is announced in every format and told when feeds change."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import feedparser
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from feeds.jobs import Jobs
from tests.conftest import FakeClock, article_payload, make_app


def test_hub_is_announced_and_told_about_changed_feeds(
    database_url: str, clock: FakeClock, httpserver: HTTPServer
) -> None:
    published: list[str] = []

    def hub(request: Request) -> Response:
        form = parse_qs(request.get_data(as_text=True))
        assert form["hub.mode"] == ["publish"]
        published.extend(form["hub.url"])
        return Response(status=204)

    httpserver.expect_request("/hub", method="POST").respond_with_handler(hub)
    hub_url = httpserver.url_for("/hub")
    app = make_app(
        database_url, clock, load_demo=True, websub_hub=hub_url, site_url="https://news.example"
    )
    client = app.test_client()
    service = app.extensions["feeds"]
    atom = feedparser.parse(client.get("/feeds/sections/world.atom").data)
    assert [link.href for link in atom.feed.links if link.rel == "hub"] == [hub_url]
    assert (
        f'<atom:link href="{hub_url}" rel="hub"/>'.encode()
        in client.get("/feeds/sections/world.rss").data
    )
    data = json.loads(client.get("/feeds/sections/world.json").data)
    assert data["hubs"] == [{"type": "WebSub", "url": hub_url}]
    client.get("/feeds/sections/culture.rss")  # read, so it has a version, but unchanged

    jobs = Jobs(service)
    jobs.publisher.changed_feeds()  # start of the window, as the scheduler does
    clock.advance(minutes=1)
    token = service.tokens.create("desk", ("articles:write",))
    created = client.post(
        "/api/v1/articles",
        json=article_payload(section="world", hashtags=[], published_at=None),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert created.status_code == 201
    assert jobs.notify_hub() == 3
    assert sorted(published) == [
        "https://news.example/feeds/sections/world.atom",
        "https://news.example/feeds/sections/world.json",
        "https://news.example/feeds/sections/world.rss",
    ]
    assert jobs.notify_hub() == 0  # nothing new since
