"""HTTP behaviour of feed URLs: validators, 304s, compression, headers, the render cache."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import brotli
import feedparser
import pytest
from flask import Flask
from flask.testing import FlaskClient

from feeds.models import FeedFormat
from feeds.service import Service
from feeds.service import feeds as feed_module
from tests.conftest import FakeClock, article_payload, make_app


@pytest.fixture
def render_count(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Counts calls into the real writers (they still run)."""
    counts = {"renders": 0}
    writers = dict(feed_module.WRITERS)

    def counting(writer: Callable[[Any], bytes]) -> Callable[[Any], bytes]:
        def wrapped(doc: Any) -> bytes:
            counts["renders"] += 1
            return writer(doc)

        return wrapped

    for fmt, writer in writers.items():
        monkeypatch.setitem(feed_module.WRITERS, fmt, counting(writer))
    return counts


def test_headers_of_a_feed_response(demo_client: FlaskClient) -> None:
    response = demo_client.get("/feeds/all.rss")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/rss+xml; charset=utf-8"
    etag = response.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert response.headers["Cache-Control"] == "public, max-age=300, stale-if-error=86400"
    assert response.headers["Vary"] == "Accept-Encoding, Accept"
    json_feed = demo_client.get("/feeds/all.json")
    assert json_feed.headers["Vary"] == "Accept-Encoding, Accept"  # its page, for browsers
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    last_modified = parsedate_to_datetime(response.headers["Last-Modified"])
    channel_date = feedparser.parse(response.data).feed.updated_parsed
    assert last_modified == datetime(*channel_date[:6], tzinfo=UTC)


def test_cache_control_follows_the_setting_and_the_ttl(database_url: str, clock: FakeClock) -> None:
    app = make_app(database_url, clock, cache_max_age=1800)
    response = app.test_client().get("/feeds/all.rss")
    assert response.headers["Cache-Control"] == "public, max-age=1800, stale-if-error=86400"
    assert b"<ttl>30</ttl>" in response.data


