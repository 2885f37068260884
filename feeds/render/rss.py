"""RSS 2.0 writer: https://www.rssboard.org/rss-specification

Built with feedgen 1.0.0, working around what it gets wrong (see DESIGN.md): every date
is set explicitly so nothing defaults to now(), the alternate link is added last because
it becomes the channel ``<link>``, items are appended rather than prepended, authors go
to dc:creator (``<author>`` must be an email address), media elements are kept out of
media:group, and the atom:link hub/next relations and the item atom:updated, which
feedgen has no place for in RSS, come from the small extension below.

An image of unknown size gets no enclosure (RSS requires its length) and a
media:content without fileSize (which must be positive when present).

The item summary is treated as plain text: RSS readers read ``<description>`` as HTML,
so it is HTML-escaped here and is not escaped twice by anyone else.
"""

from __future__ import annotations

import html
from typing import Any

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from feeds.render.document import FeedDocument, FeedItem
from feeds.render.xmltext import clean_text, feed_datetime, finish_document, parse_generated

ATOM_NS = "http://www.w3.org/2005/Atom"
HISTORY_NS = "http://purl.org/syndication/history/1.0"
RSS_DOCS = "https://www.rssboard.org/rss-specification"
_EXTENSION = "feeds_rss"


class _ChannelLinks(BaseExtension):
    """Adds atom:link elements feedgen only writes for rel=self."""

    def __init__(self) -> None:
        self.links: list[tuple[str, str]] = []
        self.archive = False

    def extend_rss(self, rss: Any) -> Any:
        channel = rss[0]
        for rel, href in self.links:
            etree.SubElement(channel, f"{{{ATOM_NS}}}link", href=href, rel=rel)
        if self.archive:
            # RFC 5005 section 4 marks an archive document with fh:archive in RSS too.
            etree.SubElement(channel, f"{{{HISTORY_NS}}}archive", nsmap={"fh": HISTORY_NS})
        return rss


class _ItemUpdated(BaseEntryExtension):
    """Adds atom:updated to an item: RSS has no modified date, feedparser reads this one."""

    def __init__(self) -> None:
        self.updated: str | None = None

    def extend_rss(self, item: Any) -> Any:
        if self.updated:
            etree.SubElement(item, f"{{{ATOM_NS}}}updated").text = self.updated
        return item


def render_rss(doc: FeedDocument) -> bytes:
    """Render *doc* as RSS 2.0 UTF-8 bytes; the same document always gives the same bytes."""
    fg = FeedGenerator()
    fg.load_extension("dc", atom=False, rss=True)
    fg.load_extension("media", atom=False, rss=True)
    fg.register_extension(_EXTENSION, _ChannelLinks, _ItemUpdated, atom=False, rss=True)

    fg.title(clean_text(doc.title))
    fg.description(clean_text(doc.description) or clean_text(doc.title))
    # The RSS channel <link> is whichever link() came last, so the alternate goes last.
    fg.link(href=clean_text(doc.self_url), rel="self", type="application/rss+xml")
    fg.link(href=clean_text(doc.home_url), rel="alternate")
    fg.language(clean_text(doc.language))
    updated = feed_datetime(doc.updated)
    fg.lastBuildDate(updated)
    fg.pubDate(updated)
    fg.ttl(doc.ttl_minutes)
    fg.generator(clean_text(f"{doc.generator} {doc.generator_version}".strip()))
    fg.docs(RSS_DOCS)
    if doc.icon_url:
        fg.image(
            url=clean_text(doc.icon_url), title=clean_text(doc.title), link=clean_text(doc.home_url)
        )

    channel_links = getattr(fg, _EXTENSION)
    channel_links.links.extend(("hub", clean_text(hub)) for hub in doc.hub_urls)
    if doc.next_url:
        channel_links.links.append(("next", clean_text(doc.next_url)))
    channel_links.links.extend((rel, clean_text(href)) for rel, href in doc.history_links)
    channel_links.archive = doc.archive

    for item in doc.items:
        _add_item(fg, item)

    tree = parse_generated(fg.rss_str(pretty=False))
    return finish_document(tree)


def _add_item(fg: Any, item: FeedItem) -> None:
    fe = fg.add_entry(order="append")
    # id() also writes the guid with isPermaLink="false": our ids are not URLs to fetch.
    fe.id(clean_text(item.id))
    fe.title(clean_text(item.title))
    fe.link(href=clean_text(item.url), rel="alternate")
    if item.summary:
        # Without a summary feedgen moves the full content into <description> instead.
        fe.description(html.escape(clean_text(item.summary), quote=False))
    if item.content_html:
        fe.content(clean_text(item.content_html))
    if item.author:
        fe.dc.dc_creator(clean_text(item.author))
    if item.language:
        fe.dc.dc_language(clean_text(item.language))
    if item.categories:
        # One call: feedgen rebuilds the entry's whole category list on every call.
        fe.category([{"term": clean_text(category)} for category in item.categories])
    fe.published(feed_datetime(item.published))
    fe.updated(feed_datetime(item.updated))
    getattr(fe, _EXTENSION).updated = feed_datetime(item.updated).isoformat()
    if item.image is not None:
        url = clean_text(item.image.url)
        mime = clean_text(item.image.mime_type)
        size: dict[str, str] = {}
        if item.image.length:
            # RSS requires an enclosure's length: without a known one there is none.
            fe.enclosure(url=url, length=str(item.image.length), type=mime)
            size = {"fileSize": str(item.image.length)}  # must be positive when present
        # group=None keeps these as direct children of <item>, where readers look.
        fe.media.content(url=url, type=mime, medium="image", group=None, **size)
        fe.media.thumbnail(url=url, group=None)
    if item.source is not None and item.source.feed_url:
        # <source url> is required and names the outside feed: only an http(s) one.
        fe.source(url=clean_text(item.source.feed_url), title=clean_text(item.source.title))
