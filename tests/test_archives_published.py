"""Monthly archives published into the tree: exactly the months a write touched."""

from __future__ import annotations

import gzip
import json
import threading
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import brotli
import pytest
from flask.testing import FlaskClient
from sqlalchemy import event

from feeds.models import FeedFormat, FeedKey, FeedKind
from feeds.service import Service
from feeds.service.archives import ArchiveService
from feeds.service.feedkeys import ALL, query_for
from feeds.store import monthquery
from tests.conftest import FakeClock
from tests.schemas import validate_atom, validate_jsonfeed
from tests.test_archives import DATES, NOW, post_story
from tests.test_publish import run_bounded

ATOM = "{http://www.w3.org/2005/Atom}"
EVEN = FeedKey(FeedKind.TAG, "even")


@pytest.fixture
def stories(
    client: FlaskClient, admin_token: dict[str, str], clock: FakeClock, service: Service
) -> list[dict[str, Any]]:
    """Six articles over five months, published (the archives with them)."""
    clock.now = NOW
    made = [post_story(client, admin_token, n, when) for n, when in enumerate(DATES)]
    report = service.publisher.run()
    assert {"all:/2025-11", "all:/2026-03", "tag:even/2026-02"} <= set(report.archives)
    clock.advance(minutes=5)
    return made


def archive_mtimes(service: Service) -> dict[Path, int]:
    root = service.publisher.tree.root / "feeds"
    return {
        path: path.stat().st_mtime_ns
        for path in root.rglob("*")
        if path.is_file() and "archive" in path.relative_to(root).parts[:-1]
    }


def changed_months(before: dict[Path, int], after: dict[Path, int]) -> set[str]:
    """The months whose files were written, added or removed between two listings."""
    paths = set(before) | set(after)
    return {path.name[:7] for path in paths if before.get(path) != after.get(path)}


def titles(service: Service, key: FeedKey, month: str) -> dict[str, list[str]]:
    """Item titles of each published format of one month, parsed back from the files."""
    tree = service.publisher.tree
    found: dict[str, list[str]] = {}
    for fmt in FeedFormat:
        path = tree.archive_path(key, month, fmt)
        assert path is not None
        if not path.exists():
            continue
        if fmt is FeedFormat.JSON:
            found["json"] = [i["title"] for i in json.loads(path.read_bytes())["items"]]
        elif fmt is FeedFormat.ATOM:
            root = ET.parse(path).getroot()
            found["atom"] = [e.findtext(f"{ATOM}title") or "" for e in root.iter(f"{ATOM}entry")]
        else:
            root = ET.parse(path).getroot()
            found["rss"] = [i.findtext("title") or "" for i in root.iter("item")]
    return found


def test_an_article_write_publishes_its_month_and_no_other(
    service: Service, client: FlaskClient, admin_token: dict[str, str], clock: FakeClock,
    stories: list[dict[str, Any]],
) -> None:  # fmt: skip
    before = archive_mtimes(service)
    post_story(client, admin_token, 6, "2026-02-20T08:00:00+00:00")
    report = service.publisher.run()
    assert {"all:/2026-02", "tag:even/2026-02", "tag:archive/2026-02"} <= set(report.archives)
    assert {name.rsplit("/", 1)[1] for name in report.archives} == {"2026-02"}
    after = archive_mtimes(service)
    assert changed_months(before, after) == {"2026-02"}
    for fmt_titles in titles(service, ALL, "2026-02").values():
        assert fmt_titles == ["Story 6", "Story 4"]
    assert len(titles(service, ALL, "2026-02")) == 3
    for fmt in FeedFormat:  # each format with its compressed siblings, dated alike
        path = service.publisher.tree.archive_path(ALL, "2026-02", fmt)
        assert path is not None
        body = path.read_bytes()
        assert gzip.decompress(path.with_name(path.name + ".gz").read_bytes()) == body
        assert brotli.decompress(path.with_name(path.name + ".br").read_bytes()) == body
        stamps = {p.stat().st_mtime for p in (path, *path.parent.glob(path.name + ".*"))}
        assert len(stamps) == 1
    atom = ET.parse(service.publisher.tree.root / "feeds/all/archive/2026-02.atom").getroot()
    updated = datetime.fromisoformat(atom.findtext(f"{ATOM}updated") or "")
    assert updated.timestamp() == stamps.pop()
    # Nothing moved since: the next round writes no archive.
    assert service.publisher.run().archives == ()
    assert archive_mtimes(service) == after


def test_an_edit_moving_an_article_to_another_month_republishes_both(
    service: Service, client: FlaskClient, admin_token: dict[str, str], clock: FakeClock,
    stories: list[dict[str, Any]],
) -> None:  # fmt: skip
    extra = post_story(client, admin_token, 6, "2026-02-20T08:00:00+00:00")
    service.publisher.run()
    clock.advance(minutes=5)
    before = archive_mtimes(service)
    moved = client.patch(
        f"/api/v1/articles/{extra['id']}",
        json={"published_at": "2025-12-15T08:00:00+00:00"},
        headers=admin_token,
    )
    assert moved.status_code == 200, moved.data
    service.publisher.run()
    assert changed_months(before, archive_mtimes(service)) == {"2026-02", "2025-12"}
    for fmt_titles in titles(service, ALL, "2026-02").values():
        assert fmt_titles == ["Story 4"]
    for fmt_titles in titles(service, ALL, "2025-12").values():
        assert fmt_titles == ["Story 6", "Story 2"]


