"""RSS 2.0 writer: parsed back with feedparser (bozo == 0) and lxml for exact elements."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime

import feedparser
import pytest
from lxml import etree

from feeds.render.document import FeedItem
from feeds.render.rss import render_rss
from tests.render_factory import (
    UPDATED,
    make_document,
    make_item,
    make_source_item,
    minimal_document,
)

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "media": "http://search.yahoo.com/mrss/",
}


def rfc822(value: datetime) -> str:
    return format_datetime(value.astimezone(UTC))


def parse(output: bytes) -> tuple[feedparser.FeedParserDict, etree._Element]:
    parsed = feedparser.parse(output)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    return parsed, etree.fromstring(output)


def channel(root: etree._Element) -> etree._Element:
    found = root.find("channel")
    assert found is not None
    return found


def test_channel_elements() -> None:
    doc = make_document()
    parsed, root = parse(render_rss(doc))
    ch = channel(root)
    assert ch.findtext("title") == doc.title
    assert ch.findtext("description") == doc.description
    assert ch.findtext("language") == "en"
    assert ch.findtext("ttl") == "15"
    assert ch.findtext("generator") == "Feeds 0.1.0"
    assert ch.findtext("docs") == "https://www.rssboard.org/rss-specification"
    assert ch.findtext("image/url") == doc.icon_url
    assert ch.findtext("image/link") == doc.home_url
    assert parsed.feed.title == doc.title


def test_pitfall_channel_link_is_last_link_call_so_alternate_goes_last() -> None:
    doc = make_document()
    parsed, root = parse(render_rss(doc))
    assert channel(root).findtext("link") == doc.home_url
    assert parsed.feed.link == doc.home_url


def test_pitfall_only_self_survives_so_hub_and_next_come_from_extension() -> None:
    doc = make_document()
    _, root = parse(render_rss(doc))
    links = {link.get("rel"): link.get("href") for link in channel(root).findall("atom:link", NS)}
    assert links == {"self": doc.self_url, "hub": doc.hub_urls[0], "next": doc.next_url}


def test_optional_channel_elements_absent_when_unset() -> None:
    _, root = parse(render_rss(minimal_document()))
    ch = channel(root)
    assert [link.get("rel") for link in ch.findall("atom:link", NS)] == ["self"]
    assert ch.find("image") is None


def test_pitfall_feed_dates_default_to_now_so_last_build_date_is_doc_updated() -> None:
    doc = make_document(updated=datetime(2025, 3, 4, 5, 6, 7, 891, tzinfo=UTC))
    parsed, root = parse(render_rss(doc))
    ch = channel(root)
    assert ch.findtext("lastBuildDate") == "Tue, 04 Mar 2025 05:06:07 +0000"
    assert ch.findtext("pubDate") == "Tue, 04 Mar 2025 05:06:07 +0000"
    assert parsed.feed.updated_parsed[:6] == (2025, 3, 4, 5, 6, 7)


def test_pitfall_naive_datetimes_rejected_and_offsets_written_as_utc() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        make_item(1, published=datetime(2026, 1, 1, 9, 0))
    seoul = timezone(timedelta(hours=9))
    item = make_item(1, published=datetime(2026, 1, 12, 18, 0, tzinfo=seoul))
    _, root = parse(render_rss(make_document(items=(item,))))
    assert channel(root).findtext("item/pubDate") == "Mon, 12 Jan 2026 09:00:00 +0000"


def test_pitfall_add_entry_prepends_so_document_order_is_kept() -> None:
    doc = make_document(items=tuple(make_item(n) for n in range(1, 6)))
    parsed, root = parse(render_rss(doc))
    expected = [item.id for item in doc.items]
    assert [guid.text for guid in root.iterfind("channel/item/guid")] == expected
    assert [entry.id for entry in parsed.entries] == expected


def test_item_elements() -> None:
    item = make_item(1)
    parsed, root = parse(render_rss(make_document(items=(item,))))
    el = channel(root).find("item")
    assert el is not None
    guid = el.find("guid")
    assert guid is not None and guid.text == item.id
    assert guid.get("isPermaLink") == "false"
    assert el.findtext("title") == item.title
    assert el.findtext("link") == item.url
    assert el.findtext("description") == item.summary
    assert el.findtext("content:encoded", namespaces=NS) == item.content_html
    assert el.findtext("pubDate") == rfc822(item.published)
    assert el.findtext("atom:updated", namespaces=NS) == item.updated.isoformat()
    assert [c.text for c in el.findall("category")] == ["latest", "SouthKorea"]
    entry = parsed.entries[0]
    assert entry.id == item.id and entry.guidislink is False
    # feedparser re-serialises (sanitises) HTML, so compare what survives it.
    assert 'href="https://news.example.org/tags/busan"' in entry.content[0].value
    assert entry.published_parsed[:6] == item.published.timetuple()[:6]
    assert entry.updated_parsed[:6] == item.updated.timetuple()[:6]
    assert [t.term for t in entry.tags] == ["latest", "SouthKorea"]


def test_pitfall_rss_author_needs_email_so_dc_creator_is_used() -> None:
    item = make_item(1, author="Saif Rahman")
    parsed, root = parse(render_rss(make_document(items=(item,))))
    el = channel(root).find("item")
    assert el is not None
    assert el.find("author") is None
    assert el.findtext("dc:creator", namespaces=NS) == "Saif Rahman"
    assert parsed.entries[0].author == "Saif Rahman"


def test_no_creator_when_author_empty() -> None:
    _, root = parse(render_rss(make_document(items=(make_item(1, author=""),))))
    assert root.find("channel/item/dc:creator", NS) is None


def test_enclosure_has_length_and_type() -> None:
    item = make_item(1)
    assert item.image is not None
    parsed, root = parse(render_rss(make_document(items=(item,))))
    enclosure = root.find("channel/item/enclosure")
    assert enclosure is not None
    assert dict(enclosure.attrib) == {
        "url": item.image.url,
        "length": "48213",
        "type": "image/jpeg",
    }
    assert parsed.entries[0].enclosures[0].href == item.image.url


def test_pitfall_media_group_unless_group_none() -> None:
    item = make_item(1)
    assert item.image is not None
    parsed, root = parse(render_rss(make_document(items=(item,))))
    el = channel(root).find("item")
    assert el is not None
    assert root.find(".//media:group", NS) is None
    content = el.find("media:content", NS)
    assert content is not None
    assert dict(content.attrib) == {
        "url": item.image.url,
        "type": "image/jpeg",
        "fileSize": "48213",
        "medium": "image",
    }
    thumbnail = el.find("media:thumbnail", NS)
    assert thumbnail is not None and thumbnail.get("url") == item.image.url
    assert parsed.entries[0].media_content[0]["url"] == item.image.url


def test_an_image_of_unknown_size_has_no_enclosure_and_no_file_size() -> None:
    item = make_item(1)
    assert item.image is not None
    unsized = replace(item, image=replace(item.image, length=None))
    parsed, root = parse(render_rss(make_document(items=(unsized,))))
    el = channel(root).find("item")
    assert el is not None
    assert el.find("enclosure") is None  # RSS requires a length; there is none to give
    content = el.find("media:content", NS)
    assert content is not None
    assert dict(content.attrib) == {"url": item.image.url, "type": "image/jpeg", "medium": "image"}
    assert parsed.entries[0].media_content[0]["url"] == item.image.url


def test_no_image_elements_without_image() -> None:
    _, root = parse(render_rss(make_document(items=(make_item(1, image=None),))))
    el = channel(root).find("item")
    assert el is not None
    assert el.find("enclosure") is None and el.find("media:content", NS) is None


def test_source_credits_outside_feed() -> None:
    item = make_source_item()
    assert item.source is not None
    parsed, root = parse(render_rss(make_document(items=(item,))))
    source = root.find("channel/item/source")
    assert source is not None
    assert source.get("url") == item.source.feed_url
    assert source.text == "Harbour Gazette"
    assert parsed.entries[0].source.href == item.source.feed_url


def test_a_source_without_an_http_url_is_not_shown() -> None:
    item = make_source_item()
    assert item.source is not None
    local = replace(item, source=replace(item.source, feed_url=None, id="tag:x,2026:source/1"))
    _, root = parse(render_rss(make_document(items=(local,))))
    assert root.find("channel/item/source") is None  # <source url> is required in RSS
    assert b"tag:x,2026:source" not in render_rss(make_document(items=(local,)))


def test_plain_text_summary_is_html_escaped_once() -> None:
    item = make_item(1, summary="S&P 500 <up> 2%")
    parsed, root = parse(render_rss(make_document(items=(item,))))
    assert root.findtext("channel/item/description") == "S&amp;P 500 &lt;up&gt; 2%"
    assert "S&amp;P 500 &lt;up&gt; 2%" in parsed.entries[0].summary


def test_without_summary_content_becomes_description() -> None:
    item = make_item(1, summary="")
    _, root = parse(render_rss(make_document(items=(item,))))
    assert root.findtext("channel/item/description") == item.content_html


def test_pitfall_syndication_extension_not_used() -> None:
    output = render_rss(make_document())
    assert b"purl.org/rss/1.0/modules/syndication" not in output
    assert b"UpdatePeriod" not in output and b"updatePeriod" not in output


def test_pitfall_lxml_rejects_control_characters_so_they_are_removed() -> None:
    item = make_item(1, title="Bell\x07 and\x00 null\x1f", summary="tab\tkept\x0b", author="A\x08B")
    doc = make_document(items=(item,), title="World\x0c", description="News\x1b")
    parsed, root = parse(render_rss(doc))
    assert channel(root).findtext("title") == "World"
    assert channel(root).findtext("description") == "News"
    assert root.findtext("channel/item/title") == "Bell and null"
    assert root.findtext("channel/item/description") == "tab\tkept"
    assert root.findtext("channel/item/dc:creator", namespaces=NS) == "AB"
    assert parsed.entries[0].title == "Bell and null"


def test_korean_and_japanese_text_survive_as_utf8() -> None:
    item = make_item(1, title="부산 다리 재개통", summary="橋が再開しました", categories=("한국",))
    doc = make_document(items=(item,), title="세계 뉴스")
    output = render_rss(doc)
    assert "부산 다리 재개통".encode() in output
    parsed, root = parse(output)
    assert parsed.feed.title == "세계 뉴스"
    assert root.findtext("channel/item/title") == "부산 다리 재개통"
    assert root.findtext("channel/item/description") == "橋が再開しました"
    assert root.findtext("channel/item/category") == "한국"


def test_same_document_renders_identical_bytes() -> None:
    doc = make_document(items=(make_item(1), make_source_item(2)))
    first = render_rss(doc)
    assert render_rss(replace(doc)) == first
    assert format_datetime(datetime.now(UTC))[:16].encode() not in first


def test_no_processing_instruction_precedes_the_feed() -> None:
    # Browsers are dropping XSLT: people opening a feed get the app's HTML page instead.
    output = render_rss(make_document())
    assert output.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<rss")
    assert etree.fromstring(output).getprevious() is None


def test_every_item_variant_parses_cleanly() -> None:
    items: tuple[FeedItem, ...] = (
        make_item(1),
        make_source_item(2),
        make_item(3, summary="", author="", categories=(), image=None, language="ko"),
        make_item(4, updated=UPDATED, content_html=""),
    )
    parsed, _ = parse(render_rss(make_document(items=items)))
    assert len(parsed.entries) == 4
