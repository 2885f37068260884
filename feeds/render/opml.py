"""OPML 2.0 subscription list writer: http://opml.org/spec2.opml

Like the feed writers it never looks at the clock: ``dateModified`` is written only
when the caller passes it, so the same outlines always give the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime

from lxml import etree

from feeds.models import require_utc
from feeds.render.xmltext import clean_text, finish_document

OPML_DOCS = "http://opml.org/spec2.opml"


@dataclass(frozen=True)
class OpmlOutline:
    """One subscribable feed; ``category`` uses OPML's comma-separated /slash/paths."""

    text: str
    title: str
    xml_url: str
    html_url: str
    type: str = "rss"
    description: str | None = None
    category: str | None = None


def render_opml(
    title: str, outlines: Sequence[OpmlOutline], date_modified: datetime | None = None
) -> bytes:
    """Render an OPML 2.0 document listing *outlines* in the given order."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = clean_text(title)
    if date_modified is not None:
        # OPML dates are RFC 822; format_datetime writes the numeric +0000 offset for UTC.
        stamp = require_utc(date_modified, "date_modified").replace(microsecond=0)
        etree.SubElement(head, "dateModified").text = format_datetime(stamp)
    etree.SubElement(head, "docs").text = OPML_DOCS
    body = etree.SubElement(root, "body")
    for outline in outlines:
        # Attribute order is fixed by insertion order, which keeps the bytes stable.
        attrs = {
            "type": clean_text(outline.type),
            "text": clean_text(outline.text),
            "title": clean_text(outline.title),
            "xmlUrl": clean_text(outline.xml_url),
            "htmlUrl": clean_text(outline.html_url),
        }
        if outline.description:
            attrs["description"] = clean_text(outline.description)
        if outline.category:
            attrs["category"] = clean_text(outline.category)
        etree.SubElement(body, "outline", attrs)
    return finish_document(etree.ElementTree(root))
