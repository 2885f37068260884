"""JSON Feed 1.0/1.1 bytes -> ParsedFeed (feedparser 6 does not read JSON Feed).

The same plain values parse.py produces for XML feeds: HTML as given (plain text
escaped), URLs made absolute against the document's URL, dates as written and parsed.

What this module does not do: sanitise HTML or decide what a bad date means.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from typing import Any

from feeds.errors import ParseError
from feeds.ingest.decode import CP1252_FALLBACK
from feeds.ingest.parsed import MAX_HUBS, DateValue, MediaRef, ParsedEntry, ParsedFeed
from feeds.urls import absolute_url


def parse_json_feed(body: bytes, *, base_url: str) -> ParsedFeed:
    """JSON Feed 1.0/1.1 (feedparser 6 does not read it), into the same plain values."""
    try:
        doc = json.loads(body.decode("utf-8-sig", errors=CP1252_FALLBACK))
    except (ValueError, RecursionError) as exc:
        raise ParseError(f"not a feed: invalid JSON ({exc})") from exc
    if not isinstance(doc, dict) or not str(doc.get("version", "")).startswith(
        "https://jsonfeed.org/version/"
    ):
        raise ParseError("not a feed: JSON without a JSON Feed version")
    items = doc.get("items")
    if not isinstance(items, list):
        raise ParseError("not a feed: JSON Feed without an items list")
    return ParsedFeed(
        title=" ".join(_json_str(doc, "title").split()),
        link=_json_url(doc, "home_page_url", base_url),
        version="json" + str(doc["version"]).rsplit("/", 1)[-1].replace(".", ""),
        entries=tuple(_json_item(item, base_url) for item in items if isinstance(item, dict)),
        language=_json_str(doc, "language").strip() or None,
        hubs=_json_hubs(doc),
        self_url=_json_url(doc, "feed_url", base_url),
        parser="json",
    )


def _json_hubs(doc: dict[str, Any]) -> tuple[str, ...]:
    """The WebSub hubs a JSON Feed names (`hubs`: objects with `type` and `url`)."""
    hubs = doc.get("hubs")
    found = []
    for hub in hubs if isinstance(hubs, list) else ():
        if isinstance(hub, dict) and str(hub.get("type", "")).lower() == "websub":
            url = _json_str(hub, "url").strip()
            if url.startswith(("http://", "https://")):
                found.append(url)
    return tuple(dict.fromkeys(found))[:MAX_HUBS]


def _json_str(node: dict[str, Any], key: str) -> str:
    value = node.get(key)
    return str(value) if isinstance(value, str | int | float) else ""


def _json_url(node: dict[str, Any], key: str, base_url: str) -> str | None:
    value = _json_str(node, key).strip()
    return absolute_url(value, base_url) if value else None


def _json_date(node: dict[str, Any], key: str) -> DateValue:
    raw = _json_str(node, key).strip() or None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00")) if raw else None
        if value is not None:
            value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: past datetime's range in UTC
        value = None
    return DateValue(value, raw)


def _json_item(item: dict[str, Any], base_url: str) -> ParsedEntry:
    authors = item.get("authors") or ([item["author"]] if item.get("author") else [])
    author = next(
        (str(a.get("name")) for a in authors if isinstance(a, dict) and a.get("name")), ""
    )
    content = _json_str(item, "content_html") or html.escape(_json_str(item, "content_text"))
    images = [
        MediaRef(url, medium="image")
        for key in ("image", "banner_image")
        if (url := _json_url(item, key, base_url))
    ]
    attachments = [
        MediaRef(url, _json_str(a, "mime_type").lower(), int(a.get("size_in_bytes") or 0))
        for a in item.get("attachments") or []
        if isinstance(a, dict) and (url := _json_url(a, "url", base_url))
        and isinstance(a.get("size_in_bytes") or 0, int)
    ]  # fmt: skip
    return ParsedEntry(
        id=_json_str(item, "id").strip() or None,
        link=_json_url(item, "url", base_url) or _json_url(item, "external_url", base_url),
        title=" ".join(_json_str(item, "title").split()),
        summary=html.escape(_json_str(item, "summary")),
        summary_base=base_url,
        content_html=content,
        content_base=base_url,
        author=" ".join(author.split()),
        categories=tuple(str(t) for t in item.get("tags") or [] if isinstance(t, str)),
        published=_json_date(item, "date_published"),
        updated=_json_date(item, "date_modified"),
        enclosures=tuple(attachments),
        media_content=tuple(images),
    )
