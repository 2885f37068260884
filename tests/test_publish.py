"""The publisher: moved feeds rendered once into the published tree, the rest left alone."""

from __future__ import annotations

import gzip
import json
import os
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import brotli
import pytest
from flask.testing import FlaskClient, FlaskCliRunner

from feeds.jobs import PublishLoop
from feeds.models import FeedFormat, FeedKey, FeedKind
from feeds.published import etag_for
from feeds.service import Service
from feeds.service.feedkeys import ALL, TRENDING
from feeds.service.feeds import FeedService
from feeds.service.publish import Publisher, PublishReport
from tests.conftest import FakeClock, article_payload, make_app

ATOM = "{http://www.w3.org/2005/Atom}"
WORLD = FeedKey(FeedKind.SECTION, "world")
CULTURE = FeedKey(FeedKind.SECTION, "culture")
EAST_ASIA = FeedKey(FeedKind.CUSTOM, "east-asia")


def tree_file(service: Service, key: FeedKey, fmt: str) -> Path:
    path = service.publisher.tree.path(key, FeedFormat(fmt))
    assert path is not None
    return path


def titles(service: Service, key: FeedKey) -> dict[str, list[str]]:
    """The item titles of each published format of a feed, parsed back from its files."""
    atom = ET.parse(tree_file(service, key, "atom")).getroot()
    rss = ET.parse(tree_file(service, key, "rss")).getroot()
    data = json.loads(tree_file(service, key, "json").read_bytes())
    return {
        "atom": [e.findtext(f"{ATOM}title") or "" for e in atom.iter(f"{ATOM}entry")],
        "rss": [i.findtext("title") or "" for i in rss.iter("item")],
        "json": [item["title"] for item in data["items"]],
    }


def mtimes(service: Service, *, archives: bool = False) -> dict[Path, int]:
    """Each published file's mtime_ns: the feeds', or (`archives`) the monthly archives'."""
    root = service.publisher.tree.root / "feeds"
    return {
        path: path.stat().st_mtime_ns
        for path in root.rglob("*")
        if path.is_file() and ("archive" in path.relative_to(root).parts[:-1]) == archives
    }


