"""The app's feed routes answer published feeds from the tree: no database, no render."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event

from feeds.models import FeedFormat, FeedKey, FeedKind
from feeds.published import etag_for
from feeds.service import Service
from feeds.service.feedkeys import ALL
from feeds.service.feeds import FeedService
from feeds.web.pollstats import poller_stats
from tests.conftest import article_payload

TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}
SEOUL = "/feeds/tags/%EC%84%9C%EC%9A%B8.json"


@pytest.fixture
def published(service: Service, client: FlaskClient, writer_token: dict[str, str]) -> Service:
    payload = article_payload(hashtags=["SouthKorea", "서울"])
    assert client.post("/api/v1/articles", json=payload, headers=writer_token).status_code == 201
    service.publisher.run()
    return service


def file_of(service: Service, key: FeedKey, fmt: str, suffix: str = "") -> Path:
    path = service.publisher.tree.path(key, FeedFormat(fmt))
    assert path is not None
    return path.with_name(path.name + suffix)


def validators(path: Path) -> tuple[str, str]:
    stat = path.stat()
    mtime = int(stat.st_mtime)
    return etag_for(mtime, stat.st_size), format_datetime(
        datetime.fromtimestamp(mtime, UTC), usegmt=True
    )


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
@pytest.mark.parametrize(("coding", "suffix"), [("identity", ""), ("gzip", ".gz"), ("br", ".br")])
def test_published_bytes_with_the_files_own_validators(
    published: Service, client: FlaskClient, fmt: str, coding: str, suffix: str
) -> None:
    response = client.get(f"/feeds/all.{fmt}", headers={"Accept-Encoding": coding})
    path = file_of(published, ALL, fmt, suffix)
    assert response.status_code == 200
    assert response.data == path.read_bytes()
    etag, last_modified = validators(path)
    assert response.headers["ETag"] == etag
    assert response.headers["Last-Modified"] == last_modified
    assert response.headers["Content-Type"] == TYPES[fmt]
    assert response.headers.get("Content-Encoding") == (None if coding == "identity" else coding)
    assert response.headers["Content-Length"] == str(path.stat().st_size)
    assert response.headers["Cache-Control"] == "public, max-age=300, stale-if-error=86400"
    assert response.headers["Vary"] == "Accept-Encoding, Accept"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Link"] == (
        f'<http://localhost/websub>; rel="hub", <http://localhost/feeds/all.{fmt}>; rel="self"'
    )
    assert "script-src" not in response.headers["Content-Security-Policy"]  # no script at all
    for conditional in ({"If-None-Match": etag}, {"If-Modified-Since": last_modified}):
        again = client.get(f"/feeds/all.{fmt}", headers={"Accept-Encoding": coding, **conditional})
        assert (again.status_code, again.data, again.headers["ETag"]) == (304, b"", etag)
    later = parsedate_to_datetime(last_modified) + timedelta(hours=1)
    since = {"If-Modified-Since": format_datetime(later, usegmt=True)}
    assert client.get(f"/feeds/all.{fmt}", headers=since).status_code == 304
    earlier = {"If-Modified-Since": format_datetime(later - timedelta(days=1), usegmt=True)}
    assert client.get(f"/feeds/all.{fmt}", headers=earlier).status_code == 200
    other = {"If-None-Match": '"0-0"', "If-Modified-Since": last_modified}
    assert client.get(f"/feeds/all.{fmt}", headers=other).status_code == 200
    head = client.head(f"/feeds/all.{fmt}", headers={"Accept-Encoding": coding})
    assert (head.status_code, head.data) == (200, b"")
    assert head.headers["Content-Length"] == str(path.stat().st_size)


def test_a_hit_reads_no_database_and_opens_no_session(
    published: Service, app: Flask, client: FlaskClient
) -> None:
    statements: list[str] = []
    event.listen(
        published.ctx.store.engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_a: statements.append(statement),
    )

    def no_session(*args: Any) -> None:
        raise AssertionError("a published feed opened a session")

    app.session_interface.open_session = no_session  # type: ignore[method-assign]
    renders = published.feeds.renders
    for path in ("/feeds/all.rss", "/feeds/sections/world.atom", SEOUL):
        for coding in ("identity", "gzip", "br"):
            response = client.get(path, headers={"Accept-Encoding": coding})
            assert response.status_code == 200, path
            etag = response.headers["ETag"]
            revalidated = client.get(
                path, headers={"Accept-Encoding": coding, "If-None-Match": etag}
            )
            assert revalidated.status_code == 304
    assert statements == [] and published.feeds.renders == renders
    # The fast path counts its answers for the admin's poller figures.
    with app.app_context():
        counted = [d for d in poller_stats().drain() if d.feed == "all:"]
    assert sum(d.requests for d in counted) == 6
    assert sum(d.not_modified for d in counted) == 3


def test_with_the_store_gone_published_feeds_still_answer(
    published: Service, client: FlaskClient
) -> None:
    published.ctx.store.engine.dispose()
    # An engine whose database cannot be opened: every query fails.
    published.ctx.store.engine = create_engine("sqlite:////nonexistent/folder/feeds.db")
    for path in ("/feeds/all.rss", "/feeds/custom/east-asia.json", SEOUL):
        assert client.get(path).status_code == 200, path
    # What is not published needs the store.
    assert client.get("/feeds/all.rss?limit=3").status_code == 503


def test_what_is_not_published_renders_on_request(
    service: Service, client: FlaskClient, writer_token: dict[str, str]
) -> None:
    client.post("/api/v1/articles", json=article_payload(), headers=writer_token)
    before = client.get("/feeds/all.atom")
    assert before.status_code == 200 and before.headers["ETag"].count("-") == 0  # a hash
    service.publisher.run()
    published = client.get("/feeds/all.atom")
    assert published.headers["ETag"] == validators(file_of(service, ALL, "atom"))[0]
    renders = service.feeds.renders
    paged = client.get("/feeds/all.atom?limit=1")
    assert paged.status_code == 200 and service.feeds.renders == renders + 1
    # A query string the route does not read still gets the published bytes.
    tracked = client.get("/feeds/all.atom?utm_source=reader")
    assert tracked.data == published.data and tracked.headers["ETag"] == published.headers["ETag"]
    # Another spelling of a tag is redirected, never served as a second copy.
    assert client.get("/feeds/tags/SouthKorea.rss").status_code == 301
    assert client.get("/feeds/tags/nosuchtag.rss").status_code == 404


def test_a_browser_goes_to_the_route_not_the_published_file(
    published: Service, client: FlaskClient
) -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = client.get("/feeds/all.rss", headers={"Accept": browser})
    assert response.status_code == 200
    assert response.headers["Content-Type"] != TYPES["rss"]
    reader = client.get("/feeds/all.rss", headers={"Accept": "application/rss+xml, */*"})
    assert reader.data == file_of(published, ALL, "rss").read_bytes()


def test_concurrent_requests_for_a_missing_render_share_one(
    service: Service, client: FlaskClient, writer_token: dict[str, str], monkeypatch: Any
) -> None:
    client.post("/api/v1/articles", json=article_payload(), headers=writer_token)
    release = threading.Event()
    real = FeedService._page

    def held(self: FeedService, *args: Any) -> Any:
        release.wait()
        return real(self, *args)

    monkeypatch.setattr(FeedService, "_page", held)
    request = service.feeds.request(FeedKey(FeedKind.SECTION, "world"), FeedFormat.RSS)
    bodies: list[bytes] = []
    threads = [
        threading.Thread(target=lambda: bodies.append(service.feeds.get(request).body))
        for _ in range(6)
    ]
    renders = service.feeds.renders
    for thread in threads:
        thread.start()
    # Wait (without a deadline being the assertion) until five wait behind the first.
    for _ in range(2000):
        if service.feeds.flights.waiting == 5:
            break
        time.sleep(0.005)
    assert service.feeds.flights.waiting == 5
    release.set()
    for thread in threads:
        thread.join()
    assert service.feeds.renders == renders + 1
    assert len(bodies) == 6 and len(set(bodies)) == 1


def test_a_published_archive_is_answered_from_its_file_without_the_database(
    service: Service, app: Flask, client: FlaskClient, writer_token: dict[str, str]
) -> None:
    now = service.ctx.now()
    old = (now.replace(day=1) - timedelta(days=40)).replace(hour=9)
    for when in (old, now):
        payload = article_payload(hashtags=["서울"], published_at=when.isoformat(),
                                  url=f"https://news.example.com/{when:%Y%m}")  # fmt: skip
        assert client.post("/api/v1/articles", json=payload, headers=writer_token).is_json
    service.publisher.run()
    past, running = f"{old:%Y-%m}", f"{now:%Y-%m}"
    statements: list[str] = []
    event.listen(
        service.ctx.store.engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_a: statements.append(statement),
    )
    renders = service.feeds.renders
    seoul = SEOUL.removesuffix(".json")
    cases = {
        f"/feeds/all/archive/{past}.rss": 86400,
        f"{seoul}/archive/{past}.atom": 86400,
        f"{seoul}/archive/{running}.json": 300,
    }
    for path, max_age in cases.items():
        key = FeedKey(FeedKind.ALL) if "/all/" in path else FeedKey(FeedKind.TAG, "서울")
        month, fmt = path.rsplit("/", 1)[1].split(".")
        file = service.publisher.tree.archive_path(key, month, FeedFormat(fmt))
        assert file is not None
        for query in ("", "?utm_source=x"):  # the fast path, then the route
            response = client.get(path + query, headers={"Accept-Encoding": "identity"})
            assert response.status_code == 200, path
            assert response.data == file.read_bytes()
            etag, last_modified = validators(file)
            assert (response.headers["ETag"], response.headers["Last-Modified"]) == (
                etag,
                last_modified,
            )
            assert response.headers["Cache-Control"].startswith(f"public, max-age={max_age},")
            assert response.headers["Link"].endswith(f'<http://localhost{path}>; rel="self"')
            again = client.get(path + query, headers={"If-None-Match": etag})
            assert again.status_code == 304
    assert statements == [] and service.feeds.renders == renders
    assert client.get("/feeds/all/archive/2026-13.rss").status_code == 404
