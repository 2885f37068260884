"""WebSub: the hub is announced in every format and told when feeds change."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

import feedparser
import pytest
from flask import Flask
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from feeds.jobs import Jobs
from feeds.service import Service
from feeds.service import websub as websub_module
from feeds.service.hub import CLAIM_MARGIN_SECONDS
from feeds.store import announcements as announcement_store
from tests.conftest import FakeClock, article_payload, make_app
from tests.httpservers import RawServer, raw_server
from tests.together import read_by_both, run_together

__all__ = ["raw_server"]  # the fixture, imported for its side effect


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


def outside_hub_app(database_url: str, clock: FakeClock, hub: str, **overrides: Any) -> Flask:
    return make_app(
        database_url,
        clock,
        websub_hub=hub,
        hub_enabled=False,  # the outside hub instead of the built-in one
        public_url="https://news.example",
        **overrides,
    )


@pytest.fixture
def hub_app(database_url: str, clock: FakeClock, hub: Hub) -> Flask:
    return outside_hub_app(database_url, clock, hub.url, load_demo=True)


@pytest.fixture
def other(database_url: str, clock: FakeClock, hub: Hub, hub_app: Flask) -> Iterator[Service]:
    """A second process on the same store: another scheduler, or this one restarted."""
    service: Service = outside_hub_app(database_url, clock, hub.url).extensions["feeds"]
    yield service
    service.ctx.store.dispose()


def world_urls() -> list[str]:
    return urls_of("sections/world")


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


# The feeds an article made by `write` shows in.
WRITTEN_TO = ("all", "authors/min-ji-park", "sections/world")


def urls_of(*paths: str) -> list[str]:
    return sorted(
        f"https://news.example/feeds/{path}.{fmt}"
        for path in paths
        for fmt in ("atom", "json", "rss")
    )


WRITTEN = urls_of(*WRITTEN_TO)


def write(hub_app: Flask, number: int) -> None:
    service = hub_app.extensions["feeds"]
    token = service.tokens.create(f"desk-{number}", ("articles:write",))
    payload = article_payload(
        title=f"Pushed {number}", url=f"https://news.example.com/p{number}", hashtags=[],
        published_at=None,
    )  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}
    assert (
        hub_app.test_client().post("/api/v1/articles", json=payload, headers=headers).status_code
        == 201
    )


def started_then_written(hub_app: Flask, clock: FakeClock) -> Jobs:
    """A scheduler's jobs, started before an article is written."""
    jobs = Jobs(hub_app.extensions["feeds"])
    jobs.publisher.start()
    clock.advance(minutes=1)
    write(hub_app, 1)
    return jobs


