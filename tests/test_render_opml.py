"""OPML 2.0 writer: parsed back with lxml and checked attribute by attribute."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, timedelta, timezone

import pytest
from lxml import etree

from feeds.render.opml import OpmlOutline, render_opml

OUTLINES = (
    OpmlOutline(
        text="World",
        title="World — Example News",
        xml_url="https://news.example.org/feeds/sections/world.rss",
        html_url="https://news.example.org/sections/world",
        description="The latest world news.",
        category="/sections/world",
    ),
    OpmlOutline(
        text="#한국",
        title="#한국 — Example News",
        xml_url="https://news.example.org/feeds/tags/%ED%95%9C%EA%B5%AD.rss",
        html_url="https://news.example.org/tags/%ED%95%9C%EA%B5%AD",
    ),
)


def test_head_and_outlines() -> None:
    root = etree.fromstring(render_opml("Example News feeds", OUTLINES))
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert root.findtext("head/title") == "Example News feeds"
    assert root.findtext("head/docs") == "http://opml.org/spec2.opml"
    assert root.find("head/dateModified") is None
    outlines = root.findall("body/outline")
    assert [dict(o.attrib) for o in outlines] == [
        {
            "type": "rss",
            "text": "World",
            "title": "World — Example News",
            "xmlUrl": "https://news.example.org/feeds/sections/world.rss",
            "htmlUrl": "https://news.example.org/sections/world",
            "description": "The latest world news.",
            "category": "/sections/world",
        },
        {
            "type": "rss",
            "text": "#한국",
            "title": "#한국 — Example News",
            "xmlUrl": "https://news.example.org/feeds/tags/%ED%95%9C%EA%B5%AD.rss",
            "htmlUrl": "https://news.example.org/tags/%ED%95%9C%EA%B5%AD",
        },
    ]


def test_date_modified_is_rfc822_utc_when_given() -> None:
    seoul = timezone(timedelta(hours=9))
    output = render_opml(
        "Feeds", OUTLINES, date_modified=datetime(2026, 1, 13, 2, 23, 5, tzinfo=seoul)
    )
    root = etree.fromstring(output)
    assert root.findtext("head/dateModified") == "Mon, 12 Jan 2026 17:23:05 +0000"


def test_naive_date_modified_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        render_opml("Feeds", OUTLINES, date_modified=datetime(2026, 1, 1))


def test_deterministic_and_utf8() -> None:
    stamp = datetime(2026, 1, 12, tzinfo=UTC)
    first = render_opml("Feeds", OUTLINES, date_modified=stamp)
    assert render_opml("Feeds", list(OUTLINES), date_modified=stamp) == first
    assert first.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert "#한국".encode() in first


def test_control_characters_removed() -> None:
    outline = OpmlOutline("A\x00B", "T\x07", "https://x.example/a.rss", "https://x.example/")
    root = etree.fromstring(render_opml("Feeds\x1b", [outline]))
    assert root.findtext("head/title") == "Feeds"
    assert root.find("body/outline").attrib["text"] == "AB"  # type: ignore[union-attr]


def test_outline_is_frozen() -> None:
    with pytest.raises(FrozenInstanceError):
        OUTLINES[0].text = "changed"  # type: ignore[misc]
