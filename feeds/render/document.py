"""The format-neutral feed document every writer renders.

The service builds it; writers never query the store and never look at the clock, so
the same document always renders to the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from feeds.models import Image, require_utc


@dataclass(frozen=True)
class ItemSource:
    """Credit for an ingested item: the outside feed it came from.

    `id` identifies the outside feed (its URL, or a `tag:` URI when it has no http(s)
    URL); `feed_url` is set only for an http(s) URL, the only kind shown to readers.
    `updated` is when the item last changed there.
    """

    title: str
    id: str
    updated: datetime
    feed_url: str | None = None
    link: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "updated", require_utc(self.updated, "updated"))


@dataclass(frozen=True)
class FeedItem:
    id: str
    title: str
    url: str
    summary: str
    content_html: str
    author: str
    categories: tuple[str, ...]
    published: datetime
    updated: datetime
    image: Image | None = None
    language: str | None = None
    source: ItemSource | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "published", require_utc(self.published, "published"))
        object.__setattr__(self, "updated", require_utc(self.updated, "updated"))


@dataclass(frozen=True)
class FeedDocument:
    id: str
    title: str
    description: str
    home_url: str
    self_url: str
    language: str
    updated: datetime
    ttl_minutes: int
    generator: str
    generator_version: str
    items: tuple[FeedItem, ...]
    hub_urls: tuple[str, ...] = ()
    next_url: str | None = None
    icon_url: str | None = None
    # RFC 5005 archived feeds: `archive` marks a document as one month of the feed
    # (fh:archive), linked to the months on either side and to the current feed, which
    # in turn links to its newest archive.
    archive: bool = False
    current_url: str | None = None
    prev_archive_url: str | None = None
    next_archive_url: str | None = None

    @property
    def history_links(self) -> tuple[tuple[str, str], ...]:
        """The RFC 5005 links of this document, as (rel, href) pairs."""
        links = (
            ("current", self.current_url),
            ("prev-archive", self.prev_archive_url),
            ("next-archive", self.next_archive_url),
        )
        return tuple((rel, href) for rel, href in links if href)

    def __post_init__(self) -> None:
        object.__setattr__(self, "updated", require_utc(self.updated, "updated"))
