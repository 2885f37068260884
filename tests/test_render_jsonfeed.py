"""JSON Feed 1.1 writer (feedgen has none): parsed back, checked against the schema.

feedparser 6.0 cannot read JSON Feed at all, so the schema and json.loads stand in.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from rfc3339_validator import validate_rfc3339

from feeds.render.document import FeedDocument
from feeds.render.jsonfeed import render_json
from tests.render_factory import (
    for_format,
    make_document,
    make_item,
    make_source_item,
    minimal_document,
)
from tests.schemas import validate_jsonfeed


def json_doc(**overrides: Any) -> FeedDocument:
    return for_format(make_document(**overrides), "json")


def render_checked(doc: FeedDocument) -> dict[str, Any]:
    output = render_json(doc)
    validate_jsonfeed(output)
    data: dict[str, Any] = json.loads(output.decode("utf-8"))
    return data


def test_top_level_fields() -> None:
    doc = json_doc()
    data = render_checked(doc)
    assert next(iter(data)) == "version"
    assert data["version"] == "https://jsonfeed.org/version/1.1"
    assert data["title"] == doc.title
    assert data["home_page_url"] == doc.home_url
    assert data["feed_url"] == doc.self_url
    assert data["description"] == doc.description
    assert data["language"] == "en"
    assert data["next_url"] == doc.next_url
    assert data["icon"] == doc.icon_url
    assert data["hubs"] == [{"type": "WebSub", "url": doc.hub_urls[0]}]


def test_optional_top_level_fields_omitted_not_null() -> None:
    data = render_checked(for_format(minimal_document(), "json"))
    for key in ("next_url", "icon", "hubs"):
        assert key not in data
    assert None not in data.values()


def test_item_fields() -> None:
    item = make_item(1, language="en-GB")
    assert item.image is not None
    data = render_checked(json_doc(items=(item,)))
    out = data["items"][0]
    assert out == {
        "id": item.id,
        "url": item.url,
        "title": item.title,
        "content_html": item.content_html,
        "summary": item.summary,
        "image": item.image.url,
        "date_published": "2026-01-12T16:23:05+00:00",
        "date_modified": "2026-01-12T16:53:05+00:00",
        "authors": [{"name": "Saif Rahman"}],
        "tags": ["latest", "SouthKorea"],
        "language": "en-GB",
    }


def test_dates_are_rfc3339_utc_with_offset() -> None:
    seoul = timezone(timedelta(hours=9))
    item = make_item(1, published=datetime(2026, 1, 12, 18, 0, 0, 999, tzinfo=seoul))
    out = render_checked(json_doc(items=(item,)))["items"][0]
    assert out["date_published"] == "2026-01-12T09:00:00+00:00"
    assert validate_rfc3339(out["date_published"]) and validate_rfc3339(out["date_modified"])


def test_items_keep_document_order() -> None:
    doc = json_doc(items=tuple(make_item(n) for n in range(1, 6)))
    assert [i["id"] for i in render_checked(doc)["items"]] == [i.id for i in doc.items]


def test_source_gives_external_url_and_extension() -> None:
    item = make_source_item()
    assert item.source is not None
    out = render_checked(json_doc(items=(item,)))["items"][0]
    assert out["external_url"] == item.source.link
    assert out["_source"] == {
        "title": "Harbour Gazette",
        "feed_url": item.source.feed_url,
        "url": item.source.link,
    }


def test_a_source_without_an_http_url_shows_no_feed_url() -> None:
    item = make_source_item()
    assert item.source is not None
    local = replace(item, source=replace(item.source, feed_url=None, id="tag:x,2026:source/1"))
    out = render_checked(json_doc(items=(local,)))["items"][0]
    assert out["_source"] == {"title": "Harbour Gazette", "url": item.source.link}


def test_minimal_item_still_has_content() -> None:
    item = make_item(1, summary="", content_html="", author="", categories=(), image=None)
    out = render_checked(json_doc(items=(item,)))["items"][0]
    assert out["content_text"] == item.title
    for key in ("summary", "content_html", "authors", "tags", "image", "external_url"):
        assert key not in out


def test_control_characters_removed() -> None:
    item = make_item(1, title="Bell\x07 and\x00 null", summary="lone \ud800 surrogate")
    out = render_checked(json_doc(items=(item,)))["items"][0]
    assert out["title"] == "Bell and null"
    assert out["summary"] == "lone  surrogate"


def test_korean_and_japanese_written_as_utf8_not_escapes() -> None:
    item = make_item(1, title="부산 다리 재개통", summary="橋が再開しました")
    output = render_json(json_doc(items=(item,)))
    assert "부산 다리 재개통".encode() in output and b"\\u" not in output
    assert render_checked(json_doc(items=(item,)))["items"][0]["summary"] == "橋が再開しました"


def test_same_document_renders_identical_bytes() -> None:
    doc = json_doc(items=(make_item(1), make_source_item(2)))
    first = render_json(doc)
    assert render_json(replace(doc)) == first
    assert datetime.now(UTC).date().isoformat().encode() not in first
