"""Checking a URL before saving a source: a feed says what it holds; a site page offers
the feeds it names (autodiscovery); anything else says why, in words; nothing is saved."""

from __future__ import annotations

import socket

from flask import Flask
from flask.testing import FlaskClient
from lxml import html
from pytest_httpserver import HTTPServer

from feeds.service.source_probe import feed_links
from tests.admin_helpers import login, post
from tests.ingest_helpers import (
    Entry,
    ingest_app_fixture,  # noqa: F401 (the `app` fixture)
    rss,
    svc,
)

FEED = rss([Entry("a-1", "Bridge reopens"), Entry("a-2", "Ferry delayed")])
PAGE = b"""<!doctype html><html><head><title>Harbour News</title>
<link rel="alternate" type="application/rss+xml" title="Harbour News: all" href="/feed.xml">
<link rel="alternate" type="application/atom+xml" title="Ferries" href="ferries.atom">
<link rel="stylesheet" href="/site.css">
<link rel="alternate" hreflang="ko" href="/ko/">
</head><body><p>Hello</p></body></html>"""


def form(url: str, **extra: str) -> dict[str, str]:
    return {"url": url, "name": "", "section": "", "categories": "none"} | extra


def test_feed_links_reads_autodiscovery() -> None:
    links = feed_links(PAGE, "https://harbour.example/news/")
    assert [(f.url, f.title, f.kind) for f in links] == [
        ("https://harbour.example/feed.xml", "Harbour News: all", "RSS"),
        ("https://harbour.example/news/ferries.atom", "Ferries", "Atom"),
    ]
    assert feed_links(b"<html><body>no head</body></html>", "https://x.example/") == ()


def test_a_site_page_offers_its_feeds_and_one_is_chosen(
    app: Flask, client: FlaskClient, httpserver: HTTPServer
) -> None:
    service = svc(app)
    httpserver.expect_request("/").respond_with_data(PAGE, content_type="text/html")
    httpserver.expect_request("/feed.xml").respond_with_data(
        FEED, content_type="application/rss+xml"
    )
    token = login(client, service)
    before = len(service.sources.list())
    site = httpserver.url_for("/")
    answer = post(client, "/admin/sources/check", token, **form(site))
    assert answer.status_code == 200
    page = html.fromstring(answer.get_data(as_text=True))
    assert page.xpath("//section[@id='probe']/@data-kind") == ["page"]
    offered = page.xpath("//ul[@id='discovered']//button/@value")
    assert offered == [httpserver.url_for("/feed.xml"), httpserver.url_for("/ferries.atom")]
    assert page.xpath("//input[@name='url']/@value") == [site]  # as typed, until chosen

    chosen = post(client, "/admin/sources/check", token, **form(site, use_url=offered[0]))
    page = html.fromstring(chosen.get_data(as_text=True))
    assert page.xpath("//section[@id='probe']/@data-kind") == ["feed"]
    assert "2 entries" in page.xpath("string(//section[@id='probe'])")
    assert page.xpath("//input[@name='url']/@value") == [offered[0]]
    assert page.xpath("//input[@name='name']/@value") == ["Test Wire"]  # the feed's own title
    assert len(service.sources.list()) == before  # checking saves nothing


def test_a_url_that_is_neither_says_why(
    app: Flask, client: FlaskClient, httpserver: HTTPServer
) -> None:
    service = svc(app)
    httpserver.expect_request("/plain").respond_with_data(
        b"<html><body>just a page</body></html>", content_type="text/html"
    )
    token = login(client, service)
    answer = post(client, "/admin/sources/check", token, **form(httpserver.url_for("/plain")))
    page = html.fromstring(answer.get_data(as_text=True))
    assert page.xpath("//section[@id='probe']/@data-kind") == ["error"]
    assert "names no feed" in page.xpath("string(//section[@id='probe'])")

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    refused = post(client, "/admin/sources/check", token, **form(f"http://localhost:{port}/"))
    text = html.fromstring(refused.get_data(as_text=True)).xpath("string(//section[@id='probe'])")
    assert "connection refused" in text and "Errno" not in text
    empty = post(client, "/admin/sources/check", token, **form(""))
    assert "type the URL to check" in empty.get_data(as_text=True)