def test_conditional_get_with_if_none_match(demo_client: FlaskClient) -> None:
    first = demo_client.get("/feeds/all.atom")
    etag = first.headers["ETag"]
    again = demo_client.get("/feeds/all.atom", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    assert again.headers["Cache-Control"] == "public, max-age=300, stale-if-error=86400"
    other = demo_client.get("/feeds/all.atom", headers={"If-None-Match": '"nope"'})
    assert other.status_code == 200
    listed = demo_client.get("/feeds/all.atom", headers={"If-None-Match": f'"x", {etag}'})
    assert listed.status_code == 304


def test_conditional_get_with_if_modified_since(demo_client: FlaskClient) -> None:
    first = demo_client.get("/feeds/all.json")
    last_modified = first.headers["Last-Modified"]
    assert (
        demo_client.get("/feeds/all.json", headers={"If-Modified-Since": last_modified}).status_code
        == 304
    )
    earlier = parsedate_to_datetime(last_modified) - timedelta(seconds=1)
    assert (
        demo_client.get(
            "/feeds/all.json", headers={"If-Modified-Since": format_datetime(earlier, usegmt=True)}
        ).status_code
        == 200
    )


def test_head_gives_headers_without_body(demo_client: FlaskClient) -> None:
    get = demo_client.get("/feeds/sections/world.atom")
    head = demo_client.head("/feeds/sections/world.atom")
    assert head.status_code == 200
    assert head.data == b""
    assert head.headers["ETag"] == get.headers["ETag"]
    assert head.headers["Content-Length"] == str(len(get.data))


@pytest.mark.parametrize("coding", ["gzip", "br"])
def test_compression(demo_client: FlaskClient, coding: str) -> None:
    plain = demo_client.get("/feeds/all.rss")
    packed = demo_client.get("/feeds/all.rss", headers={"Accept-Encoding": coding})
    assert packed.headers["Content-Encoding"] == coding
    decode = gzip.decompress if coding == "gzip" else brotli.decompress
    assert decode(packed.data) == plain.data
    assert len(packed.data) < len(plain.data) / 2
    # Each representation has its own strong ETag; a validator from one still yields 304.
    assert packed.headers["ETag"] != plain.headers["ETag"]
    assert (
        demo_client.get(
            "/feeds/all.rss",
            headers={"Accept-Encoding": coding, "If-None-Match": plain.headers["ETag"]},
        ).status_code
        == 304
    )


def test_brotli_preferred_and_q0_respected(demo_client: FlaskClient) -> None:
    both = demo_client.get("/feeds/all.rss", headers={"Accept-Encoding": "gzip, br"})
    assert both.headers["Content-Encoding"] == "br"
    refused = demo_client.get("/feeds/all.rss", headers={"Accept-Encoding": "br;q=0, gzip"})
    assert refused.headers["Content-Encoding"] == "gzip"


def test_cache_hit_never_renders(demo_client: FlaskClient, render_count: dict[str, int]) -> None:
    demo_client.get("/feeds/all.rss")
    assert render_count["renders"] == 1
    for _ in range(5):
        demo_client.get("/feeds/all.rss")
        demo_client.get("/feeds/all.rss", headers={"Accept-Encoding": "gzip"})
    assert render_count["renders"] == 1
    demo_client.get("/feeds/all.atom")
    assert render_count["renders"] == 2


def test_same_feed_renders_to_identical_bytes(demo_app: Flask) -> None:
    client = demo_app.test_client()
    service: Service = demo_app.extensions["feeds"]
    for fmt in FeedFormat:
        first = client.get(f"/feeds/all.{fmt.value}")
        service.ctx.cache.clear()
        second = client.get(f"/feeds/all.{fmt.value}")
        assert first.data == second.data
        assert first.headers["ETag"] == second.headers["ETag"]


def test_etag_survives_a_restart(demo_app: Flask, database_url: str, clock: FakeClock) -> None:
    before = demo_app.test_client().get("/feeds/custom/east-asia.atom")
    restarted = make_app(database_url, clock)
    after = restarted.test_client().get("/feeds/custom/east-asia.atom")
    assert after.data == before.data
    assert after.headers["ETag"] == before.headers["ETag"]
    assert after.headers["Last-Modified"] == before.headers["Last-Modified"]


def _etags(client: FlaskClient, paths: list[str]) -> dict[str, str]:
    return {path: client.get(path).headers["ETag"] for path in paths}


FEEDS = [
    "/feeds/all.rss",
    "/feeds/sections/world.rss",
    "/feeds/sections/culture.rss",
    "/feeds/tags/japan.rss",
    "/feeds/custom/east-asia.rss",
    "/feeds/custom/green-shipping.rss",
]


def test_an_edit_changes_only_the_feeds_it_touches(
    demo_client: FlaskClient, admin_token: dict[str, str], clock: FakeClock
) -> None:
    before = _etags(demo_client, FEEDS)
    lm_before = demo_client.get("/feeds/sections/culture.rss").headers["Last-Modified"]
    clock.advance(minutes=5)
    listed = demo_client.get(
        "/api/v1/articles?section=culture&q=Orchestra", headers=admin_token
    ).get_json()
    article_id = listed["items"][0]["id"]
    patched = demo_client.patch(
        f"/api/v1/articles/{article_id}", json={"title": "Orchestra Plays Its Own"},
        headers=admin_token,
    )  # fmt: skip
    assert patched.status_code == 200
    after = _etags(demo_client, FEEDS)
    changed = {path for path in FEEDS if before[path] != after[path]}
    assert changed == {"/feeds/all.rss", "/feeds/sections/culture.rss"}
    culture = demo_client.get("/feeds/sections/culture.rss")
    assert parsedate_to_datetime(culture.headers["Last-Modified"]) == clock.now
    assert culture.headers["Last-Modified"] != lm_before
    assert b"Orchestra Plays Its Own" in culture.data


def test_unrelated_writes_do_not_move_validators(
    demo_client: FlaskClient, admin_token: dict[str, str], clock: FakeClock
) -> None:
    first = demo_client.get("/feeds/all.rss")
    clock.advance(minutes=1)
    draft = demo_client.post(
        "/api/v1/articles", json=article_payload(status="draft"), headers=admin_token
    )
    assert draft.status_code == 201
    clock.advance(minutes=1)
    demo_client.patch(
        f"/api/v1/articles/{draft.get_json()['id']}", json={"title": "Still a draft"},
        headers=admin_token,
    )  # fmt: skip
    again = demo_client.get("/feeds/all.rss")
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Last-Modified"] == first.headers["Last-Modified"]


def test_withdrawal_leaves_every_feed_on_the_next_request(
    demo_client: FlaskClient, admin_token: dict[str, str]
) -> None:
    paths = [
        "/feeds/all.json",
        "/feeds/sections/world.json",
        "/feeds/tags/japan.json",
        "/feeds/tags/%EC%84%9C%EC%9A%B8.json",
        "/feeds/custom/east-asia.json",
        "/feeds/trending.json",
    ]
    title = "Seoul and Tokyo Agree to Resume Quarterly Leader Talks"
    for path in paths:
        assert title in [i["title"] for i in json.loads(demo_client.get(path).data)["items"]]
    found = demo_client.get("/api/v1/articles?q=Seoul and Tokyo", headers=admin_token)
    article_id = found.get_json()["items"][0]["id"]
    assert (
        demo_client.delete(f"/api/v1/articles/{article_id}", headers=admin_token).status_code == 200
    )
    for path in paths:
        items = json.loads(demo_client.get(path).data)["items"]
        assert title not in [i["title"] for i in items], path


def test_scheduled_article_appears_when_due(
    demo_client: FlaskClient, demo_app: Flask, clock: FakeClock
) -> None:
    service: Service = demo_app.extensions["feeds"]
    scheduled = service.articles.get_by_slug("central-bank-rate-day")
    assert scheduled.published_at > clock.now
    before = demo_client.get("/feeds/sections/business.atom")
    other = demo_client.get("/feeds/sections/world.atom")
    assert b"Central Bank Decision" not in before.data
    clock.now = scheduled.published_at + timedelta(seconds=30)
    after = demo_client.get("/feeds/sections/business.atom")
    assert b"Central Bank Decision" in after.data
    assert after.headers["ETag"] != before.headers["ETag"]
    assert parsedate_to_datetime(after.headers["Last-Modified"]) == scheduled.published_at
    assert (
        demo_client.get(
            "/feeds/sections/business.atom", headers={"If-None-Match": before.headers["ETag"]}
        ).status_code
        == 200
    )
    assert demo_client.get("/feeds/sections/world.atom").headers["ETag"] == other.headers["ETag"]


def test_cache_is_bounded_in_bytes(database_url: str, clock: FakeClock) -> None:
    app = make_app(database_url, clock, load_demo=True, cache_bytes=40_000)
    client = app.test_client()
    service: Service = app.extensions["feeds"]
    for path in FEEDS:
        for fmt in ("rss", "atom", "json"):
            client.get(path.rsplit(".", 1)[0] + "." + fmt, headers={"Accept-Encoding": "br"})
            assert 0 < service.ctx.cache.bytes_used <= 40_000


def test_metrics_count_feed_responses(demo_client: FlaskClient) -> None:
    def count(status: str) -> float:
        text = demo_client.get("/metrics").get_data(as_text=True)
        line = f'feeds_feed_requests_total{{format="json",status="{status}"}} '
        found = [row for row in text.splitlines() if row.startswith(line)]
        return float(found[0].split()[-1]) if found else 0.0

    before_200, before_304 = count("200"), count("304")
    etag = demo_client.get("/feeds/all.json").headers["ETag"]
    demo_client.get("/feeds/all.json", headers={"If-None-Match": etag})
    assert count("200") == before_200 + 1
    assert count("304") == before_304 + 1
    assert "feeds_render_cache_bytes" in demo_client.get("/metrics").get_data(as_text=True)


BROWSER_ACCEPT = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
)


