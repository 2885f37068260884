"""Monthly archives (RFC 5005): walking prev-archive from a feed meets every article once."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser
import pytest
from flask.testing import FlaskClient
from lxml import etree

from feeds.service.archives import month_range
from tests.conftest import FakeClock, article_payload
from tests.schemas import validate_atom, validate_jsonfeed

HISTORY = "http://purl.org/syndication/history/1.0"
ATOM = "http://www.w3.org/2005/Atom"
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
# Months with articles; January and the months before November are empty.
DATES = [
    "2025-11-03T08:00:00+00:00",
    "2025-11-30T23:59:59+00:00",
    "2025-12-01T00:00:00+00:00",
    "2025-12-31T23:30:00-05:00",  # 2026-01-01 04:30 UTC: January in UTC
    "2026-02-14T10:00:00+00:00",
    "2026-03-09T09:00:00+00:00",
]


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


@pytest.fixture
def archived(
    client: FlaskClient, admin_token: dict[str, str], clock: FakeClock
) -> list[dict[str, Any]]:
    """The articles created, as the API returned them."""
    clock.now = NOW
    ids = [post_story(client, admin_token, number, when) for number, when in enumerate(DATES)]
    # A scheduled article is not in any archive until it comes due.
    scheduled = article_payload(
        title="Tomorrow", url="https://news.example.com/later", published_at="2026-03-11T00:00:00Z"
    )
    assert client.post("/api/v1/articles", json=scheduled, headers=admin_token).status_code == 201
    return ids


def post_story(
    client: FlaskClient, token: dict[str, str], number: int, when: str
) -> dict[str, Any]:
    """Story <number> published at `when`, tagged #Archive (and #Even when even)."""
    payload = article_payload(
        title=f"Story {number}",
        url=f"https://news.example.com/story-{number}",
        published_at=when,
        hashtags=["Archive"] if number % 2 else ["Archive", "Even"],
    )
    response = client.post("/api/v1/articles", json=payload, headers=token)
    assert response.status_code == 201, response.data
    body: dict[str, Any] = response.get_json()
    return body


def walk_json(client: FlaskClient, feed: str) -> tuple[list[str], list[str]]:
    """(months visited, item ids) following `_archive.prev_archive` from the feed."""
    current = json.loads(client.get(feed).data)
    url = current["_archive"]["prev_archive"]
    months, ids = [], []
    while url:
        response = client.get(path_of(url))
        assert response.status_code == 200, url
        data = json.loads(response.data)
        validate_jsonfeed(data)
        assert data["feed_url"] == url
        assert data["_archive"]["archive"] is True
        assert data["_archive"]["current"] == current["feed_url"]
        months.append(url.rsplit("/", 1)[1].split(".")[0])
        ids.extend(item["id"] for item in data["items"])
        url = data["_archive"].get("prev_archive")
    return months, ids


def test_walking_prev_archive_meets_every_article_once(
    client: FlaskClient, archived: list[dict[str, Any]]
) -> None:
    months, ids = walk_json(client, "/feeds/all.json")
    assert months == ["2026-03", "2026-02", "2026-01", "2025-12", "2025-11"]
    guids = {article["guid"] for article in archived}
    assert Counter(ids) == Counter(guids)  # each once, and nothing else (not the scheduled one)


def test_atom_and_rss_archives_are_marked_linked_and_valid(
    client: FlaskClient, archived: list[dict[str, Any]]
) -> None:
    current = feedparser.parse(client.get("/feeds/all.atom").data)
    newest = [link.href for link in current.feed.links if link.rel == "prev-archive"]
    assert newest == ["http://localhost/feeds/all/archive/2026-03.atom"]
    body = client.get("/feeds/all/archive/2025-12.atom").data
    validate_atom(body)
    tree = etree.fromstring(body)
    assert tree.find(f"{{{HISTORY}}}archive") is not None
    links = {link.get("rel"): link.get("href") for link in tree.findall(f"{{{ATOM}}}link")}
    assert links["self"] == "http://localhost/feeds/all/archive/2025-12.atom"
    assert links["current"] == "http://localhost/feeds/all.atom"
    assert links["prev-archive"] == "http://localhost/feeds/all/archive/2025-11.atom"
    assert links["next-archive"] == "http://localhost/feeds/all/archive/2026-01.atom"
    assert [e.findtext(f"{{{ATOM}}}title") for e in tree.iter(f"{{{ATOM}}}entry")] == ["Story 2"]

    rss = etree.fromstring(client.get("/feeds/all/archive/2025-11.rss").data)
    channel = rss.find("channel")
    assert channel is not None and channel.find(f"{{{HISTORY}}}archive") is not None
    rels = {link.get("rel") for link in channel.findall(f"{{{ATOM}}}link")}
    assert {"current", "next-archive"} <= rels and "prev-archive" not in rels
    assert [item.findtext("title") for item in channel.iter("item")] == ["Story 1", "Story 0"]


