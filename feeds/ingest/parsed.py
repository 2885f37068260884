"""What parsing an outside document gives: plain values, before any policy.

parse.py (RSS, Atom, RDF through feedparser) and jsonfeed.py (JSON Feed) both produce
these; normalize.py turns them into items. No sanitising or date policy has been
applied to anything here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# WebSub hubs kept per document: one naming more is not telling us anything useful.
MAX_HUBS = 4


@dataclass(frozen=True)
class DateValue:
    """A date as the feed wrote it, and as parsed (None when it could not be)."""

    value: datetime | None
    raw: str | None


@dataclass(frozen=True)
class MediaRef:
    url: str
    type: str = ""
    length: int = 0
    medium: str = ""


@dataclass(frozen=True)
class SourceRef:
    title: str
    url: str


@dataclass(frozen=True)
class ParsedEntry:
    id: str | None
    link: str | None
    title: str
    # HTML as the feed gave it (plain text is escaped into HTML), with the base URL in
    # effect for it (xml:base aware): sanitise and absolutise against that base.
    summary: str
    summary_base: str
    content_html: str
    content_base: str
    author: str
    categories: tuple[str, ...]
    published: DateValue
    updated: DateValue
    enclosures: tuple[MediaRef, ...] = ()
    media_content: tuple[MediaRef, ...] = ()
    media_thumbnails: tuple[MediaRef, ...] = ()
    source: SourceRef | None = None


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    link: str | None
    version: str
    entries: tuple[ParsedEntry, ...]
    # Why the strict XML parse failed when the lenient one was used instead, else None.
    problem: str | None = None
    # The feed's declared language, as written (unchecked).
    language: str | None = None
    # What was cut from the document before it was parsed, for the source's warnings.
    notes: tuple[str, ...] = ()
    # WebSub: the hubs the document names (rel="hub", JSON Feed `hubs`) and its own URL
    # (rel="self", JSON Feed `feed_url`), the topic to subscribe to.
    hubs: tuple[str, ...] = ()
    self_url: str | None = None
    # Which reader ran: "lxml" (xmlfeed.py), "feedparser" or "json".
    parser: str = "feedparser"
