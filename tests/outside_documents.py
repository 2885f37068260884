"""Outside documents for the ingest tests, built around the test's clock: every kind
of entry a refresh must account for (undated, "no date" placeholders, duplicates, old,
more than `max_items`), in RSS, Atom and JSON Feed."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from email.utils import format_datetime


def rfc822(now: datetime, days: float = 0, hours: float = 0) -> str:
    return format_datetime(now - timedelta(days=days, hours=hours))


def rss_item(guid: str, title: str, date: str | None, extra: str = "") -> str:
    dated = f"<pubDate>{date}</pubDate>" if date is not None else ""
    return f"<item><guid>{guid}</guid><title>{title}</title>{dated}{extra}</item>"


def rss_document(*items: str, tail: str = "</channel></rss>") -> bytes:
    head = "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>W</title>"
    return (head + "".join(items) + tail).encode()


def rss_wire(now: datetime) -> bytes:
    """Nine entries: two recent, an undated one, .NET's and Unix's "no date" placeholders,
    a repeated id, and three older ones; read with max_items=6 and a 7-day retention."""
    return rss_document(
        rss_item(
            "a", "Recent with an image", rfc822(now, hours=1),
            "<enclosure url='https://img.example/a.jpg' type='image/jpeg'/>",
        ),
        rss_item("b", "Recent", rfc822(now, hours=2)),
        rss_item("c", "Undated", None),
        rss_item("d", "Year one", "Mon, 01 Jan 0001 00:00:00 GMT"),
        rss_item("e", "Unix zero", "Thu, 01 Jan 1970 00:00:00 GMT"),
        rss_item("a", "Recent with an image, again", rfc822(now, hours=1)),
        rss_item("f", "Two months old", rfc822(now, days=60)),
        rss_item("g", "Ten days old", rfc822(now, days=10)),
        rss_item("h", "Twenty days old", rfc822(now, days=20)),
    )  # fmt: skip


RSS_EXPECTED = {"new": 5, "duplicates": 1, "too_old": 1, "over_limit": 2}


def atom_wire(now: datetime) -> bytes:
    dates = [
        ("1", f"<updated>{(now - timedelta(hours=3)).isoformat()}</updated>"),
        ("2", "<updated>0001-01-01T00:00:00Z</updated>"),
        ("3", ""),
        ("1", f"<updated>{(now - timedelta(hours=3)).isoformat()}</updated>"),
        ("4", f"<updated>{(now - timedelta(days=400)).isoformat()}</updated>"),
    ]
    entries = "".join(
        f"<entry><id>urn:{i}</id><title>Atom {i}</title>{date}<content>x</content></entry>"
        for i, date in dates
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
        f"<title>A</title><id>urn:a</id><updated>2026-01-01T00:00:00Z</updated>{entries}</feed>"
    ).encode()


ATOM_EXPECTED = {"new": 3, "duplicates": 1, "too_old": 1}


def json_wire(now: datetime) -> bytes:
    items = [
        {"id": "j1", "content_text": "one", "date_published": now.isoformat()},
        {"id": "j2", "content_text": "two", "date_published": "0001-01-01T00:00:00Z"},
        {"id": "j3", "content_text": "three"},
        {"id": "j1", "content_text": "one again"},
        {"id": "j4", "content_text": "old", "date_published": "2001-01-01T00:00:00Z"},
    ]
    doc = {"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": items}
    return json.dumps(doc).encode()


JSON_EXPECTED = {"new": 3, "duplicates": 1, "too_old": 1}