def test_two_schedulers_on_one_store_ping_the_hub_once_per_change(
    hub_app: Flask, other: Service, hub: Hub, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two publish rounds on two engines that both read the same changed feeds before
    either pings: the hub hears of each change of each feed once."""
    one, two = Jobs(hub_app.extensions["feeds"]), Jobs(other)
    run_together(one.publisher.start, two.publisher.start)
    read_by_both(monkeypatch, announcement_store, "behind")
    for number in range(3):
        clock.advance(minutes=1)
        write(hub_app, number)
        before = len(hub.published)
        sent = run_together(one.notify_hub, two.notify_hub)
        assert sorted(hub.published[before:]) == WRITTEN, number
        assert sum(sent) == len(WRITTEN), number
    assert run_together(one.notify_hub, two.notify_hub) == [0, 0]
    assert len(hub.published) == 3 * len(WRITTEN)


def test_a_restarted_scheduler_does_not_ping_again_for_what_was_announced(
    hub_app: Flask, other: Service, hub: Hub, clock: FakeClock
) -> None:
    jobs = started_then_written(hub_app, clock)
    assert jobs.notify_hub() == len(WRITTEN)
    restarted = Jobs(other)  # a new process: nothing of the first one's memory
    restarted.publisher.start()
    assert restarted.notify_hub() == 0
    assert sorted(hub.published) == WRITTEN
    clock.advance(minutes=1)
    write(hub_app, 2)
    assert restarted.notify_hub() == len(WRITTEN)
    assert sorted(hub.published) == sorted(WRITTEN * 2)


def test_a_failed_ping_is_sent_again_by_a_restarted_scheduler(
    hub_app: Flask, other: Service, hub: Hub, clock: FakeClock
) -> None:
    jobs = started_then_written(hub_app, clock)
    hub.fail = True
    assert jobs.notify_hub() == 0
    with other.ctx.store.read() as conn:
        told = announcement_store.all_announcements(conn)
    assert {key: told[key][1:] for key in ("section:world", "section:culture")} == {
        "section:world": (1, None),  # one failure, no claim left behind
        "section:culture": (0, None),
    }
    hub.fail = False
    restarted = Jobs(other)
    restarted.publisher.start()
    assert restarted.notify_hub() == len(WRITTEN)
    assert sorted(hub.published) == WRITTEN
    assert restarted.notify_hub() == jobs.notify_hub() == 0
    with other.ctx.store.read() as conn:
        assert announcement_store.all_announcements(conn)["section:world"][1:] == (0, None)


def test_a_ping_claimed_by_a_process_that_died_waits_only_for_its_deadline(
    hub_app: Flask, other: Service, hub: Hub, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs, dying = started_then_written(hub_app, clock), Jobs(other)

    def died(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the process died before pinging")

    # The other scheduler claims the first changed feed and dies before its ping.
    monkeypatch.setattr(websub_module.WebSubPublisher, "_ping", died)
    with pytest.raises(RuntimeError):
        dying.publisher.publish(dying.publisher.changed_feeds(), "https://news.example")
    monkeypatch.undo()
    with other.ctx.store.read() as conn:
        claims = {k: v[2] for k, v in announcement_store.all_announcements(conn).items() if v[2]}
    ((feed, until),) = claims.items()
    assert feed == "all:"  # the first in key order
    # One feed's pings: one per format of at most fetch_timeout each, and the margin.
    longest = timedelta(seconds=other.settings.fetch_timeout * 3 + CLAIM_MARGIN_SECONDS)
    assert until is not None and clock.now < until <= clock.now + longest
    rest = urls_of(*WRITTEN_TO[1:])
    assert jobs.notify_hub() == len(rest)  # the claimed feed waits while its taker may live
    clock.now = until - timedelta(seconds=1)
    assert jobs.notify_hub() == 0
    assert sorted(hub.published) == rest
    clock.now = until
    assert jobs.notify_hub() == 3
    assert sorted(hub.published) == WRITTEN


def test_an_unreachable_hub_ends_the_round_and_a_later_round_sends_everything(
    database_url: str, clock: FakeClock, hub_app: Flask, hub: Hub,
    raw_server: Callable[..., RawServer],
) -> None:  # fmt: skip
    gone = raw_server(lambda _head, _sock: None)  # closes every connection unanswered
    down: Service = outside_hub_app(database_url, clock, gone.url("/hub")).extensions["feeds"]
    try:
        jobs = Jobs(down)
        jobs.publisher.start()
        clock.advance(minutes=1)
        write(hub_app, 1)
        assert jobs.notify_hub() == 0
        assert len(gone.requests) == 1  # no ping after the one that found the hub gone
        with down.ctx.store.read() as conn:
            told = announcement_store.all_announcements(conn)
        assert [told[key][1:] for key in ("all:", "author:min-ji-park", "section:world")] == [
            (1, None), (0, None), (0, None),
        ]  # fmt: skip
    finally:
        down.ctx.store.dispose()
    # The hub back (here: the process that reaches it), every change is sent, once.
    assert Jobs(hub_app.extensions["feeds"]).notify_hub() == len(WRITTEN)
    assert sorted(hub.published) == WRITTEN


def test_scheduler_once_pings_the_outside_hub_for_what_changed_since_the_last_run(
    hub_app: Flask, hub: Hub, clock: FakeClock
) -> None:
    runner = hub_app.test_cli_runner()

    def once() -> dict[str, Any]:
        result = runner.invoke(args=["feeds", "scheduler", "--once", "--json"])
        assert result.exit_code == 0, result.output
        report: dict[str, Any] = json.loads(result.stdout)
        return report

    assert once()["pinged"] == 0  # the first run: what is there now is not a change
    clock.advance(minutes=1)
    write(hub_app, 1)
    assert once()["pinged"] == len(WRITTEN)
    assert sorted(hub.published) == WRITTEN
    assert once()["pinged"] == 0  # nothing new since
    assert sorted(hub.published) == WRITTEN