def test_hashtag_and_section_archives_hold_their_own_articles(
    client: FlaskClient, archived: list[dict[str, Any]]
) -> None:
    months, ids = walk_json(client, "/feeds/tags/even.json")
    assert months == ["2026-02", "2025-12", "2025-11"]  # stories 0, 2 and 4
    assert len(ids) == 3
    assert client.get("/feeds/tags/Even/archive/2025-12.json").status_code == 301
    months, ids = walk_json(client, "/feeds/sections/world.json")
    assert len(ids) == len(archived)


def test_missing_months_and_trending_are_404(
    client: FlaskClient, archived: list[dict[str, Any]]
) -> None:
    for path in (
        "/feeds/all/archive/2025-10.json",  # no article that month
        "/feeds/all/archive/2026-04.json",  # the future
        "/feeds/all/archive/2026-13.json",
        "/feeds/all/archive/26-01.json",
        "/feeds/trending/archive/2026-03.json",
        "/feeds/sections/nowhere/archive/2026-03.json",
    ):
        assert client.get(path).status_code == 404, path
    with pytest.raises(ValueError):
        month_range("9999-12")
    assert month_range("2025-12") == (
        datetime(2025, 12, 1, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=UTC),
    )


def headers(client: FlaskClient, path: str) -> dict[str, Any]:
    response = client.get(path)
    assert response.status_code == 200
    return dict(response.headers)


def test_a_past_month_changes_only_when_one_of_its_articles_does(
    client: FlaskClient,
    admin_token: dict[str, str],
    archived: list[dict[str, Any]],
    clock: FakeClock,
) -> None:
    past = "/feeds/all/archive/2025-12.atom"
    before = headers(client, past)
    assert before["Cache-Control"] == "public, max-age=86400, stale-if-error=86400"
    assert headers(client, "/feeds/all/archive/2026-03.atom")["Cache-Control"] == (
        "public, max-age=300, stale-if-error=86400"
    )
    # A new article in the current month leaves December alone.
    clock.advance(hours=1)
    fresh = article_payload(title="New", url="https://news.example.com/new", published_at=None)
    assert client.post("/api/v1/articles", json=fresh, headers=admin_token).status_code == 201
    assert headers(client, past)["ETag"] == before["ETag"]
    revalidated = client.get(past, headers={"If-None-Match": before["ETag"]})
    assert revalidated.status_code == 304

    # Withdrawing November's first article moves November: new bytes, a later
    # Last-Modified (so If-Modified-Since sees the change too).
    november = "/feeds/all/archive/2025-11.atom"
    seen = headers(client, november)
    clock.advance(hours=1)
    withdrawn = client.delete(f"/api/v1/articles/{archived[0]['id']}", headers=admin_token)
    assert withdrawn.status_code == 200
    after = headers(client, november)
    assert after["ETag"] != seen["ETag"]
    assert parsedate_to_datetime(after["Last-Modified"]) == clock.now
    since = client.get(november, headers={"If-Modified-Since": seen["Last-Modified"]})
    assert since.status_code == 200
    tree = etree.fromstring(since.data)
    assert [e.findtext(f"{{{ATOM}}}title") for e in tree.iter(f"{{{ATOM}}}entry")] == ["Story 1"]

    # Withdrawing December's only article empties it: the links step over it.
    clock.advance(hours=1)
    withdrawn = client.delete(f"/api/v1/articles/{archived[2]['id']}", headers=admin_token)
    assert withdrawn.status_code == 200
    assert client.get(past).status_code == 404
    tree = etree.fromstring(client.get(november).data)
    links = {link.get("rel"): link.get("href") for link in tree.findall(f"{{{ATOM}}}link")}
    assert links["next-archive"] == "http://localhost/feeds/all/archive/2026-01.atom"


def test_only_the_first_page_links_to_the_archives(
    client: FlaskClient, archived: list[dict[str, Any]]
) -> None:
    first = json.loads(client.get("/feeds/all.json?limit=2").data)
    assert first["_archive"]["prev_archive"].endswith("/feeds/all/archive/2026-03.json")
    second = json.loads(client.get(path_of(first["next_url"])).data)
    assert "_archive" not in second
    trending = json.loads(client.get("/feeds/trending.json").data)
    assert "_archive" not in trending


def test_an_archive_holds_exactly_its_month_newest_first(
    client: FlaskClient, admin_token: dict[str, str], clock: FakeClock
) -> None:
    clock.now = NOW
    start = datetime(2026, 2, 1, tzinfo=UTC)
    # More articles than one chunk of the range walk reads, either side of the month.
    for number in range(12):
        when = start + timedelta(days=number * 5 - 20)
        payload = article_payload(
            title=f"Busy {number}",
            url=f"https://news.example.com/busy-{number}",
            published_at=when.isoformat(),
        )
        assert client.post("/api/v1/articles", json=payload, headers=admin_token).status_code == 201
    data = json.loads(client.get("/feeds/all/archive/2026-02.json").data)
    dates = [item["date_published"] for item in data["items"]]
    assert dates == sorted(dates, reverse=True)
    assert all(d.startswith("2026-02") for d in dates) and len(dates) == 6
