"""Every feed of a store holding outside items is valid, with nothing the W3C validator
warns about: the demo plus documents with undated entries, "no date" placeholders, old
entries, duplicates, more entries than `max_items`, images without a stated length and
malformed documents. Each document's entries are all accounted for."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from lxml import etree
from pytest_httpserver import HTTPServer

from tests.conftest import FakeClock, make_app
from tests.ingest_helpers import INGEST_SETTINGS, add_source, svc
from tests.outside_documents import BROKEN, PNG, entries_in, outside_documents, serve_images
from tests.schemas import validate_atom, validate_jsonfeed
from tests.test_feeds_demo import demo_documents, fetch

A = "{http://www.w3.org/2005/Atom}"
MEDIA = "{http://search.yahoo.com/mrss/}"


@pytest.fixture
def store(database_url: str, clock: FakeClock, httpserver: HTTPServer) -> Iterator[Flask]:
    """The demo and its `file:` wire, plus outside sources of every awkward kind."""
    app = make_app(database_url, clock, load_demo=True, **INGEST_SETTINGS)
    service = svc(app)
    # Every source is fetched in the same second, as one scheduler tick does: their
    # undated entries must still not share an `updated` in the feeds that merge them.
    for name, (body, fields) in outside_documents(clock.now, serve_images(httpserver)).items():
        httpserver.expect_request(f"/{name}").respond_with_data(body)
        source_id = add_source(service, httpserver.url_for(f"/{name}"), name=name, **fields)
        outcome = service.sources.refresh(source_id)
        assert outcome.status == "fetched", (name, outcome.error)
        assert outcome.counts.entries == entries_in(body), name  # every entry accounted for
    httpserver.expect_request("/broken").respond_with_data(BROKEN)
    broken = add_source(service, httpserver.url_for("/broken"), name="broken")
    assert service.sources.refresh(broken).status == "failed"
    (wire,) = [s for s in service.sources.list() if s.url.startswith("file:")]
    assert wire.id is not None and service.sources.refresh(wire.id).counts.new == 5
    yield app
    service.ctx.store.dispose()


@pytest.fixture
def documents(store: Flask) -> dict[str, bytes]:
    """Every feed in the OPML (author feeds included) in its three formats, and every
    monthly archive reached by walking `prev-archive` from them."""
    client = store.test_client()
    found = demo_documents(client)
    walk = [url for url in found if url.endswith(".atom")]
    while walk:
        for link in etree.fromstring(found[walk.pop()]).iterfind(f"{A}link[@rel='prev-archive']"):
            base = link.get("href", "").rsplit(".", 1)[0]
            if f"{base}.atom" not in found:
                for fmt in ("rss", "atom", "json"):
                    found[f"{base}.{fmt}"] = fetch(client, f"{base}.{fmt}")
                walk.append(f"{base}.atom")
    return found


@dataclass(frozen=True)
class Document:
    url: str
    fmt: str
    body: bytes
    xml: Any  # the parsed root of an RSS or Atom document
    data: dict[str, Any]  # the parsed JSON Feed

    @classmethod
    def parse(cls, url: str, body: bytes) -> Document:
        fmt = url.rsplit(".", 1)[1]
        if fmt == "json":
            return cls(url, fmt, body, None, json.loads(body))
        return cls(url, fmt, body, etree.fromstring(body), {})


# A check yields (what it looked at, whether that holds) for every element it examined;
# each must examine something, so a check that finds nothing to look at fails too.
Finding = tuple[str, bool]


def http_url(value: str | None) -> bool:
    return value is not None and urlsplit(value).scheme in ("http", "https")


def positive(value: str | None) -> bool:
    return value is not None and value.isdigit() and int(value) > 0


def plausible(moment: datetime) -> bool:
    # "No date" placeholders (year 0001, the Unix epoch) must never reach readers.
    return moment.tzinfo is not None and moment > datetime(1971, 1, 1, tzinfo=UTC)


def rfc3339(value: str | None) -> bool:
    return value is not None and "T" in value and plausible(datetime.fromisoformat(value))


def rfc822_date(value: str | None) -> bool:
    try:
        return value is not None and plausible(parsedate_to_datetime(value))
    except (TypeError, ValueError):
        return False


def missing_source_element(doc: Document) -> Iterator[Finding]:
    for source in doc.xml.iter(f"{A}source") if doc.fmt == "atom" else ():
        names = ("id", "title", "updated")
        yield doc.url, all(source.findtext(f"{A}{name}") for name in names)


def duplicate_updated(doc: Document) -> Iterator[Finding]:
    if doc.fmt == "atom":
        updated = [e.findtext(f"{A}updated") for e in doc.xml.iter(f"{A}entry")]
        for value in updated:
            yield f"{doc.url} {value}", updated.count(value) == 1


def file_size_positive(doc: Document) -> Iterator[Finding]:
    if doc.fmt == "rss":
        for media in (*doc.xml.iter(f"{MEDIA}content"), *doc.xml.iter(f"{MEDIA}thumbnail")):
            size = media.get("fileSize")
            yield f"{doc.url} {media.get('url')}", size is None or positive(size)


def enclosure_length(doc: Document) -> Iterator[Finding]:
    if doc.fmt == "rss":
        for enclosure in doc.xml.iter("enclosure"):
            yield (
                f"{doc.url} {enclosure.get('url')}",
                (
                    positive(enclosure.get("length"))
                    and http_url(enclosure.get("url"))
                    and bool(enclosure.get("type"))
                ),
            )
    elif doc.fmt == "atom":
        for link in doc.xml.iterfind(f".//{A}entry/{A}link[@rel='enclosure']"):
            length = link.get("length")
            yield f"{doc.url} {link.get('href')}", length is None or positive(length)
    else:
        for item in doc.data["items"]:
            if "image" in item:
                yield f"{doc.url} {item['image']}", http_url(item["image"])


def only_http_source_urls(doc: Document) -> Iterator[Finding]:
    yield f"{doc.url} has no file: URL", b"file:" not in doc.body
    if doc.fmt == "rss":
        for source in doc.xml.iter("source"):
            yield f"{doc.url} {source.get('url')}", http_url(source.get("url"))
    elif doc.fmt == "atom":
        for source in doc.xml.iter(f"{A}source"):
            ident = source.findtext(f"{A}id", "")
            hrefs = [link.get("href") for link in source.iter(f"{A}link")]
            yield (
                f"{doc.url} {ident}",
                ident.startswith(("http", "tag:")) and all(http_url(href) for href in hrefs),
            )
    else:
        for item in doc.data["items"]:
            if "_source" in item:
                feed_url = item["_source"].get("feed_url")
                yield f"{doc.url} {feed_url}", feed_url is None or http_url(feed_url)


# A sentence's end followed at once by the next one's start ("anymore.As", "today!If").
GLUED = re.compile(r"[a-z][.!?][A-Z]")


def glued_words(doc: Document) -> Iterator[Finding]:
    if doc.fmt == "json":
        texts = [item.get("summary") for item in doc.data["items"]]
    elif doc.fmt == "atom":
        texts = [s.text for s in doc.xml.iter(f"{A}summary")]
    else:
        texts = [d.text for d in doc.xml.iterfind("channel/item/description")]
    for text in texts:
        if text:
            yield f"{doc.url} {text[:60]!r}", GLUED.search(text) is None


def rss_guid(doc: Document) -> Iterator[Finding]:
    for item in doc.xml.iterfind("channel/item") if doc.fmt == "rss" else ():
        guid = item.find("guid")
        yield f"{doc.url} {item.findtext('title')}", guid is not None and bool(guid.text)


def rss_dates(doc: Document) -> Iterator[Finding]:
    if doc.fmt == "rss":
        yield doc.url, rfc822_date(doc.xml.findtext("channel/lastBuildDate"))
        for item in doc.xml.iterfind("channel/item"):
            date = item.findtext("pubDate")
            yield f"{doc.url} {item.findtext('title')} {date}", rfc822_date(date)


def rss_channel(doc: Document) -> Iterator[Finding]:
    if doc.fmt == "rss":
        channel = doc.xml.find("channel")
        yield (
            doc.url,
            (
                http_url(channel.findtext("link"))
                and bool(channel.findtext("title"))
                and bool(channel.findtext("description"))
            ),
        )


def atom_and_json_dates(doc: Document) -> Iterator[Finding]:
    if doc.fmt == "atom":
        for name in ("updated", "published"):
            for element in doc.xml.iter(f"{A}{name}"):
                yield f"{doc.url} {name} {element.text}", rfc3339(element.text)
    elif doc.fmt == "json":
        for item in doc.data["items"]:
            for name in ("date_published", "date_modified"):
                if name in item:
                    yield f"{doc.url} {name} {item[name]}", rfc3339(item[name])


# One check per class of warning or error the W3C Feed Validation Service reported,
# plus the RSS basics it checks in every feed.
W3C_CHECKS: dict[str, Callable[[Document], Iterator[Finding]]] = {
    "MissingSourceElement": missing_source_element,
    "DuplicateUpdated": duplicate_updated,
    "fileSize must be a positive integer": file_size_positive,
    "enclosure needs a positive length": enclosure_length,
    "no file: URL reaches readers": only_http_source_urls,
    "no glued words in plain-text summaries": glued_words,
    "every RSS item has a guid": rss_guid,
    "RSS pubDate and lastBuildDate parse (and no year 0001)": rss_dates,
    "RSS channel has link, title and description": rss_channel,
    "Atom and JSON dates are RFC 3339 (and no year 0001)": atom_and_json_dates,
}


def test_every_document_is_valid_against_the_schemas(documents: dict[str, bytes]) -> None:
    paths = {urlsplit(url).path for url in documents}
    assert len(paths) > 100
    assert any(p.startswith("/feeds/authors/") for p in paths)
    assert any("/archive/" in p for p in paths)
    for url, body in documents.items():
        if url.endswith(".atom"):
            validate_atom(body)
        elif url.endswith(".json"):
            validate_jsonfeed(body)


def test_no_document_shows_any_w3c_warning_class(documents: dict[str, bytes]) -> None:
    parsed = [Document.parse(url, body) for url, body in documents.items()]
    examined = dict.fromkeys(W3C_CHECKS, 0)
    failures: dict[str, list[str]] = {name: [] for name in W3C_CHECKS}
    for doc in parsed:
        for name, check in W3C_CHECKS.items():
            for what, holds in check(doc):
                examined[name] += 1
                if not holds:
                    failures[name].append(what)
    assert {name: found[:5] for name, found in failures.items() if found} == {}
    assert [name for name, count in examined.items() if count == 0] == []


def test_images_without_a_stated_length_are_learned_or_left_out(
    documents: dict[str, bytes],
) -> None:
    enclosures: dict[str, str] = {}
    for url, body in documents.items():
        if url.endswith(".rss"):
            for enclosure in etree.fromstring(body).iter("enclosure"):
                enclosures[enclosure.get("url", "")] = enclosure.get("length", "")
    known = [u for u in enclosures if u.endswith("/img/known.png")]
    assert known and enclosures[known[0]] == str(len(PNG))  # learned with a HEAD request
    assert not [u for u in enclosures if u.endswith(("/img/lost.png", "img.example/a.jpg"))]


def test_the_wire_credit_has_a_tag_id_and_no_link(documents: dict[str, bytes]) -> None:
    credited = 0
    for url, body in documents.items():
        if url.endswith(".atom"):
            for source in etree.fromstring(body).iter(f"{A}source"):
                if source.findtext(f"{A}title") == "Ledger Wire (demo)":
                    credited += 1
                    assert source.findtext(f"{A}id", "").startswith("tag:"), url
                    assert source.find(f"{A}link") is None, url
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
