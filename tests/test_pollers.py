"""Who polls each feed: counted in memory, added to the store in batches (never a write
per feed request), kept across restarts and summed across processes, with the busiest
User-Agents and the subscriber counts aggregators report; and the dashboard showing it
grouped by kind with each feed's items and newest item."""

from __future__ import annotations

import re
import threading
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from lxml import html
from sqlalchemy import event

from feeds.service import Service
from feeds.service.pollers import PollerStats, agent_of, poller_id, subscribers_in
from tests.admin_helpers import login
from tests.conftest import FakeClock, make_app

FEEDLY = "Feedly/1.0 (+http://www.feedly.com/fetcher.html; {n} subscribers; feed-id=abc)"
NEWSBLUR = "NewsBlur Feed Fetcher - {n} subscribers - https://www.newsblur.com/site/1"


def test_user_agents_are_read_for_product_and_subscribers() -> None:
    assert agent_of(FEEDLY.format(n=12)) == "Feedly"
    assert subscribers_in(FEEDLY.format(n=12)) == 12
    assert (agent_of(NEWSBLUR.format(n=3)), subscribers_in(NEWSBLUR.format(n=3))) == (
        "NewsBlur",
        3,
    )
    assert subscribers_in("curl/8.5.0") is None
    assert agent_of("") == "(none)" and agent_of("  ;;") == "(other)"
    # A growing count is the same poller.
    assert poller_id(FEEDLY.format(n=12), "1.2.3.4") == poller_id(FEEDLY.format(n=13), "1.2.3.4")
    assert poller_id("curl/8", "1.2.3.4") != poller_id("curl/8", "1.2.3.5")


def test_counts_add_up_across_processes_and_survive_a_restart(
    service: Service, clock: FakeClock, database_url: str
) -> None:
    one, two = PollerStats(clock), PollerStats(clock)
    one.record("tag:japan", FEEDLY.format(n=12), "10.0.0.1", 200)
    one.record("tag:japan", "curl/8", "10.0.0.2", 200)
    two.record("tag:japan", FEEDLY.format(n=13), "10.0.0.1", 304)
    two.record("tag:japan", "curl/8", "10.0.0.3", 304)
    two.record("tag:japan", "curl/8", "10.0.0.3", 304)
    assert service.pollers.flush(one) == 2
    assert service.pollers.flush(two) == 2
    assert service.pollers.flush(two) == 0  # drained: nothing counted twice

    restarted = make_app(database_url, clock).extensions["feeds"]
    summary = restarted.pollers.summary()["tag:japan"]
    assert (summary.pollers, summary.requests, summary.not_modified) == (3, 5, 3)
    assert summary.subscribers == 13 + 2  # Feedly's latest report, and two curl pollers
    assert [(a.agent, a.pollers, a.subscribers) for a in summary.agents] == [
        ("curl", 2, 0),
        ("Feedly", 1, 13),
    ]
    restarted.ctx.store.dispose()


def test_a_poller_back_after_a_day_counts_afresh_and_idle_ones_go(
    service: Service, clock: FakeClock
) -> None:
    stats = PollerStats(clock)
    for _ in range(3):
        stats.record("all:", "Reader/1", "10.0.0.1", 200)
    service.pollers.flush(stats)
    clock.advance(days=2)
    assert service.pollers.summary() == {}  # outside the day's window
    stats.record("all:", "Reader/1", "10.0.0.1", 304)
    service.pollers.flush(stats)
    assert service.pollers.summary()["all:"].requests == 1
    clock.advance(days=8)
    stats.record("all:", "Other/1", "10.0.0.9", 200)
    service.pollers.flush(stats)  # prunes pollers idle for a week
    summary = service.pollers.summary()["all:"]
    assert [a.agent for a in summary.agents] == ["Other"]


def test_feed_requests_never_write_the_store(demo_app: Flask, demo_client: FlaskClient) -> None:
    svc: Service = demo_app.extensions["feeds"]
    writes: list[str] = []

    def spy(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "feed_pollers" in statement:
            writes.append(statement)

    engine = svc.ctx.store.engine
    event.listen(engine, "before_cursor_execute", spy)
    try:
        for n in range(20):
            agent = {"User-Agent": FEEDLY.format(n=40 + n)}
            assert demo_client.get("/feeds/all.rss", headers=agent).status_code == 200
        assert writes == []
        login(demo_client, svc)
        page = demo_client.get("/admin/").get_data(as_text=True)
        assert len([w for w in writes if w.lstrip().upper().startswith("INSERT")]) == 1
    finally:
        event.remove(engine, "before_cursor_execute", spy)
    row = re.search(r'data-feed="all:">(.*?)</tr>', page, re.S)
    assert row is not None
    assert re.search(r'class="num pollers">1<', row.group(1))
    assert re.search(r'class="num readers">59<', row.group(1))  # the latest report
    assert "Feedly (1, 59 subscribers)" in row.group(1)


def test_dashboard_groups_feeds_by_kind_with_items_and_newest(
    demo_app: Flask, demo_client: FlaskClient
) -> None:
    svc: Service = demo_app.extensions["feeds"]
    login(demo_client, svc)
    page = html.fromstring(demo_client.get("/admin/").get_data(as_text=True))
    groups = page.xpath("//section[@id='feeds']/details/@data-group")
    assert groups == ["General", "Sections", "Topics", "Authors", "Hashtags"]
    facts = svc.directory.facts()
    listing = svc.directory.listing()
    for entry in listing:
        [row] = page.xpath(f"//tr[@data-feed='{entry.key.storage_key}']")
        items = int(row.xpath("string(td[contains(@class,'items')])"))
        assert items == facts[entry.key.storage_key].items
    # Hashtag and author feeds hold what the directory counts for them.
    for entry in listing:
        counted = re.match(r"(\d+) articles?", entry.description)
        if entry.group in ("Hashtags", "Authors") and counted:
            assert facts[entry.key.storage_key].items == int(counted.group(1)), entry.title
    summary = page.xpath("//details[@data-group='Hashtags']/summary")[0].text_content()
    assert re.search(r"Hashtags · \d+ feeds · 0 pollers · 0 readers", " ".join(summary.split()))


def test_a_closed_app_stops_adding_counts_to_the_store(database_url: str, clock: FakeClock) -> None:
    # A web process's flusher outlived its app: it kept writing every interval into
    # whatever database the URL named next (in tests: the next test's tables).
    app = make_app(database_url, clock, poller_flush_seconds=1)
    svc: Service = app.extensions["feeds"]
    flushed = threading.Event()
    real_flush = svc.pollers.flush

    def flush(stats: PollerStats) -> Any:
        flushed.set()
        return real_flush(stats)

    svc.pollers.flush = flush  # type: ignore[method-assign]
    assert app.test_client().get("/feeds/all.rss").status_code == 200
    assert flushed.wait(5), "the flusher should add the counts while the app is open"
    flushed.clear()
    svc.ctx.store.dispose()
    # Two intervals pass with no flush once the store is closed.
    assert not flushed.wait(2.5)