def post(client: FlaskClient, token: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = client.post("/api/v1/articles", json=article_payload(**fields), headers=token)
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def test_writing_an_article_republishes_exactly_the_feeds_it_touched(
    service: Service, client: FlaskClient, writer_token: dict[str, str], clock: FakeClock
) -> None:
    post(client, writer_token, title="Lanterns Over the River", section="culture",
         hashtags=["Japan"], url="https://news.example.com/lanterns",
         author="Hana Mori")  # fmt: skip
    first = service.publisher.run()
    assert {ALL, TRENDING, WORLD, CULTURE, EAST_ASIA, FeedKey(FeedKind.TAG, "japan")} <= set(
        first.published
    )
    before = mtimes(service)
    assert len(before) == len(first.published) * 9  # 3 formats, each with .gz and .br
    clock.advance(seconds=2)
    post(client, writer_token, title="Harbour Cranes Return")
    report = service.publisher.run()
    touched = {ALL, WORLD, EAST_ASIA, FeedKey(FeedKind.TAG, "southkorea")}
    touched |= {FeedKey(FeedKind.TAG, "shipping"), FeedKey(FeedKind.AUTHOR, "min-ji-park")}
    assert set(report.published) == touched
    assert report.failed == () and report.removed == ()
    for fmt_titles in titles(service, ALL).values():
        assert fmt_titles == ["Harbour Cranes Return", "Lanterns Over the River"]
    for fmt_titles in titles(service, FeedKey(FeedKind.TAG, "shipping")).values():
        assert fmt_titles == ["Harbour Cranes Return"]
    after = mtimes(service)
    touched_files = {
        path
        for key in touched
        for fmt in FeedFormat
        for path in after
        if path.name.startswith(tree_file(service, key, fmt).name)
        and path.parent == tree_file(service, key, fmt).parent
    }
    untouched = {path: mtime for path, mtime in before.items() if path not in touched_files}
    assert untouched and all(after[path] == mtime for path, mtime in untouched.items())
    assert all(after[path] != before.get(path) for path in touched_files)
    # Nothing moved since: a round publishes nothing.
    again = service.publisher.run()
    assert again.published == () and again.removed == ()


def test_every_variant_holds_the_identity_bytes_with_the_feeds_last_modified(
    service: Service, client: FlaskClient, writer_token: dict[str, str]
) -> None:
    post(client, writer_token)
    service.publisher.run()
    for fmt in FeedFormat:
        path = tree_file(service, WORLD, fmt)
        body = path.read_bytes()
        assert gzip.decompress(path.with_name(path.name + ".gz").read_bytes()) == body
        assert brotli.decompress(path.with_name(path.name + ".br").read_bytes()) == body
        stamps = {p.stat().st_mtime for p in (path, *path.parent.glob(path.name + ".*"))}
        assert len(stamps) == 1 and float(stamps.pop()).is_integer()
    atom = ET.parse(tree_file(service, WORLD, "atom")).getroot()
    updated = datetime.fromisoformat(atom.findtext(f"{ATOM}updated") or "")
    rss = ET.parse(tree_file(service, WORLD, "rss")).getroot()
    build = parsedate_to_datetime(rss.findtext("channel/lastBuildDate") or "")
    mtime = tree_file(service, WORLD, "rss").stat().st_mtime
    assert updated.timestamp() == build.timestamp() == mtime
    # No temporary file is left behind.
    assert not [p for p in service.publisher.tree.root.rglob(".*.tmp")]


def test_a_scheduled_article_is_published_when_it_comes_due(
    service: Service, client: FlaskClient, writer_token: dict[str, str], clock: FakeClock
) -> None:
    post(client, writer_token, title="Old News")
    due = clock.now + timedelta(minutes=30)
    post(client, writer_token, title="Embargoed", published_at=due.isoformat(),
         hashtags=["Eclipse"], url="https://news.example.com/eclipse")  # fmt: skip
    service.publisher.run()
    assert titles(service, ALL)["atom"] == ["Old News"]
    # The tag only a scheduled article carries has no feed yet: its name would leak.
    assert service.publisher.tree.path(FeedKey(FeedKind.TAG, "eclipse"), FeedFormat.RSS)
    assert not tree_file(service, FeedKey(FeedKind.TAG, "eclipse"), "rss").exists()
    clock.advance(minutes=31)
    report = service.publisher.run()
    assert {ALL, WORLD, FeedKey(FeedKind.TAG, "eclipse")} <= set(report.published)
    for fmt_titles in titles(service, ALL).values():
        assert fmt_titles == ["Embargoed", "Old News"]
    assert titles(service, FeedKey(FeedKind.TAG, "eclipse"))["json"] == ["Embargoed"]


def test_a_withdrawal_removes_the_item_and_a_deleted_tag_feed_its_files(
    service: Service,
    client: FlaskClient,
    writer_token: dict[str, str],
    admin_token: dict[str, str],
    clock: FakeClock,
) -> None:
    gone = post(client, writer_token, title="Retracted Story")
    post(client, writer_token, title="Standing Story", url="https://news.example.com/standing")
    service.publisher.run()
    assert titles(service, WORLD)["rss"] == ["Standing Story", "Retracted Story"]
    clock.advance(seconds=5)
    assert client.delete(f"/api/v1/articles/{gone['id']}", headers=admin_token).status_code == 200
    client.post(
        "/api/v1/tag-feeds",
        json={"slug": "doomed", "title": "Doomed", "any_of": ["Shipping"]},
        headers=admin_token,
    )
    service.publisher.run()
    doomed = FeedKey(FeedKind.CUSTOM, "doomed")
    assert tree_file(service, doomed, "json").exists()
    assert client.delete("/api/v1/tag-feeds/doomed", headers=admin_token).status_code == 204
    report = service.publisher.run()
    assert doomed in report.removed
    assert not list(tree_file(service, doomed, "json").parent.glob("doomed.*"))
    for fmt_titles in titles(service, WORLD).values():
        assert fmt_titles == ["Standing Story"]


def test_hooks_get_each_published_file_with_its_validators(
    service: Service, client: FlaskClient, writer_token: dict[str, str]
) -> None:
    calls: list[tuple[FeedKey, FeedFormat, Path, str, datetime]] = []
    service.publisher.add_hook(lambda *args: calls.append(args))

    def broken(*args: object) -> None:
        raise RuntimeError("a subscriber fell over")

    service.publisher.add_hook(broken)
    post(client, writer_token)
    report = service.publisher.run()
    assert len(calls) == 3 * len(report.published)
    for key, fmt, path, etag, last_modified in calls:
        assert path == tree_file(service, key, fmt)
        stat = path.stat()
        assert etag == etag_for(int(stat.st_mtime), stat.st_size)
        assert last_modified.timestamp() == stat.st_mtime


def run_bounded(
    service: Service, monkeypatch: pytest.MonkeyPatch, release: threading.Event
) -> PublishReport:
    """One round with renders bounded to 3 s, then `release` set (a stuck render ends).

    Long enough that the other feeds' renders finish within it on a loaded machine;
    the stuck one waits for ever until released."""
    bounded = service.settings.with_overrides({"publish_timeout_seconds": 3.0})
    monkeypatch.setattr(service.publisher.ctx, "settings", bounded)
    try:
        return service.publisher.run()
    finally:
        release.set()


def test_a_render_past_its_time_bound_fails_alone(
    service: Service,
    client: FlaskClient,
    writer_token: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    post(client, writer_token)
    release = threading.Event()
    real: Callable[..., Any] = FeedService.render_all

    def stuck(self: FeedService, key: FeedKey, after: datetime | None = None) -> Any:
        if key == WORLD:
            release.wait()
        return real(self, key, after)

    monkeypatch.setattr(FeedService, "render_all", stuck)
    report = run_bounded(service, monkeypatch, release)
    assert [key for key, _ in report.failed] == [WORLD]
    assert "longer than 3 s" in report.failed[0][1]
    assert ALL in report.published and EAST_ASIA in report.published
    assert not tree_file(service, WORLD, "rss").exists()
    # The next round tries it again.
    assert WORLD in service.publisher.run().published


def test_a_new_hashtag_author_and_tag_feed_publish_in_the_next_round_without_discovery(
    service: Service,
    client: FlaskClient,
    writer_token: dict[str, str],
    admin_token: dict[str, str],
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    post(client, writer_token, title="Old News")
    service.publisher.run()  # discovers every feed there is
    clock.advance(seconds=2)
    post(client, writer_token, title="Aurora Over Tromso", author="Ingrid Solheim",
         hashtags=["NorthernLights"], url="https://news.example.com/aurora")  # fmt: skip
    created = client.post(
        "/api/v1/tag-feeds",
        json={"slug": "polar", "title": "Polar", "any_of": ["NorthernLights"]},
        headers=admin_token,
    )
    assert created.status_code == 201, created.get_json()
    tag = FeedKey(FeedKind.TAG, "northernlights")
    author = FeedKey(FeedKind.AUTHOR, "ingrid-solheim")
    polar = FeedKey(FeedKind.CUSTOM, "polar")
    report = service.publisher.run(discover=False)
    assert {tag, author, polar, ALL, WORLD} <= set(report.published)
    assert report.failed == () and report.removed == ()
    for key in (tag, author, polar):
        assert titles(service, key) == {
            fmt: ["Aurora Over Tromso"] for fmt in ("atom", "rss", "json")
        }
    # Their archives come with a first publish.
    assert any(name.startswith(f"{tag.storage_key}/") for name in report.archives)
    # A feed's row that names nothing that exists (a deleted tag feed, a hashtag only a
    # scheduled article carries) is looked at once, not published, and not again.
    assert client.delete("/api/v1/tag-feeds/polar", headers=admin_token).status_code == 204
    later = clock.now + timedelta(hours=1)
    post(client, writer_token, title="Next Eclipse", published_at=later.isoformat(),
         hashtags=["Umbra"], url="https://news.example.com/umbra")  # fmt: skip
    report = service.publisher.run(discover=False)
    assert polar in report.removed
    umbra = FeedKey(FeedKind.TAG, "umbra")
    assert umbra not in report.published and not tree_file(service, umbra, "rss").exists()
    looked: list[FeedKey] = []
    real = service.feeds.identify

    def counting(key: FeedKey, now: datetime) -> Any:
        looked.append(key)
        return real(key, now)

    monkeypatch.setattr(service.feeds, "identify", counting)
    for title in ("Quiet Day", "Another Quiet Day"):
        looked.clear()
        clock.advance(seconds=2)
        post(client, writer_token, title=title, url=f"https://news.example.com/{len(title)}")
        report = service.publisher.run(discover=False)
        assert report.published and umbra not in report.published
    assert polar not in looked and umbra not in looked
    # Once the scheduled article comes due, its hashtag is published without discovery.
    clock.advance(hours=1, seconds=1)
    report = service.publisher.run(discover=False)
    assert umbra in report.published
    assert titles(service, umbra)["json"] == ["Next Eclipse"]


def test_new_feeds_beyond_the_rounds_share_wait_for_the_next_round(
    service: Service, client: FlaskClient, writer_token: dict[str, str]
) -> None:
    post(client, writer_token)
    first = service.publisher.run(new_limit=3)
    assert first.published == (ALL, TRENDING, FeedKey(FeedKind.SECTION, "business"))
    assert first.waiting > 0
    rest = service.publisher.run()
    assert rest.waiting == 0 and len(rest.published) == first.waiting


def test_publish_command_reports_and_all_rewrites_everything(
    service: Service, client: FlaskClient, writer_token: dict[str, str], runner: FlaskCliRunner
) -> None:
    post(client, writer_token)
    result = runner.invoke(args=["feeds", "publish", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert "feed:all" not in data["published"] and "all:" in data["published"]
    assert data["failed"] == [] and data["waiting"] == 0
    quiet = json.loads(runner.invoke(args=["feeds", "publish", "--json"]).output)
    assert quiet["published"] == []
    every = json.loads(runner.invoke(args=["feeds", "publish", "--all", "--json"]).output)
    assert sorted(every["published"]) == sorted(data["published"])
    text = runner.invoke(args=["feeds", "publish"]).output
    assert text.startswith("published 0 feeds, 0 unchanged, 0 removed, 0 failed")


def test_a_wiped_tree_is_published_again_and_the_heartbeat_says_when(
    service: Service, client: FlaskClient, writer_token: dict[str, str], clock: FakeClock
) -> None:
    post(client, writer_token)
    service.publisher.run()
    status = service.publisher.status()
    assert status.checked_at == clock.now and status.error is None
    for path in list((service.publisher.tree.root / "feeds").rglob("*.json")):
        os.unlink(path)
    # A publisher starting on a tree whose files went missing writes them again, even
    # though nothing moved.
    clock.advance(seconds=1)
    restarted = Publisher(service.ctx, service.feeds)
    report = restarted.run()
    assert ALL in report.published and tree_file(service, ALL, "json").exists()
    assert restarted.run().published == ()


def test_trending_is_published_again_only_when_its_sliding_window_changes_it(
    service: Service, client: FlaskClient, writer_token: dict[str, str], clock: FakeClock
) -> None:
    hour_ago = (clock.now - timedelta(hours=1)).isoformat()
    post(client, writer_token, title="Much Read", views=500, published_at=hour_ago)
    service.publisher.run()
    trending = tree_file(service, TRENDING, "json")
    assert titles(service, TRENDING)["json"] == ["Much Read"]
    stamp = trending.stat().st_mtime_ns
    # The window slides past a bucket boundary, the ranking stays: the files stay.
    clock.advance(seconds=service.settings.trending_refresh_seconds + 1)
    report = service.publisher.run()
    assert TRENDING in report.unchanged and TRENDING not in report.published
    assert trending.stat().st_mtime_ns == stamp
    # Once the article has left the window, trending is published without it.
    clock.advance(hours=service.settings.trending_window_hours)
    report = service.publisher.run()
    assert TRENDING in report.published
    assert titles(service, TRENDING)["json"] == []


def test_in_the_web_process_a_write_is_published_without_waiting_a_round(
    database_url: str, clock: FakeClock
) -> None:
    app = make_app(database_url, clock, publish_interval_seconds=3600)
    svc: Service = app.extensions["feeds"]
    client = app.test_client()
    token = {"Authorization": f"Bearer {svc.tokens.create('desk', ('articles:write',))}"}
    loop = PublishLoop(svc)
    loop.start(wake_on_commit=True)
    try:
        first = tree_file(svc, ALL, "rss")
        # The first round runs at start; the next is an hour away unless a write wakes it.
        assert wait_until(lambda: svc.publisher.status().checked_at is not None)
        assert first.exists()
        post(client, token, title="Straight To The Tree")
        assert wait_until(lambda: b"Straight To The Tree" in first.read_bytes())
    finally:
        loop.stop()
        svc.ctx.store.dispose()


def wait_until(condition: Callable[[], bool]) -> bool:
    """Poll a condition for a while (generously: the machine may be busy)."""
    for _ in range(3000):
        if condition():
            return True
        time.sleep(0.01)
    return condition()
