"""Bounded ingest: entry HTML is bounded by size and nesting before nh3 sees it.

A deeply nested entry is flattened (every word kept, a warning on the source), a 4 MB
entry is refused with the reason while the others are taken, categories by the
thousand are cut to the hashtag cap, and feeds keep text nested deeper than lxml reads.
Every document is served by a real local HTTP server and read back from the store and
from our own feeds.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from xml.etree import ElementTree as ET

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from feeds.htmlbound import FEED_MAX_DEPTH, flatten_deep, within_depth
from feeds.models import ArticleFilter
from feeds.render.atom import render_atom
from feeds.render.content import absolutize_html
from feeds.render.jsonfeed import render_json
from feeds.render.rss import render_rss
from feeds.service import Service
from feeds.store.schema import articles
from tests.conftest import article_payload
from tests.httpservers import RawServer, head_reply, raw_server
from tests.ingest_helpers import (
    RECENT,
    add_source,
    ingest_app_fixture,  # noqa: F401 (the `app` fixture)
)
from tests.render_factory import make_document, make_item

__all__ = ["raw_server"]  # the fixture, imported for its side effect

DEPTH = 5_000
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"


def words(count: int) -> list[str]:
    return [f"w{n}x" for n in range(count)]


def nested(count: int, tag: str = "div") -> str:
    """*count* elements each inside the one before, each holding its own word."""
    return "".join(f"<{tag}>{word} " for word in words(count)) + f"</{tag}>" * count


def item(guid: str, title: str, html: str, categories: tuple[str, ...] = ()) -> str:
    cats = "".join(f"<category>{c}</category>" for c in categories)
    return (
        f"<item><guid isPermaLink='false'>{guid}</guid><title>{title}</title>"
        f"<link>https://wire.example.com/{guid}</link><pubDate>{RECENT}</pubDate>"
        f"<description>Short.</description>{cats}"
        f"<content:encoded><![CDATA[{html}]]></content:encoded></item>"
    )


def document(*items: str) -> bytes:
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0' "
        "xmlns:content='http://purl.org/rss/1.0/modules/content/'><channel>"
        "<title>Test Wire</title><link>https://wire.example.com/</link>"
        f"{''.join(items)}</channel></rss>"
    ).encode()


def serve(raw_server: Callable[..., RawServer], body: bytes) -> str:
    def handler(_head: bytes, sock: socket.socket) -> None:
        headers = {"Content-Type": "application/rss+xml", "Content-Length": str(len(body))}
        sock.sendall(head_reply("200 OK", headers, body))

    return raw_server(handler).url("/wire.xml")


def text_of(html: str) -> list[str]:
    """The words of sanitised HTML (well-formed as XML here: no void or named entities)."""
    return "".join(ET.fromstring(f"<x>{html}</x>").itertext()).split()


def stored_content(service: Service) -> dict[str, str]:
    with service.ctx.store.read() as conn:
        rows = conn.execute(select(articles.c.title, articles.c.content_html)).all()
    return {row.title: row.content_html for row in rows}


def rss_content(client: FlaskClient, path: str) -> dict[str, str]:
    root = ET.fromstring(client.get(path).data)
    return {i.findtext("title") or "": i.findtext(CONTENT) or "" for i in root.iter("item")}


def test_deep_nesting_is_flattened_and_a_huge_entry_refused_while_the_rest_are_taken(
    app: Flask, service: Service, raw_server: Callable[..., RawServer]
) -> None:
    huge = "<p>" + "filler " * (4 * 1024 * 1024 // 7) + "</p>"
    body = document(
        item("deep", "Deep", nested(DEPTH)),
        item("huge", "Huge", huge),
        item("plain", "Plain", "<p>Harbour cranes return.</p>"),
    )
    source_id = add_source(service, serve(raw_server, body))
    outcome = service.sources.refresh(source_id)

    assert (outcome.status, outcome.new, outcome.counts.refused) == ("fetched", 2, 1)
    ((entry, reason),) = outcome.counts.refusals
    assert entry == "Huge"
    assert "content" in reason and "1,048,576-byte limit" in reason
    limit = service.settings.ingest_html_max_depth
    assert any(
        w.startswith("Deep:") and f"nested deeper than {limit} levels" in w
        for w in outcome.counts.warnings
    ), outcome.counts.warnings
    # The source keeps what the outcome said, for the admin and the API.
    shown = service.sources.get(source_id).state.items
    assert (shown.refused, shown.refusals, shown.warnings) == (
        1,
        outcome.counts.refusals,
        outcome.counts.warnings,
    )

    stored = stored_content(service)
    assert set(stored) == {"Deep", "Plain"}
    assert text_of(stored["Deep"]) == words(DEPTH)
    # Served in a feed, every word is still there.
    served = rss_content(app.test_client(), "/feeds/sections/world.rss")
    assert text_of(served["Deep"]) == words(DEPTH)


def test_an_entry_at_the_size_limit_is_taken(
    app: Flask, service: Service, raw_server: Callable[..., RawServer]
) -> None:
    limit = service.settings.ingest_entry_max_bytes
    body = "<p>" + "é" * ((limit - 7) // 2) + "</p>"  # two bytes a character in UTF-8
    assert len(body.encode()) <= limit
    source_id = add_source(service, serve(raw_server, document(item("edge", "Edge", body))))
    outcome = service.sources.refresh(source_id)
    assert (outcome.new, outcome.counts.refused) == (1, 0)


def test_ten_thousand_categories_keep_the_first_hashtags_with_a_warning(
    app: Flask, service: Service, raw_server: Callable[..., RawServer]
) -> None:
    categories = tuple(f"Topic{n}" for n in range(10_000))
    body = document(item("bomb", "Bomb", "<p>Text.</p>", categories), item("ok", "Ok", "<p>Ok</p>"))
    source_id = add_source(service, serve(raw_server, body), hashtags=["Wire"])
    outcome = service.sources.refresh(source_id)

    assert (outcome.status, outcome.new) == ("fetched", 2)
    cap = service.settings.max_hashtags_per_article
    warnings = " | ".join(outcome.counts.warnings)
    assert "categories past the first 1000 of an entry were dropped" in warnings
    assert f"Bomb: hashtags cut to the first {cap} of 1001" in warnings
    (bomb,) = [a for a in service.articles.list(ArticleFilter()) if a.title == "Bomb"]
    # The source's own hashtag first, then the entry's categories in document order.
    assert [t.display for t in bomb.hashtags] == ["Wire", *categories[: cap - 1]]
    feed = json.loads(app.test_client().get("/feeds/all.json").data)
    (served,) = [i for i in feed["items"] if i["title"] == "Bomb"]
    assert len(served["tags"]) == cap + 1  # the section, then the hashtags


def test_feeds_keep_text_nested_deeper_than_lxml_reads() -> None:
    """Stored markup deeper than lxml reads (written before the API refused it) loses no
    word on its way into a feed."""
    depth = 1_000
    content = absolutize_html(nested(depth, "blockquote"), "https://news.example.com/a")
    assert text_of(content) == words(depth)
    document = make_document((make_item(1, content_html=content),))
    rss = ET.fromstring(render_rss(document))
    assert text_of(rss.findtext(f"channel/item/{CONTENT}") or "") == words(depth)
    atom = ET.fromstring(render_atom(document))
    ns = "{http://www.w3.org/2005/Atom}"
    assert text_of(atom.findtext(f"{ns}entry/{ns}content") or "") == words(depth)
    feed = json.loads(render_json(document))
    assert text_of(feed["items"][0]["content_html"]) == words(depth)


def test_the_api_refuses_html_nested_deeper_than_feeds_carry(
    client: FlaskClient, writer_token: dict[str, str], service: Service
) -> None:
    for depth, status in ((FEED_MAX_DEPTH, 201), (FEED_MAX_DEPTH + 1, 422)):
        response = client.post(
            "/api/v1/articles",
            json=article_payload(content_html=nested(depth), url=f"https://x.example/{depth}"),
            headers=writer_token,
        )
        assert response.status_code == status, response.get_json()
    body = response.get_json()
    assert list(body["fields"]) == ["content_html"]
    assert f"more than {FEED_MAX_DEPTH} levels deep" in body["fields"]["content_html"]
    assert service.articles.count() == 1


def test_flattening_keeps_text_and_is_exact_within_the_bound() -> None:
    shallow = nested(50)
    assert flatten_deep(shallow, 100) == (shallow, 0)
    flat, removed = flatten_deep(nested(300), 100)
    assert removed == 200
    assert flat.count("<div>") == flat.count("</div>") == 100
    assert text_of(flat) == words(300)


def test_flattening_counts_the_way_a_parser_nests() -> None:
    """Markup that looks closed to a naive reader but nests in a browser is counted deep."""
    for trick in (
        "<div><!--</div>-->",  # an end tag inside a comment closes nothing
        '<div title="</div>">',  # nor one inside an attribute value
        "<div/>",  # a slash does not close an HTML element
        "<div><table><tr><td></div>",  # nor does an end tag beyond a table cell
        "<div><script></div></script>",  # nor one inside a script
        "<div><![CDATA[</div>]]>",  # CDATA outside SVG is a comment up to the first ">"
    ):
        _, removed = flatten_deep(trick * 1_000, 100)
        assert removed >= 800, trick
    # Void elements and self-closed SVG children do not nest.
    assert flatten_deep("<br><img src=x>" * 500 + "<svg>" + "<path/>" * 500, 100)[1] == 0


def test_the_quick_check_for_sanitised_html_never_understates() -> None:
    assert within_depth(nested(150), 200)
    assert not within_depth(nested(250), 200)
    # End tags inside quoted attribute values close nothing; void tags count as opening.
    assert not within_depth('<div title="</div></div>">x ' * 250 + "</div>" * 250, 200)
    assert not within_depth("<br><img src=x>" * 250, 200)
