"""Outside documents for the ingest tests, built around the test's clock: every kind
of entry a refresh must account for (undated, "no date" placeholders, duplicates, old,
more than `max_items`), in RSS, Atom and JSON Feed."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import Any

from pytest_httpserver import HTTPServer


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


PNG = b"\x89PNG" + b"p" * 2044


def serve_images(httpserver: HTTPServer) -> str:
    """Two images whose documents state no length: the server sizes one, not the other."""
    httpserver.expect_request("/img/known.png", method="HEAD").respond_with_data(
        PNG, content_type="image/png"
    )
    httpserver.expect_request("/img/lost.png", method="HEAD").respond_with_data("", status=404)
    return httpserver.url_for("/img")


def pictures(now: datetime, images: str) -> bytes:
    """Images without a stated length (one the server sizes, one it cannot), undated
    entries, and HTML summaries whose blocks must not glue words together."""
    return rss_document(
        rss_item(
            "p1", "Sized on request", rfc822(now, hours=5 + 7 / 3600),
            f"<enclosure url='{images}/known.png' type='image/png'/>"
            "<description>&lt;p&gt;Not anymore.&lt;/p&gt;&lt;p&gt;As of today&lt;/p&gt;"
            "</description>",
        ),
        rss_item(
            "p2", "Size unknown", rfc822(now, hours=6 + 7 / 3600),
            f"<media:content xmlns:media='http://search.yahoo.com/mrss/' url='{images}/lost.png'"
            " medium='image'/><description>Sale today!&lt;br&gt;If you hurry</description>",
        ),
        rss_item("p3", "First undated", None),
        rss_item("p4", "Second undated", None),
        rss_item("p5", "Third undated", "Mon, 01 Jan 0001 00:00:00 GMT"),
    )  # fmt: skip


# A document feedparser reads as empty because it breaks off: an error, not "0 new".
BROKEN = rss_document(tail="<it")


def outside_documents(now: datetime, images: str) -> dict[str, tuple[bytes, dict[str, Any]]]:
    """Every awkward kind of outside document, each with the source fields it is read
    with: undated entries, "no date" placeholders, old entries, duplicates, more entries
    than `max_items`, images without a length, and one that breaks off after an entry."""
    return {
        "rss": (rss_wire(now), {"max_items": 6, "retention_days": 7}),
        "atom": (atom_wire(now), {"retention_days": 7}),
        "json": (json_wire(now - timedelta(minutes=5)), {"retention_days": 7}),
        "pictures": (pictures(now, images), {}),
        "cut": (rss_document(rss_item("c1", "Whole", None), tail="<it"), {}),
    }


def entries_in(document: bytes) -> int:
    """How many entries *document* holds, counted without the feed parser."""
    if document.lstrip().startswith(b"{"):
        return len(json.loads(document)["items"])
    return document.count(b"<item>") + document.count(b"<entry>")
