"""config/nginx.example.conf in front of the app: real nginx, a real WSGI server, real files.

nginx serves the published tree (`<publish_dir>/feeds/...` with `.gz` and `.br`
siblings, each stamped with the feed's Last-Modified) and sends everything else to the
app. Each check reads nginx's answer back: the bytes are the published file's, the
validators are the ones computed from that file, and conditional requests give 304.
A WSGI wrapper marks every answer the app made, so the tests can tell which of the two
answered. nginx must be installed (`.ci/run` installs it): this test fails, it does not
skip, without it.
"""

from __future__ import annotations

import gzip
import http.client
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import brotli
import pytest
from flask import Flask
from lxml import etree
from werkzeug.serving import BaseWSGIServer

from feeds.models import FeedFormat
from feeds.service import Service
from tests.conftest import FakeClock, make_app, serving
from tests.nginx_server import (
    Nginx,
    NginxMissing,
    Site,
    free_port,
    nginx_binary,
)

MARK = "X-Test-Answered-By"
CONTENT_TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}
VARIANTS = {"identity": "", "gzip": ".gz", "br": ".br"}
# Headers of the connection or the server, not of the representation.
HOP_HEADERS = {"date", "server", "connection", "keep-alive", "transfer-encoding", MARK.lower()}


@pytest.fixture(scope="module", autouse=True)
def _nginx_installed() -> None:
    try:
        nginx_binary()
    except NginxMissing as exc:
        pytest.fail(str(exc))


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def from_app(self) -> bool:
        return self.headers.get(MARK.lower()) == "app"

    def representation(self) -> dict[str, str]:
        return {k: v for k, v in self.headers.items() if k not in HOP_HEADERS}


