"""Atom 1.0 writer: feedparser (bozo == 0), lxml for exact elements, atom.rng for validity."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import feedparser
import pytest
from lxml import etree

from feeds.render.atom import render_atom
from feeds.render.document import FeedDocument
from tests.render_factory import (
    for_format,
    make_document,
    make_item,
    make_source_item,
    minimal_document,
)
from tests.schemas import validate_atom

A = "http://www.w3.org/2005/Atom"
NS = {"a": A}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def atom_doc(**overrides: object) -> FeedDocument:
    return for_format(make_document(**overrides), "atom")  # type: ignore[arg-type]


def render_checked(doc: FeedDocument) -> tuple[feedparser.FeedParserDict, etree._Element]:
    """Render, validate against the RELAX NG schema, and parse back both ways."""
    output = render_atom(doc)
    validate_atom(output)
    parsed = feedparser.parse(output)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed, etree.fromstring(output)


def entries(root: etree._Element) -> list[etree._Element]:
    return root.findall("a:entry", NS)


def links(element: etree._Element) -> list[dict[str, str]]:
    return [dict(link.attrib) for link in element.findall("a:link", NS)]


def test_feed_elements() -> None:
    doc = atom_doc()
    parsed, root = render_checked(doc)
    assert root.findtext("a:id", namespaces=NS) == doc.id
    assert root.findtext("a:title", namespaces=NS) == doc.title
    assert root.findtext("a:subtitle", namespaces=NS) == doc.description
    assert root.findtext("a:icon", namespaces=NS) == doc.icon_url
    assert root.get(XML_LANG) == "en"
    generator = root.find("a:generator", NS)
    assert generator is not None
    assert generator.text == "Feeds" and generator.get("version") == "0.1.0"
    assert parsed.feed.id == doc.id


def test_feed_links_self_alternate_hub_next() -> None:
    doc = atom_doc()
    parsed, root = render_checked(doc)
    assert links(root) == [
        {"href": doc.self_url, "rel": "self", "type": "application/atom+xml"},
        {"href": doc.home_url, "rel": "alternate", "type": "text/html"},
        {"href": doc.hub_urls[0], "rel": "hub"},
        {"href": doc.next_url, "rel": "next", "type": "application/atom+xml"},
    ]
    assert parsed.feed.link == doc.home_url


def test_minimal_feed_has_only_self_and_alternate() -> None:
    _, root = render_checked(for_format(minimal_document(), "atom"))
    assert [link["rel"] for link in links(root)] == ["self", "alternate"]
    assert root.find("a:icon", NS) is None


def test_pitfall_updated_defaults_to_now_so_feed_and_entry_dates_are_set() -> None:
    item = make_item(1)
    doc = atom_doc(items=(item,), updated=datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC))
    parsed, root = render_checked(doc)
    assert root.findtext("a:updated", namespaces=NS) == "2025-03-04T05:06:07+00:00"
    entry = entries(root)[0]
    assert entry.findtext("a:updated", namespaces=NS) == item.updated.isoformat()
    assert entry.findtext("a:published", namespaces=NS) == item.published.isoformat()
    assert parsed.entries[0].updated_parsed[:6] == item.updated.timetuple()[:6]


def test_pitfall_naive_datetimes_rejected_and_offsets_written_as_utc() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        make_item(1, updated=datetime(2026, 1, 1, 9, 0))
    seoul = timezone(timedelta(hours=9))
    item = make_item(1, updated=datetime(2026, 1, 12, 18, 0, 0, 123456, tzinfo=seoul))
    _, root = render_checked(atom_doc(items=(item,)))
    assert entries(root)[0].findtext("a:updated", namespaces=NS) == "2026-01-12T09:00:00+00:00"


def test_pitfall_add_entry_prepends_so_document_order_is_kept() -> None:
    doc = atom_doc(items=tuple(make_item(n) for n in range(1, 6)))
    parsed, root = render_checked(doc)
    expected = [item.id for item in doc.items]
    assert [e.findtext("a:id", namespaces=NS) for e in entries(root)] == expected
    assert [e.id for e in parsed.entries] == expected


def test_entry_elements() -> None:
    item = make_item(1)
    parsed, root = render_checked(atom_doc(items=(item,)))
    entry = entries(root)[0]
    assert entry.findtext("a:id", namespaces=NS) == item.id
    assert entry.findtext("a:title", namespaces=NS) == item.title
    assert entry.findtext("a:author/a:name", namespaces=NS) == "Saif Rahman"
    assert [c.get("term") for c in entry.findall("a:category", NS)] == ["latest", "SouthKorea"]
    assert parsed.entries[0].link == item.url
    assert parsed.entries[0].author == "Saif Rahman"


def test_pitfall_description_overwrites_content_so_summary_and_content_are_separate() -> None:
    item = make_item(1, summary="Short & plain")
    parsed, root = render_checked(atom_doc(items=(item,)))
    entry = entries(root)[0]
    summary = entry.find("a:summary", NS)
    content = entry.find("a:content", NS)
    assert summary is not None and content is not None
    assert summary.get("type") == "text" and summary.text == "Short & plain"
    assert content.get("type") == "html" and content.text == item.content_html
    assert parsed.entries[0].summary == "Short & plain"


def test_pitfall_entry_links_lose_rel_so_enclosure_is_not_a_second_alternate() -> None:
    item = make_item(1)
    assert item.image is not None
    parsed, root = render_checked(atom_doc(items=(item,)))
    entry_links = links(entries(root)[0])
    assert [link for link in entry_links if link.get("rel", "alternate") == "alternate"] == [
        {"href": item.url, "rel": "alternate", "type": "text/html"}
    ]
    assert {
        "rel": "enclosure",
        "type": "image/jpeg",
        "length": "48213",
        "href": item.image.url,
        "title": "Bridge",
    } in entry_links
    enclosure = parsed.entries[0].enclosures[0]
    assert enclosure.href == item.image.url and enclosure.length == "48213"


def test_source_has_id_title_and_self_link_and_via_link() -> None:
    item = make_source_item()
    assert item.source is not None
    parsed, root = render_checked(atom_doc(items=(item,)))
    entry = entries(root)[0]
    source = entry.find("a:source", NS)
    assert source is not None
    assert source.findtext("a:id", namespaces=NS) == item.source.feed_url
    assert source.findtext("a:title", namespaces=NS) == "Harbour Gazette"
    # W3C MissingSourceElement: atom:source needs its updated.
    assert source.findtext("a:updated", namespaces=NS) == item.source.updated.isoformat()
    assert links(source) == [{"rel": "self", "href": item.source.feed_url}]
    assert {"rel": "via", "type": "text/html", "href": item.source.link} in links(entry)
    assert parsed.entries[0].source.title == "Harbour Gazette"


def test_a_source_without_an_http_url_gets_a_tag_id_and_no_self_link() -> None:
    item = make_source_item()
    assert item.source is not None
    local = replace(item, source=replace(item.source, feed_url=None, id="tag:x,2026:source/1"))
    _, root = render_checked(atom_doc(items=(local,)))
    source = entries(root)[0].find("a:source", NS)
    assert source is not None
    assert source.findtext("a:id", namespaces=NS) == "tag:x,2026:source/1"
    assert source.findtext("a:updated", namespaces=NS) == item.source.updated.isoformat()
    assert links(source) == []


def test_an_image_of_unknown_size_is_an_enclosure_without_length() -> None:
    item = make_item(1)
    assert item.image is not None
    unsized = replace(item, image=replace(item.image, length=None))
    _, root = render_checked(atom_doc(items=(unsized,)))
    enclosures = [link for link in links(entries(root)[0]) if link["rel"] == "enclosure"]
    assert enclosures == [
        {"rel": "enclosure", "type": "image/jpeg", "href": item.image.url, "title": "Bridge"}
    ]


def test_feed_author_only_when_an_entry_has_none() -> None:
    _, with_authors = render_checked(atom_doc())
    assert with_authors.find("a:author", NS) is None
    doc = atom_doc(items=(make_item(1), make_item(2, author="")))
    _, root = render_checked(doc)
    assert root.findtext("a:author/a:name", namespaces=NS) == doc.title
    assert entries(root)[1].find("a:author", NS) is None


def test_entry_language_and_minimal_entry_are_valid() -> None:
    items = (
        make_item(1, language="ko"),
        make_item(2, summary="", categories=(), image=None),
        make_item(3, content_html=""),
    )
    _, root = render_checked(atom_doc(items=items))
    assert entries(root)[0].get(XML_LANG) == "ko"
    assert entries(root)[1].find("a:summary", NS) is None
    assert entries(root)[2].find("a:content", NS) is None


def test_pitfall_lxml_rejects_control_characters_so_they_are_removed() -> None:
    item = make_item(1, title="Bell\x07 and\x00 null", content_html="<p>x\x1f</p>")
    parsed, root = render_checked(atom_doc(items=(item,), title="World\x0c"))
    assert root.findtext("a:title", namespaces=NS) == "World"
    entry = entries(root)[0]
    assert entry.findtext("a:title", namespaces=NS) == "Bell and null"
    assert entry.findtext("a:content", namespaces=NS) == "<p>x</p>"
    assert parsed.entries[0].title == "Bell and null"


def test_korean_and_japanese_text_survive_as_utf8() -> None:
    item = make_item(1, title="東京の新しい橋", author="김민준", categories=("한국", "日本"))
    output = render_atom(atom_doc(items=(item,), title="세계 뉴스"))
    assert "東京の新しい橋".encode() in output and "김민준".encode() in output
    parsed, root = render_checked(atom_doc(items=(item,), title="세계 뉴스"))
    assert parsed.feed.title == "세계 뉴스"
    assert [c.get("term") for c in entries(root)[0].findall("a:category", NS)] == ["한국", "日本"]


def test_same_document_renders_identical_bytes() -> None:
    doc = atom_doc(items=(make_item(1), make_source_item(2)))
    first = render_atom(doc)
    assert render_atom(replace(doc)) == first
    assert datetime.now(UTC).date().isoformat().encode() not in first


def test_no_processing_instruction_precedes_the_feed() -> None:
    # Browsers are dropping XSLT: people opening a feed get the app's HTML page instead.
    output = render_atom(atom_doc())
    assert output.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<feed")
    assert etree.fromstring(output).getprevious() is None
