"""Every feed of a store holding outside items is valid, with nothing the W3C validator
warns about: the demo plus documents with undated entries, "no date" placeholders, old
entries, duplicates, more entries than `max_items`, images without a stated length and
malformed documents. Each document's entries are all accounted for."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
from flask import Flask
from lxml import etree
from pytest_httpserver import HTTPServer

from tests.conftest import FakeClock, make_app
from tests.ingest_helpers import INGEST_SETTINGS, add_source, svc
from tests.outside_documents import (
    atom_wire,
    json_wire,
    rfc822,
    rss_document,
    rss_item,
    rss_wire,
)
from tests.schemas import validate_atom, validate_jsonfeed
from tests.test_feeds_demo import demo_documents

A = "{http://www.w3.org/2005/Atom}"
MEDIA = "{http://search.yahoo.com/mrss/}"
PNG = b"\x89PNG" + b"p" * 2044


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


@pytest.fixture
def store(database_url: str, clock: FakeClock, httpserver: HTTPServer) -> Iterator[Flask]:
    """The demo and its `file:` wire, plus outside sources of every awkward kind."""
    app = make_app(database_url, clock, load_demo=True, **INGEST_SETTINGS)
    service = svc(app)
    httpserver.expect_request("/img/known.png", method="HEAD").respond_with_data(
        PNG, content_type="image/png"
    )
    httpserver.expect_request("/img/lost.png", method="HEAD").respond_with_data("", status=404)
    images = httpserver.url_for("/img")
    documents = {
        "rss": (rss_wire(clock.now), 9, {"max_items": 6, "retention_days": 7}),
        "atom": (atom_wire(clock.now), 5, {"retention_days": 7}),
        "json": (json_wire(clock.now - timedelta(minutes=5)), 5, {"retention_days": 7}),
        "pictures": (pictures(clock.now, images), 5, {}),
        "cut": (rss_document(rss_item("c1", "Whole", None), tail="<it"), 1, {}),
    }
    for name, (body, entries, fields) in documents.items():
        httpserver.expect_request(f"/{name}").respond_with_data(body)
        source_id = add_source(service, httpserver.url_for(f"/{name}"), name=name, **fields)
        outcome = service.sources.refresh(source_id)
        assert outcome.status == "fetched", (name, outcome.error)
        assert outcome.counts.entries == entries, name  # every entry accounted for
        clock.advance(minutes=1)  # sources are fetched at different times
    httpserver.expect_request("/broken").respond_with_data(rss_document(tail="<it"))
    broken = add_source(service, httpserver.url_for("/broken"), name="broken")
    assert service.sources.refresh(broken).status == "failed"
    (wire,) = [s for s in service.sources.list() if s.url.startswith("file:")]
    assert wire.id is not None and service.sources.refresh(wire.id).counts.new == 5
    yield app
    service.ctx.store.dispose()


@pytest.fixture
def documents(store: Flask) -> dict[str, bytes]:
    return demo_documents(store.test_client())


def test_every_document_is_valid_and_shows_no_internal_path(documents: dict[str, bytes]) -> None:
    assert len(documents) > 30
    for url, body in documents.items():
        assert b"file:" not in body, url  # `file:demo/wire.xml` never reaches readers
        if url.endswith(".atom"):
            validate_atom(body)
        elif url.endswith(".json"):
            validate_jsonfeed(body)


def test_atom_sources_are_complete_and_no_two_entries_share_updated(
    documents: dict[str, bytes],
) -> None:
    sources_seen = 0
    for url, body in documents.items():
        if not url.endswith(".atom"):
            continue
        root = etree.fromstring(body)
        updated = [e.findtext(f"{A}updated") for e in root.iter(f"{A}entry")]
        assert len(updated) == len(set(updated)), (url, updated)  # W3C DuplicateUpdated
        for source in root.iter(f"{A}source"):
            sources_seen += 1
            # W3C MissingSourceElement: id, title and updated in every atom:source.
            assert source.findtext(f"{A}id") and source.findtext(f"{A}title"), url
            assert source.findtext(f"{A}updated"), url
            for link in source.iter(f"{A}link"):
                assert urlsplit(link.get("href")).scheme == "http", url
            if source.findtext(f"{A}title") == "Ledger Wire (demo)":
                assert source.findtext(f"{A}id", "").startswith("tag:")
                assert source.find(f"{A}link") is None
    assert sources_seen > 0


def test_rss_images_carry_a_known_positive_length_or_no_enclosure(
    documents: dict[str, bytes],
) -> None:
    enclosures: dict[str, str] = {}
    for url, body in documents.items():
        if not url.endswith(".rss"):
            continue
        root = etree.fromstring(body)
        for item in root.iter("item"):
            for enclosure in item.iter("enclosure"):
                assert enclosure.get("length", "").isdigit() and int(enclosure.get("length")) > 0
                enclosures[enclosure.get("url", "")] = enclosure.get("length", "")
            for content in item.iter(f"{MEDIA}content"):
                size = content.get("fileSize")
                assert size is None or (size.isdigit() and int(size) > 0), url
            for source in item.iter("source"):
                assert urlsplit(source.get("url")).scheme == "http", url
    known = [u for u in enclosures if u.endswith("/img/known.png")]
    assert known and enclosures[known[0]] == str(len(PNG))  # learned with a HEAD request
    assert not [u for u in enclosures if u.endswith(("/img/lost.png", "img.example/a.jpg"))]


def test_json_sources_show_only_http_feed_urls(documents: dict[str, bytes]) -> None:
    credited = 0
    for url, body in documents.items():
        if not url.endswith(".json"):
            continue
        for item in json.loads(body)["items"]:
            if "_source" in item:
                credited += 1
                feed_url = item["_source"].get("feed_url")
                assert feed_url is None or urlsplit(feed_url).scheme == "http", url
    assert credited > 0


def test_summaries_keep_word_boundaries(store: Flask) -> None:
    body = store.test_client().get("/feeds/all.json?limit=200").get_json()
    summaries = {item["title"]: item.get("summary") for item in body["items"]}
    assert summaries["Sized on request"] == "Not anymore. As of today"
    assert summaries["Size unknown"] == "Sale today! If you hurry"


def test_undated_items_keep_document_order_a_second_apart(store: Flask) -> None:
    body = store.test_client().get("/feeds/all.json?limit=200").get_json()
    dates = {item["title"]: item["date_published"] for item in body["items"]}
    parsed = [datetime.fromisoformat(dates[t]) for t in ("First undated", "Second undated",
                                                         "Third undated")]  # fmt: skip
    assert parsed[0] - parsed[1] == parsed[1] - parsed[2] == timedelta(seconds=1)