def test_a_withdrawal_republishes_its_month_and_an_emptied_month_goes(
    service: Service, client: FlaskClient, admin_token: dict[str, str], clock: FakeClock,
    stories: list[dict[str, Any]],
) -> None:  # fmt: skip
    before = archive_mtimes(service)
    response = client.delete(f"/api/v1/articles/{stories[1]['id']}", headers=admin_token)
    assert response.status_code == 200
    service.publisher.run()
    assert changed_months(before, archive_mtimes(service)) == {"2025-11"}
    for fmt_titles in titles(service, ALL, "2025-11").values():
        assert fmt_titles == ["Story 0"]
    # January's only article withdrawn: its month goes, and the months either side now
    # link to each other.
    clock.advance(minutes=5)
    before = archive_mtimes(service)
    assert client.delete(f"/api/v1/articles/{stories[3]['id']}", headers=admin_token).is_json
    report = service.publisher.run()
    assert "all:/2026-01" in report.archives_removed
    assert titles(service, ALL, "2026-01") == {}
    assert changed_months(before, archive_mtimes(service)) == {"2025-12", "2026-01", "2026-02"}
    months, _ = walk(service, "all.atom")
    assert months == ["2026-03", "2026-02", "2025-12", "2025-11"]


def tree_path(service: Service, url: str) -> Path:
    """The published file a feed URL names (the path nginx maps it to)."""
    return service.publisher.tree.root / unquote(urlsplit(url).path).lstrip("/")


def links(path: Path) -> tuple[dict[str, str], list[str]]:
    """(links by rel, item ids) of a published file, in any of the three formats; Atom
    and JSON Feed files are checked against their schemas as every other feed is."""
    body = path.read_bytes()
    if path.suffix == ".atom":
        validate_atom(body)
    if path.suffix == ".json":
        validate_jsonfeed(body)
        data = json.loads(body)
        found = {k: v for k, v in data.get("_archive", {}).items() if isinstance(v, str)}
        found = {k.replace("_", "-"): v for k, v in found.items()}
        return {**found, "self": data["feed_url"]}, [item["id"] for item in data["items"]]
    root = ET.fromstring(body)
    if path.suffix == ".atom":
        rels = {e.get("rel") or "": e.get("href") or "" for e in root.findall(f"{ATOM}link")}
        return rels, [e.findtext(f"{ATOM}id") or "" for e in root.iter(f"{ATOM}entry")]
    channel = root.find("channel")
    assert channel is not None
    rels = {e.get("rel") or "": e.get("href") or "" for e in channel.findall(f"{ATOM}link")}
    return rels, [i.findtext("guid") or "" for i in channel.iter("item")]


def walk(service: Service, feed: str) -> tuple[list[str], list[str]]:
    """(months, item ids) met following prev-archive from the published current feed,
    reading only published files."""
    rels, _ = links(service.publisher.tree.root / "feeds" / feed)
    url = rels.get("prev-archive")
    months: list[str] = []
    ids: list[str] = []
    while url:
        rels, items = links(tree_path(service, url))
        assert rels["self"] == url
        months.append(url.rsplit("/", 1)[1][:7])
        ids.extend(items)
        url = rels.get("prev-archive")
    return months, ids


@pytest.mark.parametrize("fmt", [f.value for f in FeedFormat])
def test_walking_the_published_files_meets_every_article_once_across_a_new_month(
    service: Service, client: FlaskClient, admin_token: dict[str, str], clock: FakeClock,
    stories: list[dict[str, Any]], fmt: str,
) -> None:  # fmt: skip
    guids = [story["guid"] for story in stories]
    months, ids = walk(service, f"all.{fmt}")
    assert months == ["2026-03", "2026-02", "2026-01", "2025-12", "2025-11"]
    assert Counter(ids) == Counter(guids)
    months, ids = walk(service, f"tags/even.{fmt}")
    assert months == ["2026-02", "2025-12", "2025-11"]
    assert Counter(ids) == Counter(guids[0::2])
    # A new month begins with an article: its archive appears, March links to it, and
    # the current feed's prev-archive moves to it.
    clock.now = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)
    guids.append(post_story(client, admin_token, 7, "2026-04-02T08:00:00+00:00")["guid"])
    before = archive_mtimes(service)
    service.publisher.run()
    assert changed_months(before, archive_mtimes(service)) == {"2026-04", "2026-03"}
    months, ids = walk(service, f"all.{fmt}")
    assert months == ["2026-04", "2026-03", "2026-02", "2026-01", "2025-12", "2025-11"]
    assert Counter(ids) == Counter(guids)
    march, _ = links(service.publisher.tree.root / f"feeds/all/archive/2026-03.{fmt}")
    assert march["next-archive"] == f"http://localhost/feeds/all/archive/2026-04.{fmt}"