def fetch(base: str, target: str, headers: dict[str, str] | None = None) -> Answer:
    """One GET with exactly these headers; the body is left as sent (not decompressed)."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        conn.request("GET", target, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        seen: dict[str, str] = {}
        for name, value in response.getheaders():
            key = name.lower()
            seen[key] = f"{seen[key]}, {value}" if key in seen else value
        return Answer(response.status, seen, body)
    finally:
        conn.close()


def marked(app: Callable[..., Any]) -> Callable[..., Any]:
    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, (MARK, "app")], exc_info)

        return app(environ, start)

    return wsgi


@dataclass
class Edge:
    app: Flask
    nginx: Nginx
    app_url: str
    publish_dir: Path

    @property
    def service(self) -> Service:
        svc: Service = self.app.extensions["feeds"]
        return svc

    def feed_targets(self) -> list[str]:
        """Every feed URL of the OPML (read through nginx), as request targets."""
        opml = fetch(self.nginx.url, "/feeds.opml")
        assert opml.status == 200 and opml.from_app
        root = etree.fromstring(opml.body)
        urls = [o.get("xmlUrl") for o in root.iter("outline") if o.get("xmlUrl")]
        assert urls
        targets = []
        for url in urls:
            assert url.startswith(self.nginx.url + "/"), url
            targets.append(url[len(self.nginx.url) :])
        return targets


@pytest.fixture
def edge(
    database_url: str, clock: FakeClock, listener: BaseWSGIServer, tmp_path: Path
) -> Iterator[Edge]:
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    publish_dir = tmp_path / "published"
    app = make_app(
        database_url,
        clock,
        load_demo=True,
        public_url=public + "/",
        proxy_hops=1,
        publish_dir=str(publish_dir),
        # The poller counts' flushing thread outlives the app: it must not write into a
        # later test's store.
        poller_flush_seconds=86_400,
    )
    svc: Service = app.extensions["feeds"]
    svc.publisher.run(everything=True)
    site = Site(
        port=port,
        upstream=f"127.0.0.1:{listener.server_port}",
        publish_dir=publish_dir,
        public_url=public,
        hub=public + "/websub",
        max_age=svc.settings.cache_max_age,
    )
    with (
        serving(marked(app), listener) as app_url,
        Nginx(site, tmp_path / "nginx") as nginx,
    ):
        yield Edge(app, nginx, app_url, publish_dir)
    svc.ctx.store.dispose()


def file_validators(path: Path) -> tuple[str, str]:
    """ETag and Last-Modified as the contract defines them for one file."""
    info = path.stat()
    mtime = int(info.st_mtime)
    etag = f'"{mtime:x}-{info.st_size:x}"'
    return etag, format_datetime(datetime.fromtimestamp(mtime, UTC), usegmt=True)


def test_nginx_serves_every_published_feed_with_its_validators(edge: Edge) -> None:
    targets = edge.feed_targets()
    assert any("/tags/" in t and "%" in t for t in targets), "no Unicode hashtag in the demo"
    for target in targets:
        fmt = target.rsplit(".", 1)[1]
        identity_file = edge.publish_dir / unquote(target.lstrip("/"))
        identity = identity_file.read_bytes()
        for coding, suffix in VARIANTS.items():
            variant = identity_file.with_name(identity_file.name + suffix)
            answer = fetch(edge.nginx.url, target, {"Accept-Encoding": coding})
            assert answer.status == 200, (target, coding)
            assert not answer.from_app, f"{target} ({coding}) went to the app"
            assert answer.body == variant.read_bytes(), (target, coding)
            decoded = {"identity": bytes, "gzip": gzip.decompress, "br": brotli.decompress}
            assert decoded[coding](answer.body) == identity
            etag, last_modified = file_validators(variant)
            headers = answer.headers
            assert headers["etag"] == etag
            assert headers["last-modified"] == last_modified
            assert headers.get("content-encoding") == (None if coding == "identity" else coding)
            assert headers["content-type"] == CONTENT_TYPES[fmt]
            assert headers["cache-control"].startswith(
                f"public, max-age={edge.service.settings.cache_max_age}"
            )
            assert headers["vary"] == "Accept-Encoding, Accept"
            assert headers["access-control-allow-origin"] == "*"
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["link"] == (
                f'<{edge.nginx.url}/websub>; rel="hub", <{edge.nginx.url}{target}>; rel="self"'
            )

            again = fetch(
                edge.nginx.url, target, {"Accept-Encoding": coding, "If-None-Match": etag}
            )
            assert (again.status, again.body, again.headers["etag"]) == (304, b"", etag)
            since = fetch(
                edge.nginx.url,
                target,
                {"Accept-Encoding": coding, "If-Modified-Since": last_modified},
            )
            assert (since.status, since.body) == (304, b"")
            later = format_datetime(
                parsedate_to_datetime(last_modified) + timedelta(hours=1), usegmt=True
            )
            assert fetch(edge.nginx.url, target, {"If-Modified-Since": later}).status == 304
            other = fetch(edge.nginx.url, target, {"If-None-Match": '"0-0"'})
            assert other.status == 200


def test_what_is_not_a_published_file_goes_to_the_app(edge: Edge) -> None:
    url = edge.nginx.url
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    cases = {
        "a query string": ("/feeds/all.rss?limit=5", {}),
        "a page cursor": ("/feeds/all.atom?before=x", {}),
        "a browser navigating": ("/feeds/all.rss", {"Accept": browser}),
        "another spelling of a tag": ("/feeds/tags/Latest.rss", {}),
        "a compressed sibling by name": ("/feeds/all.rss.gz", {}),
        "the directory": ("/feeds/", {}),
        "the API": ("/api/v1/openapi.json", {}),
    }
    for reason, (target, headers) in cases.items():
        answer = fetch(url, target, headers)
        assert answer.from_app, reason
        assert answer.status < 500, (reason, answer.status)
    assert fetch(url, "/feeds/tags/Latest.rss").status == 301
    assert fetch(url, "/feeds/all.rss.gz").status == 404
    assert fetch(url, "/feeds/all.rss?limit=5").status == 200
    # A feed-reader Accept stays with nginx.
    reader = "application/rss+xml, application/atom+xml;q=0.9, */*;q=0.5"
    assert not fetch(url, "/feeds/all.rss", {"Accept": reader}).from_app

    # A feed that is not (or no longer) a file is the app's to answer.
    (edge.publish_dir / "feeds" / "all.json").unlink()
    answer = fetch(url, "/feeds/all.json")
    assert (answer.status, answer.from_app) == (200, True)


def test_a_compressed_sibling_is_answered_alike_once_its_file_is_gone(edge: Edge) -> None:
    """nginx opens the file a request wants without a stat of the identity file first:
    with only the `.gz` and `.br` left (a removal under way), both answer from them."""
    identity = edge.publish_dir / "feeds" / "all.json"
    identity.unlink()
    for coding, suffix in (("gzip", ".gz"), ("br", ".br")):
        headers = {"Accept-Encoding": coding}
        through_nginx = fetch(edge.nginx.url, "/feeds/all.json", headers)
        from_app = fetch(edge.app_url, "/feeds/all.json", headers)
        assert (through_nginx.status, from_app.status) == (200, 200), coding
        assert not through_nginx.from_app, coding
        sibling = identity.with_name(identity.name + suffix).read_bytes()
        assert through_nginx.body == from_app.body == sibling, coding
        assert through_nginx.representation() == from_app.representation(), coding


def test_a_change_is_visible_through_nginx_after_one_publish(edge: Edge) -> None:
    before = fetch(edge.nginx.url, "/feeds/all.rss")
    edge.service.articles.create(
        {
            "title": "Harbour reopens after the storm",
            "author": "Edge Desk",
            "section": edge.service.directory.listing()[2].key.value,
            "summary": "Ships are moving again.",
            "content_html": "<p>Ships are moving again.</p>",
            "published_at": (edge.service.ctx.now()).isoformat(),
        }
    )
    report = edge.service.publisher.run()
    assert report.published, report
    after = fetch(edge.nginx.url, "/feeds/all.rss")
    assert after.status == 200 and not after.from_app
    titles = [t.text for t in etree.fromstring(after.body).iter("title")]
    assert "Harbour reopens after the storm" in titles
    assert b"Harbour reopens after the storm" not in before.body
    assert after.headers["etag"] != before.headers["etag"]
    assert (
        fetch(edge.nginx.url, "/feeds/all.rss", {"If-None-Match": before.headers["etag"]}).status
        == 200
    )


@pytest.mark.parametrize("fmt", [f.value for f in FeedFormat])
def test_app_and_nginx_give_the_same_bytes_and_headers(edge: Edge, fmt: str) -> None:
    for target in edge.feed_targets():
        if not target.endswith("." + fmt):
            continue
        for coding in VARIANTS:
            headers = {"Accept-Encoding": coding}
            through_nginx = fetch(edge.nginx.url, target, headers)
            from_app = fetch(edge.app_url, target, headers)
            assert not through_nginx.from_app, target
            assert from_app.body == through_nginx.body, (target, coding)
            assert from_app.representation() == through_nginx.representation(), (target, coding)
            etag = through_nginx.headers["etag"]
            for conditional in (
                {"If-None-Match": etag},
                {"If-Modified-Since": through_nginx.headers["last-modified"]},
            ):
                a = fetch(edge.app_url, target, {**headers, **conditional})
                n = fetch(edge.nginx.url, target, {**headers, **conditional})
                assert (a.status, n.status) == (304, 304)
                assert a.representation() == n.representation(), (target, coding, conditional)


def test_archives_are_served_by_nginx_and_the_app_alike(edge: Edge) -> None:
    """A past month (long max-age) and the running one: same bytes, headers and 304s."""
    svc = edge.service
    now = svc.ctx.now()
    old = (now.replace(day=1) - timedelta(days=40)).replace(hour=9, minute=0)
    for title, when in (("Harbour archive story", old), ("Harbour story today", now)):
        svc.articles.create(
            {
                "title": title,
                "author": "Edge Desk",
                "section": "world",
                "summary": "From the archive.",
                "content_html": "<p>From the archive.</p>",
                "published_at": when.isoformat(),
            }
        )
    report = svc.publisher.run()
    past, running = f"{old:%Y-%m}", f"{now:%Y-%m}"
    assert {f"all:/{past}", f"section:world/{running}"} <= set(report.archives)
    settings = svc.settings
    for target, max_age in (
        (f"/feeds/all/archive/{past}.atom", settings.archive_max_age),
        (f"/feeds/sections/world/archive/{past}.rss", settings.archive_max_age),
        (f"/feeds/all/archive/{running}.json", settings.cache_max_age),
    ):
        path = edge.publish_dir / target.lstrip("/")
        for coding, suffix in VARIANTS.items():
            headers = {"Accept-Encoding": coding}
            through_nginx = fetch(edge.nginx.url, target, headers)
            from_app = fetch(edge.app_url, target, headers)
            assert (through_nginx.status, from_app.status) == (200, 200), target
            assert not through_nginx.from_app, target
            variant = path.with_name(path.name + suffix)
            assert through_nginx.body == from_app.body == variant.read_bytes(), (target, coding)
            assert from_app.representation() == through_nginx.representation(), (target, coding)
            etag, last_modified = file_validators(variant)
            assert through_nginx.headers["etag"] == etag
            assert through_nginx.headers["last-modified"] == last_modified
            assert through_nginx.headers["cache-control"].startswith(f"public, max-age={max_age},")
            assert through_nginx.headers["link"].endswith(f'<{edge.nginx.url}{target}>; rel="self"')
            for conditional in ({"If-None-Match": etag}, {"If-Modified-Since": last_modified}):
                a = fetch(edge.app_url, target, {**headers, **conditional})
                n = fetch(edge.nginx.url, target, {**headers, **conditional})
                assert (a.status, n.status) == (304, 304), (target, conditional)
                assert a.representation() == n.representation(), (target, coding, conditional)
    titles = [
        t.text
        for t in etree.fromstring(
            (edge.publish_dir / f"feeds/all/archive/{past}.atom").read_bytes()
        ).iter("{http://www.w3.org/2005/Atom}title")
    ]
    assert "Harbour archive story" in titles


def test_config_values_are_the_ones_operators_change(tmp_path: Path) -> None:
    from tests.nginx_server import render_config

    site = Site(1, "127.0.0.1:2", tmp_path, "https://x.test", "https://x.test/websub", 60)
    text = render_config(site)
    assert "listen 127.0.0.1:1;" in text and "server 127.0.0.1:2;" in text
    assert f"root {tmp_path};" in text and "default 60;" in text
    directives = [line.split("#", 1)[0] for line in text.splitlines()]
    assert not [line for line in directives if "feeds.example.org" in line]
