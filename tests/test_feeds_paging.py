"""Paged feeds (RFC 5005): a next link walks the whole history, page by page."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import urlsplit

import feedparser
import pytest
from flask.testing import FlaskClient
from lxml import etree

from feeds.service.feeds import PageCursor
from tests.conftest import article_payload


def walk(client: FlaskClient, url: str) -> list[list[str]]:
    """Titles page by page, following JSON Feed next_url links."""
    pages: list[list[str]] = []
    while url:
        parts = urlsplit(url)
        response = client.get(f"{parts.path}?{parts.query}" if parts.query else parts.path)
        assert response.status_code == 200
        data = json.loads(response.data)
        assert data["feed_url"] == url
        pages.append([item["title"] for item in data["items"]])
        url = data.get("next_url", "")
    return pages


def test_next_links_walk_the_whole_feed_without_gaps_or_repeats(
    demo_client: FlaskClient,
) -> None:
    everything = [i["title"] for i in json.loads(demo_client.get("/feeds/all.json").data)["items"]]
    pages = walk(demo_client, "http://localhost/feeds/all.json?limit=5")
    assert [len(p) for p in pages] == [5, 5, 2]
    assert [title for page in pages for title in page] == everything


def test_next_link_in_rss_and_atom(demo_client: FlaskClient) -> None:
    atom = feedparser.parse(demo_client.get("/feeds/all.atom?limit=4").data)
    next_links = [link.href for link in atom.feed.links if link.rel == "next"]
    assert len(next_links) == 1 and "limit=4&before=" in next_links[0]
    rss = etree.fromstring(demo_client.get("/feeds/all.rss?limit=4").data)
    ns = {"atom": "http://www.w3.org/2005/Atom"}
    rss_next = rss.xpath("//channel/atom:link[@rel='next']/@href", namespaces=ns)
    assert rss_next == [next_links[0].replace("/all.atom?", "/all.rss?")]
    last = feedparser.parse(demo_client.get("/feeds/all.atom?limit=200").data)
    assert [link for link in last.feed.links if link.rel == "next"] == []


def test_pages_stay_stable_when_new_articles_arrive(
    demo_client: FlaskClient, admin_token: dict[str, str]
) -> None:
    first = json.loads(demo_client.get("/feeds/all.json?limit=5").data)
    next_path = urlsplit(first["next_url"])
    second_before = json.loads(demo_client.get(f"{next_path.path}?{next_path.query}").data)
    created = demo_client.post(
        "/api/v1/articles", json=article_payload(published_at=None), headers=admin_token
    )
    assert created.status_code == 201
    second_after = json.loads(demo_client.get(f"{next_path.path}?{next_path.query}").data)
    assert [i["id"] for i in second_after["items"]] == [i["id"] for i in second_before["items"]]


def test_bad_cursors_are_400(demo_client: FlaskClient) -> None:
    for bad in ("x", "12", "-1-2", "1-", "99999999999999999999-1", "999999999999999999-1"):
        response = demo_client.get(f"/feeds/all.rss?before={bad}")
        assert response.status_code == 400, bad
        assert b"before" in response.data


@pytest.mark.parametrize(
    "when",
    [
        datetime(2026, 1, 16, 11, 0, 0, 123456, tzinfo=UTC),
        datetime(1955, 6, 1, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ],
)
def test_cursor_round_trip(when: datetime) -> None:
    cursor = PageCursor(when, 42)
    assert PageCursor.decode(cursor.encode()) == cursor


def test_archive_articles_before_1970_page_too(
    client: FlaskClient, admin_token: dict[str, str]
) -> None:
    for day in (1, 2, 3):
        payload = article_payload(
            title=f"Archive {day}", url=None, published_at=f"1955-06-0{day}T12:00:00+00:00"
        )
        assert client.post("/api/v1/articles", json=payload, headers=admin_token).status_code == 201
    pages = walk(client, "http://localhost/feeds/all.json?limit=2")
    assert pages == [["Archive 3", "Archive 2"], ["Archive 1"]]
