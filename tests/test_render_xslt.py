"""feed.xsl turns both our RSS and our Atom into a readable HTML page."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from lxml import etree, html

from feeds.render.atom import render_atom
from feeds.render.document import FeedDocument
from feeds.render.rss import render_rss
from tests.render_factory import for_format, make_document, make_item

STYLESHEET = Path(__file__).resolve().parents[1] / "feeds" / "web" / "static" / "feed.xsl"


@cache
def transform() -> etree.XSLT:
    return etree.XSLT(etree.parse(str(STYLESHEET)))


def document() -> FeedDocument:
    return make_document(
        items=(
            make_item(1, title="부산 다리 재개통", summary="S&P 500 <rises>"),
            make_item(2),
        )
    )


def page(feed: bytes) -> html.HtmlElement:
    result = transform()(etree.fromstring(feed))
    assert not transform().error_log, transform().error_log
    return html.fromstring(str(result))


@pytest.mark.parametrize(
    ("render", "extension"), [(render_rss, "rss"), (render_atom, "atom")], ids=["rss", "atom"]
)
def test_page_lists_feed_and_items(render: object, extension: str) -> None:
    doc = for_format(document(), extension)
    root = page(render(doc))  # type: ignore[operator]
    assert root.findtext(".//h1") == doc.title
    assert doc.description in root.text_content()
    assert doc.self_url in root.findtext(".//code")  # type: ignore[operator]
    assert "feed reader" in root.text_content()
    items = root.findall(".//li")
    assert [li.findtext("h2/a") for li in items] == [i.title for i in doc.items]
    assert [li.find("h2/a").get("href") for li in items] == [i.url for i in doc.items]  # type: ignore[union-attr]
    expected_time = "Mon, 12 Jan 2026 16:23" if extension == "rss" else "2026-01-12 16:23"
    assert str(items[0].findtext("time")).startswith(expected_time)
    # The plain-text summary shows as text in both formats, never as markup.
    assert items[0].findtext("p") == "S&P 500 <rises>"
    assert items[0].find(".//rises") is None


def test_stylesheet_is_xslt_1_0() -> None:
    root = etree.parse(str(STYLESHEET)).getroot()
    assert root.get("version") == "1.0"


def test_rss_content_without_summary_is_shown_as_text_never_markup() -> None:
    # Without a summary the RSS description holds the content HTML; a browser applying
    # the stylesheet must show its words and never build its elements.
    content = (
        '<p>Cranes &amp; ships <img src="x" onerror="alert(1)"></p>'
        "<script>alert(2)</script><svg onload=alert(3)></svg>"
    )
    doc = make_document(items=(make_item(1, summary="", content_html=content),))
    root = page(render_rss(doc))
    paragraph = root.findall(".//li")[0].find("p")
    assert paragraph is not None
    assert len(paragraph) == 0  # text only: no child element at all
    assert paragraph.text_content().strip() == "Cranes & ships alert(2)"
    for name in ("script", "img", "svg"):
        assert root.find(f".//{name}") is None


def test_long_description_is_shortened_not_failed() -> None:
    content = "<p>" + "word &amp; <b>bold</b> " * 2000 + "</p>"
    doc = make_document(items=(make_item(1, summary="", content_html=content),))
    paragraph = page(render_rss(doc)).findall(".//li")[0].find("p")
    assert paragraph is not None and len(paragraph) == 0
    text = paragraph.text_content()
    assert text.startswith("word & bold word & bold")
    assert 100 < len(text) < 2000
