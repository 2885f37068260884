"""Atom 1.0 writer: RFC 4287, https://www.rfc-editor.org/rfc/rfc4287

Built with feedgen 1.0.0, then finished on a re-parsed tree for what feedgen cannot
write (see DESIGN.md): entry links lose rel/type/length, so the alternate link gets its
attributes back here and the image enclosure is added here rather than through feedgen
(where it became a second alternate link, DuplicateAtomLink), with a length only when
it is known; feedgen's atom:source holds only a title and an unqualified link, so it is
written here with id, title, updated and rel=self.
Every date is set explicitly (feedgen defaults feed and entry updated to now()), entries
are appended in document order, and summary/content are set separately because
``description()`` would overwrite the content.

The item summary is plain text (type="text"); the content is HTML (type="html").
"""

from __future__ import annotations

from typing import Any

from feedgen.feed import FeedGenerator
from lxml import etree

from feeds.render.document import FeedDocument, FeedItem, ItemSource
from feeds.render.xmltext import (
    clean_text,
    feed_datetime,
    finish_document,
    parse_generated,
    rfc3339,
)

ATOM_NS = "http://www.w3.org/2005/Atom"
HISTORY_NS = "http://purl.org/syndication/history/1.0"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_A = f"{{{ATOM_NS}}}"


def render_atom(doc: FeedDocument) -> bytes:
    """Render *doc* as Atom 1.0 UTF-8 bytes; the same document always gives the same bytes."""
    fg = FeedGenerator()
    fg.id(clean_text(doc.id))
    fg.title(clean_text(doc.title))
    if doc.description:
        fg.subtitle(clean_text(doc.description))
    fg.updated(feed_datetime(doc.updated))
    fg.language(clean_text(doc.language))
    fg.link(href=clean_text(doc.self_url), rel="self", type="application/atom+xml")
    fg.link(href=clean_text(doc.home_url), rel="alternate", type="text/html")
    for hub in doc.hub_urls:
        fg.link(href=clean_text(hub), rel="hub")
    if doc.next_url:
        fg.link(href=clean_text(doc.next_url), rel="next", type="application/atom+xml")
    for rel, href in doc.history_links:
        fg.link(href=clean_text(href), rel=rel, type="application/atom+xml")
    fg.generator(clean_text(doc.generator), version=clean_text(doc.generator_version))
    if doc.icon_url:
        fg.icon(clean_text(doc.icon_url))
    if any(not item.author for item in doc.items):
        # RFC 4287 4.1.1: every entry needs an author, from itself or from the feed.
        fg.author(name=clean_text(doc.title))

    for item in doc.items:
        _add_entry(fg, item)

    tree = parse_generated(fg.atom_str(pretty=False))
    for element, item in zip(tree.getroot().iter(f"{_A}entry"), doc.items, strict=True):
        _finish_entry(element, item)
    if doc.archive:
        _mark_archive(tree.getroot())
    return finish_document(tree)


def _mark_archive(feed: etree._Element) -> None:
    """Add RFC 5005's fh:archive before the first entry (the feed is one month of history)."""
    marker = etree.Element(f"{{{HISTORY_NS}}}archive", nsmap={"fh": HISTORY_NS})
    first_entry = feed.find(f"{_A}entry")
    if first_entry is None:
        feed.append(marker)
    else:
        first_entry.addprevious(marker)


def _add_entry(fg: Any, item: FeedItem) -> None:
    fe = fg.add_entry(order="append")
    fe.id(clean_text(item.id))
    fe.title(clean_text(item.title))
    # The only link given to feedgen: _finish_entry restores its rel and type.
    fe.link(href=clean_text(item.url), rel="alternate")
    if item.summary:
        fe.summary(clean_text(item.summary), type="text")
    if item.content_html:
        fe.content(clean_text(item.content_html), type="html")
    if item.author:
        fe.author(name=clean_text(item.author))
    if item.categories:
        # One call: feedgen rebuilds the entry's whole category list on every call.
        fe.category([{"term": clean_text(category)} for category in item.categories])
    fe.published(feed_datetime(item.published))
    fe.updated(feed_datetime(item.updated))


def _finish_entry(entry: etree._Element, item: FeedItem) -> None:
    if item.language:
        entry.set(XML_LANG, clean_text(item.language))
    links = entry.findall(f"{_A}link")
    if len(links) != 1:
        raise RuntimeError(f"feedgen wrote {len(links)} links for entry {item.id!r}")
    alternate = links[0]
    alternate.set("rel", "alternate")
    alternate.set("type", "text/html")
    anchor = alternate
    if item.image is not None:
        attrs = {"rel": "enclosure", "type": clean_text(item.image.mime_type)}
        if item.image.length:
            attrs["length"] = str(item.image.length)  # optional: left out when unknown
        attrs["href"] = clean_text(item.image.url)
        if item.image.alt:
            attrs["title"] = clean_text(item.image.alt)
        anchor = _insert_after(anchor, etree.Element(f"{_A}link", attrs))
    if item.source is not None:
        if item.source.link:
            # rel=via names the original article this entry was taken from.
            via = etree.Element(
                f"{_A}link",
                {"rel": "via", "type": "text/html", "href": clean_text(item.source.link)},
            )
            anchor = _insert_after(anchor, via)
        _add_source(entry, item.source)


def _insert_after(anchor: etree._Element, element: etree._Element) -> etree._Element:
    anchor.addnext(element)
    return element


def _add_source(entry: etree._Element, source: ItemSource) -> None:
    """Write atom:source with the outside feed's id, title, updated and self link.

    The W3C validator wants `updated` in every atom:source (MissingSourceElement): the
    item's own last change stands in for the outside feed's, which is not kept. The self
    link is written only for an http(s) feed URL.
    """
    element = etree.SubElement(entry, f"{_A}source")
    etree.SubElement(element, f"{_A}id").text = clean_text(source.id)
    etree.SubElement(element, f"{_A}title").text = clean_text(source.title)
    etree.SubElement(element, f"{_A}updated").text = rfc3339(source.updated)
    if source.feed_url:
        etree.SubElement(element, f"{_A}link", {"rel": "self", "href": clean_text(source.feed_url)})
