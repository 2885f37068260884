"""FeedDocument builders for the writer tests: realistic, fully absolute, newest first."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from feeds.models import Image
from feeds.render.document import FeedDocument, FeedItem, ItemSource

BASE = "https://news.example.org"
UPDATED = datetime(2026, 1, 12, 17, 23, 5, tzinfo=UTC)


def make_item(n: int = 1, **overrides: Any) -> FeedItem:
    """Item *n*; higher numbers are older, so range(1, k) is already newest first."""
    published = UPDATED - timedelta(hours=n)
    values: dict[str, Any] = {
        "id": f"tag:news.example.org,2026:article-{n}",
        "title": f"Harbour bridge reopens, part {n}",
        "url": f"{BASE}/articles/harbour-bridge-{n}",
        "summary": f"The bridge reopened on Monday (part {n}).",
        "content_html": (
            f'<p>The bridge <a href="{BASE}/tags/busan">reopened</a> on Monday.</p>'
            f'<img src="{BASE}/media/bridge-{n}.jpg" alt="Bridge">'
        ),
        "author": "Saif Rahman",
        "categories": ("latest", "SouthKorea"),
        "published": published,
        "updated": published + timedelta(minutes=30),
        "image": Image(
            url=f"{BASE}/media/bridge-{n}.jpg", mime_type="image/jpeg", length=48213, alt="Bridge"
        ),
    }
    values.update(overrides)
    return FeedItem(**values)


def make_source_item(n: int = 9, **overrides: Any) -> FeedItem:
    source = ItemSource(
        title="Harbour Gazette",
        id="https://gazette.example.com/feed.xml",
        updated=UPDATED - timedelta(hours=1),
        feed_url="https://gazette.example.com/feed.xml",
        link="https://gazette.example.com/2026/01/ferry",
    )
    values: dict[str, Any] = {"source": source, "title": "Ferry timetable changes"}
    values.update(overrides)
    return make_item(n, **values)


def make_document(items: tuple[FeedItem, ...] | None = None, **overrides: Any) -> FeedDocument:
    values: dict[str, Any] = {
        "id": f"{BASE}/feeds/sections/world",
        "title": "World — Example News",
        "description": "The latest world news from Example News.",
        "home_url": f"{BASE}/sections/world",
        "self_url": f"{BASE}/feeds/sections/world.rss",
        "language": "en",
        "updated": UPDATED,
        "ttl_minutes": 15,
        "generator": "Feeds",
        "generator_version": "0.1.0",
        "items": items if items is not None else (make_item(1), make_item(2), make_item(3)),
        "hub_urls": ("https://hub.example.net/",),
        "next_url": f"{BASE}/feeds/sections/world.rss?before=abc123",
        "icon_url": f"{BASE}/static/icon.png",
    }
    values.update(overrides)
    return FeedDocument(**values)


def minimal_document(**overrides: Any) -> FeedDocument:
    """Only the required fields: no hub, next page or icon."""
    doc = make_document(hub_urls=(), next_url=None, icon_url=None)
    return replace(doc, **overrides)


def for_format(doc: FeedDocument, extension: str) -> FeedDocument:
    """The same document as served under another extension (self and next URLs)."""
    next_url = doc.next_url.replace(".rss", f".{extension}") if doc.next_url else None
    return replace(doc, self_url=doc.self_url.replace(".rss", f".{extension}"), next_url=next_url)
