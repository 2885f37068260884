"""parse_feed: plain values out of RSS, Atom and JSON Feed; hostile documents refused."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from feeds.errors import ParseError
from feeds.ingest.parse import parse_feed
from feeds.ingest.parsed import DateValue, MediaRef, SourceRef
from tests.httpservers import RawServer, head_reply, raw_server

__all__ = ["raw_server"]

DATA = Path(__file__).parent / "data" / "ingest"
BASE = "https://blog.example/feed.xml"


def load(name: str) -> bytes:
    return (DATA / name).read_bytes()


def rss(items: str, *, prolog: str = '<?xml version="1.0" encoding="utf-8"?>') -> bytes:
    return (
        f'{prolog}<rss version="2.0"><channel><title>T</title><link>https://x.example/</link>'
        f"{items}</channel></rss>"
    ).encode()


def test_atom_with_xml_base() -> None:
    feed = parse_feed(load("atom_xmlbase.xml"), base_url=BASE, content_type="application/atom+xml")
    assert (feed.title, feed.link, feed.version) == (
        "Example & Co",
        "https://blog.example/",
        "atom10",
    )
    first, second = feed.entries
    assert first.id == "urn:uuid:entry-1"
    assert first.title == "Seoul opens a new line"
    assert first.link == "https://blog.example/news/2026/seoul.html"
    assert first.author == "Saif"
    assert first.categories == ("South Korea", "Transport")
    assert first.summary == "A plain &lt;summary&gt;."
    assert first.content_base == "https://cdn.example/assets/"
    assert '<a href="map.html">' in first.content_html  # made absolute by the sanitiser
    assert first.published == DateValue(
        datetime(2026, 1, 11, 23, 23, tzinfo=UTC), "2026-01-12T08:23:00+09:00"
    )
    assert first.enclosures == (
        MediaRef("https://blog.example/news/2026/seoul.jpg", "image/jpeg", 2048),
    )
    assert second.link == "https://blog.example/second"
    assert "<b>body</b>" in second.content_html
    assert second.published == DateValue(None, None)
    assert second.updated.value == datetime(2026, 1, 11, 10, tzinfo=UTC)


def test_rss_media_source_and_categories() -> None:
    feed = parse_feed(load("rss_media.xml"), base_url="https://wire.example/rss", content_type=None)
    item, bare = feed.entries
    assert (item.id, item.link, item.author) == ("wire-1", "https://wire.example/tokyo", "Jun")
    assert item.categories == ("Japan", "Markets")
    assert item.summary == "<p>Stocks <b>rose</b>.</p>"
    assert item.media_content == (
        MediaRef("https://wire.example/tokyo.jpg", "image/jpeg", 900, "image"),
    )
    assert item.media_thumbnails == (MediaRef("https://wire.example/tokyo-small.jpg"),)
    assert item.enclosures == (MediaRef("https://wire.example/a.mp3", "audio/mpeg", 5000),)
    assert item.source == SourceRef("Origin Daily", "https://origin.example/rss")
    assert item.published.raw == "Mon, 12 Jan 2026 17:23:00 +0900"
    assert item.published.value == datetime(2026, 1, 12, 8, 23, tzinfo=UTC)
    assert bare.id is None and bare.link == "https://wire.example/relative/item"


def test_json_feed() -> None:
    feed = parse_feed(load("jsonfeed.json"), base_url="https://json.example/feed.json",
                      content_type="application/feed+json")  # fmt: skip
    assert (feed.title, feed.link, feed.version) == ("JSON Desk", "https://json.example/", "json11")
    first, second = feed.entries
    assert (first.id, first.link, first.author) == ("j-1", "https://json.example/posts/1", "Mina")
    assert first.published.value == datetime(2026, 1, 10, 7, tzinfo=UTC)
    assert first.media_content == (MediaRef("https://json.example/img/1.png", medium="image"),)
    assert first.enclosures == (MediaRef("https://json.example/a.mp3", "audio/mpeg", 12),)
    assert first.categories == ("Seoul", "Culture")
    assert (second.id, second.content_html) == ("2", "Plain &lt;text&gt;")


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [(b"", "application/rss+xml", "empty"),
     (b"  \n ", None, "empty"),
     (b"<!DOCTYPE html><html><head><title>Home</title></head><body><p>Hi</p></body></html>",
      "text/html; charset=utf-8", "HTML page"),
     (b"<html><body>no content type</body></html>", None, "HTML page"),
     (b"just some text", "text/plain", "no RSS, Atom or RDF root element"),
     (b'{"hello": "world"}', "application/json", "JSON Feed version"),
     (b"{not json", "application/json", "invalid JSON")],
)  # fmt: skip
def test_not_a_feed(body: bytes, content_type: str | None, reason: str) -> None:
    with pytest.raises(ParseError, match=f"^not a feed: .*{reason}"):
        parse_feed(body, base_url=BASE, content_type=content_type)


def test_challenge_page_is_named_as_such() -> None:
    with pytest.raises(ParseError, match="not a feed: an HTML bot-challenge page"):
        parse_feed(load("challenge.html"), base_url=BASE, content_type="text/html")


def test_billion_laughs_is_refused_quickly() -> None:
    started = time.monotonic()
    with pytest.raises(ParseError, match=r"declares XML entities \(<!ENTITY>\)"):
        parse_feed(load("billion_laughs.xml"), base_url=BASE, content_type=None)
    assert time.monotonic() - started < 1


def test_one_big_entity_used_5000_times_is_refused() -> None:
    uses = "&big;" * 5000
    prolog = f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY big "{"x" * 20_000}">]>'
    body = rss(f"<item><title>{uses}</title></item>", prolog=prolog)
    with pytest.raises(ParseError, match="entities"):
        parse_feed(body, base_url=BASE, content_type="application/rss+xml")


def test_external_entity_to_a_local_file_is_refused() -> None:
    with pytest.raises(ParseError, match="read local files"):
        parse_feed(load("xxe_file.xml"), base_url=BASE, content_type="application/xml")


def test_external_entity_to_localhost_is_refused_without_a_connection(
    raw_server: Callable[..., RawServer],
) -> None:
    server = raw_server(lambda head, sock: sock.sendall(head_reply("200 OK", {}, b"secret")))
    for prolog in (
        f'<!DOCTYPE rss [<!ENTITY x SYSTEM "http://127.0.0.1:{server.port}/x">]>',
        f'<!DOCTYPE rss [<!ENTITY % p SYSTEM "http://127.0.0.1:{server.port}/p.dtd"> %p;]>',
    ):
        with pytest.raises(ParseError, match="entities"):
            parse_feed(rss("<item><title>&x;</title></item>", prolog=prolog), base_url=BASE,
                       content_type=None)  # fmt: skip
    # An external DTD without entity declarations is parsed, but never fetched.
    prolog = f'<!DOCTYPE rss SYSTEM "http://127.0.0.1:{server.port}/rss.dtd">'
    body = rss("<item><title>ok</title></item>", prolog=prolog)
    assert parse_feed(body, base_url=BASE, content_type=None).entries[0].title == "ok"
    assert server.connections == 0


def test_entities_hidden_in_utf16_are_found() -> None:
    text = '<?xml version="1.0" encoding="utf-16"?><!DOCTYPE r [<!ENTITY a "b">]><rss/>'
    with pytest.raises(ParseError, match="entities"):
        parse_feed(text.encode("utf-16"), base_url=BASE, content_type=None)


def test_netscape_rss_091_doctype_is_fine() -> None:
    body = rss("<item><title>old</title><link>https://x.example/1</link></item>",
               prolog='<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD'
               ' RSS 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd">')  # fmt: skip
    assert parse_feed(body, base_url=BASE, content_type=None).entries[0].title == "old"


def test_cp1252_declared_as_utf8_is_decoded_as_cp1252() -> None:
    body = rss("<item><title>Café “quoted” – dash</title></item>").decode().encode("cp1252")
    feed = parse_feed(body, base_url=BASE, content_type="application/rss+xml; charset=utf-8")
    assert feed.entries[0].title == "Café “quoted” – dash"
    assert feed.problem is None


def test_invalid_utf8_keeps_the_valid_characters() -> None:
    body = rss("<item><title>Séoul</title><description>naïve</description></item>").replace(
        "naïve".encode(), b"na\xefve \xff"
    )
    entry = parse_feed(body, base_url=BASE, content_type="text/xml").entries[0]
    assert entry.title == "Séoul"  # not "SÃ©oul": only the bad bytes are re-read
    assert entry.summary == "naïve ÿ"


def test_control_characters_do_not_break_the_document() -> None:
    body = rss(
        "<item><title>bell\x07 and nul\x00</title><guid isPermaLink='false'>g\x01</guid></item>"
    )
    feed = parse_feed(body, base_url=BASE, content_type=None)
    assert (feed.entries[0].title, feed.entries[0].id) == ("bell and nul", "g")
    assert feed.problem is None


def test_other_declared_encodings_are_left_to_feedparser() -> None:
    body = (
        '<?xml version="1.0" encoding="iso-8859-1"?><rss version="2.0"><channel><item>'
        "<title>Für</title></item></channel></rss>"
    )
    assert (
        parse_feed(body.encode("latin-1"), base_url=BASE, content_type=None).entries[0].title
        == "Für"
    )


def test_same_guid_twice_is_returned_as_given() -> None:
    body = rss(
        "<item><guid>a</guid><title>1</title></item><item><guid>a</guid><title>2</title></item>"
    )
    assert [e.title for e in parse_feed(body, base_url=BASE, content_type=None).entries] == [
        "1",
        "2",
    ]


def test_invalid_dates_are_kept_raw() -> None:
    body = rss("<item><guid>a</guid><pubDate>not a date</pubDate></item>")
    assert parse_feed(body, base_url=BASE, content_type=None).entries[0].published == DateValue(
        None, "not a date"
    )


@pytest.mark.parametrize("raw", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+01:00"])
def test_dates_beyond_the_calendar_in_utc_are_unreadable_not_fatal(raw: str) -> None:
    xml = rss(f"<item><guid>a</guid><pubDate>{raw}</pubDate></item><item><guid>b</guid></item>")
    entries = parse_feed(xml, base_url=BASE, content_type=None).entries
    assert len(entries) == 2 and entries[0].published == DateValue(None, raw)
    item = {"id": "a", "content_text": "x", "date_published": raw}
    doc = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": [item]})
    (entry,) = parse_feed(doc.encode(), base_url=BASE, content_type=None).entries
    assert entry.published == DateValue(None, raw)


def test_a_malformed_document_without_a_readable_entry_is_refused_with_the_reason() -> None:
    truncated = rss("<it").replace(b"</channel></rss>", b"")
    with pytest.raises(ParseError, match=r"malformed rss20 document, no entry readable: "
                       r"\w.* at line 1, column \d+"):  # fmt: skip
        parse_feed(truncated, base_url=BASE, content_type=None)
    empty = parse_feed(rss(""), base_url=BASE, content_type=None)  # well-formed: no entries
    assert empty.entries == () and empty.problem is None


def test_broken_xml_is_parsed_leniently_with_the_problem_recorded() -> None:
    body = rss("<item><title>A & B</title><link>https://x.example/1</link></item>")
    feed = parse_feed(body, base_url=BASE, content_type=None)
    assert feed.entries[0].title == "A & B" and feed.problem is not None


def test_local_paths_and_urls_are_never_opened(tmp_path: Path) -> None:
    # feedparser opens a str argument as a path or URL; parse_feed only takes bytes.
    target = tmp_path / "feed.xml"
    target.write_bytes(rss("<item><title>from disk</title></item>"))
    with pytest.raises(ParseError, match="not a feed"):
        parse_feed(str(target).encode(), base_url=BASE, content_type=None)