def test_a_scheduled_article_publishes_its_month_when_it_comes_due(
    service: Service, client: FlaskClient, admin_token: dict[str, str], clock: FakeClock,
    stories: list[dict[str, Any]],
) -> None:  # fmt: skip
    due = clock.now + timedelta(hours=1)
    post_story(client, admin_token, 8, due.isoformat())
    service.publisher.run()
    assert titles(service, ALL, "2026-03")["atom"] == ["Story 5"]
    clock.advance(hours=2)
    report = service.publisher.run()
    assert "all:/2026-03" in report.archives
    for fmt_titles in titles(service, ALL, "2026-03").values():
        assert fmt_titles == ["Story 8", "Story 5"]


def test_publish_all_repairs_every_month_and_removes_months_gone(
    service: Service, stories: list[dict[str, Any]]
) -> None:
    root = service.publisher.tree.root / "feeds"
    stray = root / "all/archive/2024-01.rss"
    stray.write_bytes(b"left from an earlier store")
    broken = root / "tags/even/archive/2025-12.json"
    broken.write_bytes(b"")
    before = archive_mtimes(service)
    report = service.publisher.run(everything=True)
    assert report.archives == ("tag:even/2025-12",)  # the others hold the same bytes
    assert report.archives_removed == ("all:/2024-01",) and not stray.exists()
    assert json.loads(broken.read_bytes())["_archive"]["archive"] is True
    assert changed_months(before, archive_mtimes(service)) == {"2024-01", "2025-12"}
    assert sorted(p.name for p in (root / "tags/even/archive").glob("*.rss")) == [
        "2025-11.rss", "2025-12.rss", "2026-02.rss",
    ]  # fmt: skip


def test_a_feeds_months_read_its_name_tags_and_sections_once(
    service: Service, stories: list[dict[str, Any]]
) -> None:
    """What does not change from month to month is read once per feed, not per month."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.lower().replace('"', "").split()))

    engine = service.ctx.store.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        report = service.publisher.archives.run([ALL, EVEN], [ALL, EVEN])
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert report.failed == []
    months = {feed: len(service.archives.months(feed)) for feed in (ALL, EVEN)}
    assert months == {ALL: 5, EVEN: 3}
    # The hashtag's id: once for its published walk, once for its withdrawn one.
    tag_ids = [s for s in statements if s.startswith("select hashtags.key, hashtags.id")]
    assert len(tag_ids) == 2
    # The sections' titles (on every item) and the feed's name: once per feed.
    assert len([s for s in statements if "from sections" in s]) == 2
    assert len([s for s in statements if s.startswith("select hashtags.id, hashtags.public")]) == 1


def test_generated_articles_republish_the_months_of_the_feeds_they_touch(
    service: Service, clock: FakeClock, stories: list[dict[str, Any]]
) -> None:
    service.demo.generate(100, seed=3)
    service.publisher.run()
    now = service.ctx.now()
    with service.ctx.store.read() as conn:
        spec = query_for(ALL, service.settings, now)
        visible = monthquery.between(conn, spec, datetime(1970, 1, 1, tzinfo=UTC), now)
    months, ids = walk(service, "all.json")
    assert Counter(ids) == Counter(article.guid for article in visible)
    assert len(months) > 12 and months == sorted(months, reverse=True)


@pytest.mark.parametrize(
    ("stage", "failed"),
    [
        # One month's render overruns: that month fails alone.
        ("render_month", "all:/2026-02"),
        # What a feed's months share is read once, within the feed's time bound too.
        ("feed_months", "all:"),
    ],
)
def test_archive_work_past_its_time_bound_fails_alone_and_is_retried(
    service: Service, client: FlaskClient, admin_token: dict[str, str],
    stories: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, stage: str, failed: str,
) -> None:  # fmt: skip
    release = threading.Event()
    real: Callable[..., Any] = getattr(ArchiveService, stage)

    def stuck(self: ArchiveService, key: FeedKey, *args: Any) -> Any:
        if key == ALL and (stage == "feed_months" or args[0] == "2026-02"):
            release.wait()
        return real(self, key, *args)

    post_story(client, admin_token, 6, "2026-02-20T08:00:00+00:00")
    monkeypatch.setattr(ArchiveService, stage, stuck)
    report = run_bounded(service, monkeypatch, release)
    assert [name for name, _ in report.archives_failed] == [failed]
    assert "longer than 3 s" in report.archives_failed[0][1]
    assert "tag:even/2026-02" in report.archives  # the other feeds' months went on
    assert titles(service, ALL, "2026-02")["rss"] == ["Story 4"]
    # The next round renders that month again, and only it: the months the feed wanted.
    again = service.publisher.run()
    assert again.archives == ("all:/2026-02",) and again.archives_failed == ()
    assert titles(service, ALL, "2026-02")["rss"] == ["Story 6", "Story 4"]