FEED_TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}


@pytest.mark.parametrize(
    ("fmt", "accept", "browser"),
    [
        ("rss", BROWSER_ACCEPT, True),
        ("atom", BROWSER_ACCEPT, True),
        ("json", BROWSER_ACCEPT, True),
        ("rss", "text/html", True),
        ("rss", "*/*", False),
        ("atom", "", False),
        ("json", "application/feed+json, application/json;q=0.9", False),
        ("rss", "application/rss+xml, application/atom+xml;q=0.8, */*;q=0.1", False),
        ("atom", "application/atom+xml, text/html;q=0.5", False),
        ("rss", "text/html, application/rss+xml", False),  # a tie keeps the feed
    ],
)
def test_browsers_get_the_feeds_page_and_feed_readers_the_feed(
    demo_client: FlaskClient, fmt: str, accept: str, browser: bool
) -> None:
    headers = {"Accept": accept} if accept else {}
    response = demo_client.get(f"/feeds/all.{fmt}", headers=headers)
    assert response.status_code == 200
    expected = "text/html; charset=utf-8" if browser else FEED_TYPES[fmt]
    assert response.headers["Content-Type"] == expected
    assert response.headers["Vary"] == "Accept-Encoding, Accept"
    plain = demo_client.get(f"/feeds/all.{fmt}")
    assert plain.headers["Content-Type"] == FEED_TYPES[fmt]
    assert plain.headers["Vary"] == "Accept-Encoding, Accept"
    assert (response.data != plain.data) is browser
    # Another representation, with validators of its own: one's ETag never revalidates
    # the other, and each revalidates itself.
    assert (response.headers["ETag"] != plain.headers["ETag"]) is browser
    assert response.headers["Last-Modified"] == plain.headers["Last-Modified"]
    own = demo_client.get(
        f"/feeds/all.{fmt}", headers={**headers, "If-None-Match": response.headers["ETag"]}
    )
    assert own.status_code == 304
    if browser:
        other = demo_client.get(
            f"/feeds/all.{fmt}", headers={**headers, "If-None-Match": plain.headers["ETag"]}
        )
        assert other.status_code == 200


def test_the_feeds_page_is_compressed_like_the_feed(demo_client: FlaskClient) -> None:
    headers = {"Accept": BROWSER_ACCEPT, "Accept-Encoding": "br, gzip"}
    response = demo_client.get("/feeds/all.atom", headers=headers)
    assert response.headers["Content-Encoding"] == "br"
    assert response.headers["ETag"].endswith('-br"')
    assert brotli.decompress(response.data).startswith(b"<!doctype html>")


@pytest.mark.parametrize("limit", ["%C2%B2", "%D9%A3", "1" * 30])
def test_non_ascii_or_huge_digits_are_a_400_not_a_500(demo_client: FlaskClient, limit: str) -> None:
    response = demo_client.get(f"/feeds/all.rss?limit={limit}")
    assert response.status_code == 400
    assert b"limit" in response.data
