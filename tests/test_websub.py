"""WebSub: the hub is announced in every format and told when feeds change."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

import feedparser
import pytest
from flask import Flask
from pytest_httpserver import HTTPServer
from sqlalchemy import text
from werkzeug import Request, Response

from feeds.jobs import Jobs
from feeds.service import Service
from feeds.service import websub as websub_module
from feeds.service.hub import CLAIM_MARGIN_SECONDS
from feeds.service.websub import RETRY_CAP_SECONDS, RETRY_SECONDS, retry_after
from feeds.store import Store
from feeds.store import announcements as announcement_store
from feeds.store.announcements import Told
from tests.conftest import FakeClock, article_payload, make_app
from tests.httpservers import RawServer, head_reply, raw_server
from tests.migration_helpers import old_version_row, upgrade_to
from tests.together import read_by_both, run_together

__all__ = ["raw_server"]  # the fixture, imported for its side effect


class Hub:
    """A local hub that records publish notifications; `fail` makes it answer 500, and
    it answers 400 to URLs containing one of `refuse`. `refused` lists what it did not take."""

    def __init__(self, httpserver: HTTPServer, path: str = "/hub") -> None:
        self.published: list[str] = []
        self.refused: list[str] = []
        self.fail = False
        self.refuse: tuple[str, ...] = ()
        httpserver.expect_request(path, method="POST").respond_with_handler(self.handle)
        self.url = httpserver.url_for(path)

    def handle(self, request: Request) -> Response:
        form = parse_qs(request.get_data(as_text=True))
        assert form["hub.mode"] == ["publish"]
        (url,) = form["hub.url"]
        if self.fail or any(part in url for part in self.refuse):
            self.refused.append(url)
            return Response(status=500 if self.fail else 400)
        self.published.append(url)
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


def rows(service: Service) -> dict[str, Told]:
    with service.ctx.store.read() as conn:
        return announcement_store.all_announcements(conn)


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
    refused = len(hub.refused)
    assert jobs.notify_hub() == 0  # each refused feed waits before its next ping
    assert len(hub.refused) == refused and hub.published == []
    clock.advance(seconds=RETRY_SECONDS)
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
    told = rows(other)
    retry_at = clock.now + timedelta(seconds=RETRY_SECONDS)
    assert told["section:world"] == Told(told["section:world"].version, 1, None, retry_at, hub.url)
    assert told["section:culture"].failures == 0  # unchanged, never pinged
    hub.fail = False
    restarted = Jobs(other)
    restarted.publisher.start()
    assert restarted.notify_hub() == 0  # the wait is kept in the store, not in the process
    clock.now = retry_at
    assert restarted.notify_hub() == len(WRITTEN)
    assert sorted(hub.published) == WRITTEN
    assert restarted.notify_hub() == jobs.notify_hub() == 0
    world = rows(other)["section:world"]
    assert (world.failures, world.pinging_until, world.next_attempt_at) == (0, None, None)


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
    claims = {key: row.pinging_until for key, row in rows(other).items() if row.pinging_until}
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


class RawHub:
    """A hub on a raw socket: while `down` it closes every connection unanswered, as a
    hub that cannot be reached; else it takes publish pings like `Hub`."""

    def __init__(self, raw_server: Callable[..., RawServer]) -> None:
        self.down = True
        self.published: list[str] = []
        self.server = raw_server(self.handle)
        self.url = self.server.url("/hub")

    def handle(self, head: bytes, sock: socket.socket) -> None:
        if self.down:
            return
        header, _, body = head.partition(b"\r\n\r\n")
        length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", header)
        assert length is not None
        while len(body) < int(length[1]):
            more = sock.recv(4096)
            if not more:
                return  # the client gave up
            body += more
        self.published.extend(parse_qs(body.decode())["hub.url"])
        sock.sendall(head_reply("204 No Content", {"Connection": "close"}))

    @property
    def pings(self) -> int:
        return len(self.server.requests)


def test_an_unreachable_hub_ends_the_round_backs_off_and_a_later_round_sends_everything(
    database_url: str, clock: FakeClock, hub_app: Flask, raw_server: Callable[..., RawServer]
) -> None:
    gone = RawHub(raw_server)
    down: Service = outside_hub_app(database_url, clock, gone.url).extensions["feeds"]
    try:
        jobs = Jobs(down)
        jobs.publisher.start()
        clock.advance(minutes=1)
        write(hub_app, 1)
        keys = ("all:", "author:min-ji-park", "section:world")
        assert jobs.notify_hub() == 0
        assert gone.pings == 1  # no ping after the one that found the hub gone
        told = rows(down)
        assert [told[key].failures for key in keys] == [1, 0, 0]
        assert told["all:"].next_attempt_at == clock.now + timedelta(seconds=RETRY_SECONDS)
        assert told["all:"].pinging_until is None
        # The feed that found the hub gone waits; the next one tries, one ping a round.
        assert jobs.notify_hub() == jobs.notify_hub() == 0
        assert gone.pings == 3
        assert [rows(down)[key].failures for key in keys] == [1, 1, 1]
        assert jobs.notify_hub() == 0 and gone.pings == 3  # every feed waits
        gone.down = False
        clock.advance(seconds=RETRY_SECONDS - 1)
        assert jobs.notify_hub() == 0 and gone.pings == 3
        clock.advance(seconds=1)
        # The hub back, every change is sent, once.
        assert jobs.notify_hub() == len(WRITTEN)
        assert sorted(gone.published) == WRITTEN
        assert jobs.notify_hub() == 0
        assert all(row.failures == 0 and row.next_attempt_at is None for row in rows(down).values())
    finally:
        down.ctx.store.dispose()


def test_the_wait_after_a_failed_ping_doubles_from_a_minute_to_an_hour() -> None:
    waits = [retry_after(failures).total_seconds() for failures in range(1, 10)]
    assert waits == [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]
    assert RETRY_CAP_SECONDS == 3600
    assert retry_after(10**6) == timedelta(hours=1)  # a feed failing for years


def test_a_feed_the_hub_keeps_refusing_is_pinged_less_and_less_often(
    hub_app: Flask, hub: Hub, clock: FakeClock
) -> None:
    """The hub refuses one feed's URLs: the healthy feeds are pinged every round they
    changed in, the refused one after 1, 2, 4 minutes, not every round."""
    hub.refuse = ("/authors/",)
    jobs = Jobs(hub_app.extensions["feeds"])
    jobs.publisher.start()
    first = clock.now + timedelta(seconds=30)
    refused_at: list[int] = []  # seconds after the first round
    for number in range(16):  # a round every 30 s, each after a write to the same feeds
        clock.advance(seconds=30)
        write(hub_app, number)
        refused = len(hub.refused)
        assert jobs.notify_hub() == 6, number  # all and sections/world, every round
        if len(hub.refused) > refused:
            assert len(hub.refused) - refused == 3  # one feed, three formats
            refused_at.append(int((clock.now - first).total_seconds()))
    assert refused_at == [0, 60, 180, 420]
    assert len(hub.published) == 16 * 6
    author = rows(hub_app.extensions["feeds"])["author:min-ji-park"]
    assert author.failures == 4
    assert author.next_attempt_at == first + timedelta(seconds=420 + 480)
    # The status command shows the waiting feed, its failures and its next ping.
    runner = hub_app.test_cli_runner()
    result = runner.invoke(args=["feeds", "websub", "status", "--json"])
    assert result.exit_code == 0, result.output
    status = json.loads(result.stdout)
    assert status["hub"] == hub.url
    ((waiting,),) = [status["waiting"]]
    wait = int((author.next_attempt_at - clock.now).total_seconds())
    assert waiting == {
        "feed": "author:min-ji-park", "announced_version": author.version,
        "version": waiting["version"], "failures": 4,
        "next_attempt_at": author.next_attempt_at.isoformat(), "next_attempt_in_seconds": wait,
    }  # fmt: skip
    assert waiting["version"] > author.version
    text = runner.invoke(args=["feeds", "websub", "status"]).output
    assert "author:min-ji-park" in text and "failures 4" in text and f"(in {wait} s)" in text


def test_of_two_schedulers_one_pings_again_once_the_wait_is_over(
    hub_app: Flask, other: Service, hub: Hub, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two = Jobs(hub_app.extensions["feeds"]), Jobs(other)
    run_together(one.publisher.start, two.publisher.start)
    clock.advance(minutes=1)
    write(hub_app, 1)
    hub.fail = True
    assert one.notify_hub() == 0
    refused = len(hub.refused)
    assert refused == len(WRITTEN)
    hub.fail = False
    read_by_both(monkeypatch, announcement_store, "behind")
    assert run_together(one.notify_hub, two.notify_hub) == [0, 0]  # both wait
    assert len(hub.refused) == refused and hub.published == []
    clock.advance(seconds=RETRY_SECONDS)
    sent = run_together(one.notify_hub, two.notify_hub)
    assert sorted(hub.published) == WRITTEN and sum(sent) == len(WRITTEN)


def test_a_new_hub_is_told_only_of_what_changed_after_it_was_configured(
    database_url: str, clock: FakeClock, hub_app: Flask, hub: Hub, httpserver: HTTPServer
) -> None:
    new = Hub(httpserver, "/new-hub")
    first = started_then_written(hub_app, clock)
    hub.fail = True
    assert first.notify_hub() == 0  # the old hub has refused pings, waiting to be sent again
    assert rows(hub_app.extensions["feeds"])["section:world"].failures == 1
    moved: Service = outside_hub_app(database_url, clock, new.url).extensions["feeds"]
    try:
        jobs = Jobs(moved)
        jobs.publisher.start()
        clock.advance(seconds=RETRY_SECONDS)
        assert jobs.notify_hub() == 0  # what changed before is no change to the new hub
        told = rows(moved)
        assert {row.hub for row in told.values()} == {new.url}
        assert {(row.failures, row.next_attempt_at) for row in told.values()} == {(0, None)}
        clock.advance(minutes=1)
        write(hub_app, 2)
        assert jobs.notify_hub() == len(WRITTEN)
        assert sorted(new.published) == WRITTEN
        # A process left with the old setting neither pings for the new hub's rows nor
        # records anything on them until it takes them back, from the present again.
        hub.fail = False
        assert first.notify_hub() == 0
        assert hub.published == []
        assert {row.hub for row in rows(moved).values()} == {hub.url}
    finally:
        moved.ctx.store.dispose()


def test_two_schedulers_taking_up_a_new_hub_at_once_start_each_feed_over_once(
    database_url: str, clock: FakeClock, hub_app: Flask, httpserver: HTTPServer
) -> None:
    """Both processes restarted with a new `websub_hub` start at once: each feed is
    started over by one of them, and neither fails (no deadlock on PostgreSQL)."""
    Jobs(hub_app.extensions["feeds"]).publisher.start()  # every feed announced to the old hub
    new = Hub(httpserver, "/new-hub")
    one, two = (outside_hub_app(database_url, clock, new.url).extensions["feeds"] for _ in "12")
    try:

        def move(service: Service) -> int:
            with service.ctx.store.begin() as conn:
                return announcement_store.move_to(conn, new.url)

        feeds = len(rows(one))
        assert feeds > 10
        assert sorted(run_together(lambda: move(one), lambda: move(two))) == [0, feeds]
        assert {row.hub for row in rows(one).values()} == {new.url}
    finally:
        one.ctx.store.dispose()
        two.ctx.store.dispose()


def test_upgrade_takes_rows_kept_before_hubs_were_recorded_as_the_configured_hubs(
    empty_database_url: str, clock: FakeClock, hub: Hub
) -> None:
    """Pings still owed when the store is upgraded are sent to the configured hub."""
    store = Store.from_url(empty_database_url)
    upgrade_to(store, "0020")
    with store.engine.begin() as conn:
        for key, version in (("tag:owed", 5), ("tag:told", 2)):
            old_version_row(conn, key, version, "2026-01-01 00:00:00")
        for key, version, failures in (("tag:owed", 4, 1), ("tag:told", 2, 0)):
            conn.execute(
                text(
                    "INSERT INTO websub_announcements (feed, version, failures)"
                    " VALUES (:key, :version, :failures)"
                ),
                {"key": key, "version": version, "failures": failures},
            )
    store.migrate()
    store.dispose()
    app = outside_hub_app(empty_database_url, clock, hub.url)
    service: Service = app.extensions["feeds"]
    jobs = Jobs(service)
    jobs.publisher.start()
    assert {row.hub for row in rows(service).values()} == {hub.url}
    assert jobs.notify_hub() == 3
    assert sorted(hub.published) == urls_of("tags/owed")
    assert rows(service)["tag:owed"] == Told(5, 0, None, None, hub.url)


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
