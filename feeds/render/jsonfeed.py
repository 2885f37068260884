"""JSON Feed 1.1 writer: https://www.jsonfeed.org/version/1.1/

Written by hand (feedgen has no JSON Feed). Keys are emitted in a fixed order and absent
values are left out rather than written as null, which the spec does not allow for
most fields. Text gets the same control-character cleaning as the XML writers so the
three formats carry identical strings, and a lone surrogate cannot break encoding.
"""

from __future__ import annotations

import json
from typing import Any

from feeds.render.document import FeedDocument, FeedItem, ItemSource
from feeds.render.xmltext import clean_text, rfc3339

VERSION = "https://jsonfeed.org/version/1.1"
# JSON Feed has no archive marker: our `_archive` extension object carries RFC 5005's.
ARCHIVE_ABOUT = "https://www.rfc-editor.org/rfc/rfc5005"


def render_json(doc: FeedDocument) -> bytes:
    """Render *doc* as JSON Feed 1.1 UTF-8 bytes; the same document always gives the same bytes."""
    feed: dict[str, Any] = {
        "version": VERSION,
        "title": clean_text(doc.title),
        "home_page_url": clean_text(doc.home_url),
        "feed_url": clean_text(doc.self_url),
    }
    if doc.description:
        feed["description"] = clean_text(doc.description)
    if doc.next_url:
        feed["next_url"] = clean_text(doc.next_url)
    if doc.icon_url:
        feed["icon"] = clean_text(doc.icon_url)
    feed["language"] = clean_text(doc.language)
    if doc.hub_urls:
        feed["hubs"] = [{"type": "WebSub", "url": clean_text(hub)} for hub in doc.hub_urls]
    if doc.archive or doc.history_links:
        feed["_archive"] = _archive(doc)
    feed["items"] = [_item(item) for item in doc.items]
    text = json.dumps(feed, ensure_ascii=False, indent=None, separators=(",", ":"))
    return text.encode("utf-8")


def _archive(doc: FeedDocument) -> dict[str, Any]:
    """The `_archive` extension: RFC 5005's fh:archive marker and links, by key."""
    out: dict[str, Any] = {"about": ARCHIVE_ABOUT, "archive": doc.archive}
    for rel, href in doc.history_links:
        out[rel.replace("-", "_")] = clean_text(href)
    return out


def _item(item: FeedItem) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": clean_text(item.id),
        "url": clean_text(item.url),
        "title": clean_text(item.title),
    }
    if item.source is not None and item.source.link:
        out["external_url"] = clean_text(item.source.link)
    if item.content_html:
        out["content_html"] = clean_text(item.content_html)
    if item.summary:
        out["summary"] = clean_text(item.summary)
    if item.image is not None:
        out["image"] = clean_text(item.image.url)
    out["date_published"] = rfc3339(item.published)
    out["date_modified"] = rfc3339(item.updated)
    if item.author:
        out["authors"] = [{"name": clean_text(item.author)}]
    if item.categories:
        out["tags"] = [clean_text(category) for category in item.categories]
    if item.language:
        out["language"] = clean_text(item.language)
    if not item.content_html:
        # The spec requires content_html or content_text; a title-only item still needs one.
        out["content_text"] = clean_text(item.summary or item.title)
    if item.source is not None:
        out["_source"] = _source(item.source)
    return out


def _source(source: ItemSource) -> dict[str, Any]:
    """Our extension crediting the outside feed (JSON Feed extensions start with '_')."""
    out: dict[str, Any] = {"title": clean_text(source.title)}
    if source.feed_url:
        out["feed_url"] = clean_text(source.feed_url)
    if source.link:
        out["url"] = clean_text(source.link)
    return out
