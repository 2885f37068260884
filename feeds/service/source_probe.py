"""Trying a URL before it becomes a source: is it a feed, or a site page that names
its feeds (autodiscovery: `<link rel="alternate" type="application/rss+xml" href>`)?

Fetched under the same rules as every outside fetch (address guard, size, time and
redirect limits); nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from feeds.errors import FetchError, ParseError
from feeds.ingest.fetch import FetchOptions, fetch
from feeds.ingest.parse import parse_feed
from feeds.models import SourceState

FEED_TYPES = {
    "application/rss+xml": "RSS",
    "application/atom+xml": "Atom",
    "application/feed+json": "JSON Feed",
    "application/json": "JSON Feed",
}
MAX_LINKS = 20


@dataclass(frozen=True)
class FeedLink:
    url: str
    title: str
    kind: str  # RSS, Atom or JSON Feed


@dataclass(frozen=True)
class Probe:
    """`kind` is "feed" (the URL is one), "page" (a page naming `feeds`) or "error"."""

    url: str
    kind: str
    final_url: str = ""
    title: str = ""
    version: str = ""
    entries: int = 0
    error: str | None = None
    feeds: tuple[FeedLink, ...] = ()


def feed_links(body: bytes, base_url: str) -> tuple[FeedLink, ...]:
    """The feeds an HTML page announces, resolved against its URL, first ones first."""
    try:
        root = lxml.html.fromstring(body)
    except (etree.ParserError, ValueError):
        return ()
    base = root.xpath("string(//base/@href)") or base_url
    found: dict[str, FeedLink] = {}
    for link in root.xpath("//link[@href]"):
        rels = (link.get("rel") or "").lower().split()
        kind = FEED_TYPES.get((link.get("type") or "").split(";")[0].strip().lower())
        if "alternate" not in rels or kind is None:
            continue
        url = urljoin(urljoin(base_url, base), link.get("href").strip())
        if urlsplit(url).scheme in ("http", "https") and url not in found:
            found[url] = FeedLink(url, " ".join((link.get("title") or "").split()), kind)
        if len(found) >= MAX_LINKS:
            break
    return tuple(found.values())


def probe(url: str, options: FetchOptions) -> Probe:
    if urlsplit(url).scheme not in ("http", "https"):
        return Probe(url, "error", error="give an http or https URL")
    try:
        result = fetch(url, SourceState(), options)
    except FetchError as exc:
        return Probe(url, "error", error=str(exc))
    body = result.body or b""
    try:
        parsed = parse_feed(body, base_url=result.final_url, content_type=result.content_type)
    except ParseError as exc:
        links = feed_links(body, result.final_url)
        if links:
            return Probe(url, "page", final_url=result.final_url, feeds=links)
        return Probe(
            url, "error", final_url=result.final_url,
            error=f"{exc}; and it names no feed (no <link rel=\"alternate\"> to RSS, Atom "
            "or JSON Feed)",
        )  # fmt: skip
    return Probe(
        url, "feed", final_url=result.final_url, title=parsed.title, version=parsed.version,
        entries=len(parsed.entries),
    )  # fmt: skip
