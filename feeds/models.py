"""Frozen dataclasses that cross layers.

Every datetime here is timezone-aware UTC; constructors check it so a naive value is
caught where it is made rather than where feedgen raises on it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

# An author's slug is an identity, not a title: it keeps every script (a byline in
# Hangul gets its own feed rather than the shared fallback) and ignores case and spacing.
# It lives here because `Article.author_slug` needs it and models import nothing of ours.
AUTHOR_SLUG_LENGTH = 100


def author_slug(name: str) -> str:
    """The author feed's slug: NFKC, casefolded, words joined by hyphens ("" if none)."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    slug = re.sub(r"[\W_]+", "-", folded).strip("-")
    return slug[:AUTHOR_SLUG_LENGTH].strip("-")


def require_utc(value: datetime, name: str) -> datetime:
    """Return *value* converted to UTC; a naive datetime is a programming error."""
    if value.tzinfo is UTC:
        return value  # what the store reads give: every row of a feed page comes here twice
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


class Status(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


class FeedKind(StrEnum):
    ALL = "all"
    SECTION = "section"
    TAG = "tag"
    CUSTOM = "custom"
    TRENDING = "trending"
    AUTHOR = "author"


class FeedFormat(StrEnum):
    RSS = "rss"
    ATOM = "atom"
    JSON = "json"

    @property
    def media_type(self) -> str:
        return _MEDIA_TYPES[self]


_MEDIA_TYPES = {
    FeedFormat.RSS: "application/rss+xml; charset=utf-8",
    FeedFormat.ATOM: "application/atom+xml; charset=utf-8",
    FeedFormat.JSON: "application/feed+json; charset=utf-8",
}


@dataclass(frozen=True)
class Hashtag:
    """A hashtag: `key` is the NFKC-casefolded identity, `display` how a writer typed it."""

    key: str
    display: str


@dataclass(frozen=True)
class Image:
    url: str
    mime_type: str
    # Size in bytes; None when nobody stated it (writers then leave it out).
    length: int | None
    alt: str = ""


@dataclass(frozen=True)
class Origin:
    """Where an ingested article came from, credited in every format."""

    source_id: int
    source_title: str
    feed_url: str
    origin_id: str
    link: str | None = None
    original_date: str | None = None


@dataclass(frozen=True)
class FeedContent:
    """An article's content with every URL made absolute against `base`, its link when
    the copy was made (see feeds/absolutize.py)."""

    base: str
    html: str


@dataclass(frozen=True)
class Article:
    guid: str
    slug: str
    title: str
    summary: str
    content_html: str
    author: str
    section: str
    hashtags: tuple[Hashtag, ...]
    published_at: datetime
    updated_at: datetime
    url: str | None = None
    image: Image | None = None
    views: int = 0
    sponsored: bool = False
    status: Status = Status.PUBLISHED
    language: str = "en"
    origin: Origin | None = None
    id: int | None = None
    # The stored copy feeds render (None: not made, or not read). Derived from the
    # content, so it takes no part in comparing two articles.
    feed_content: FeedContent | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "published_at", require_utc(self.published_at, "published_at"))
        object.__setattr__(self, "updated_at", require_utc(self.updated_at, "updated_at"))

    def visible_at(self, now: datetime) -> bool:
        return self.status is Status.PUBLISHED and self.published_at <= now

    @property
    def hashtag_keys(self) -> frozenset[str]:
        return frozenset(tag.key for tag in self.hashtags)

    @property
    def author_slug(self) -> str | None:
        """The slug of the author's feed; None for ingested articles, whose bylines are
        another publication's people, not the newsroom's."""
        if self.origin is not None:
            return None
        return author_slug(self.author) or None


@dataclass(frozen=True)
class Section:
    slug: str
    title: str
    description: str = ""


@dataclass(frozen=True)
class TagRule:
    """Which articles a tag feed holds; hashtag entries are normalised keys."""

    any_of: tuple[str, ...] = ()
    all_of: tuple[str, ...] = ()
    none_of: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    include_sponsored: bool = False

    def matches(self, article: Article) -> bool:
        keys = article.hashtag_keys
        if self.any_of and keys.isdisjoint(self.any_of):
            return False
        if not keys.issuperset(self.all_of):
            return False
        if not keys.isdisjoint(self.none_of):
            return False
        if self.sections and article.section not in self.sections:
            return False
        return self.include_sponsored or not article.sponsored

    def impossibility(self) -> str | None:
        """Why this rule can match nothing, or None when it can match something."""
        if not (self.any_of or self.all_of or self.sections):
            return "a rule needs at least one of any_of, all_of or sections"
        clash = set(self.all_of) & set(self.none_of)
        if clash:
            return f"{', '.join(sorted(clash))} is in both all_of and none_of"
        if self.any_of and set(self.any_of) <= set(self.none_of):
            return "every any_of hashtag is also in none_of"
        return None

    def as_lists(self) -> dict[str, list[str] | bool]:
        """The rule's fields as JSON and the tag feed table hold them, by the same names."""
        return {
            "any_of": list(self.any_of),
            "all_of": list(self.all_of),
            "none_of": list(self.none_of),
            "sections": list(self.sections),
            "include_sponsored": self.include_sponsored,
        }


@dataclass(frozen=True)
class TagFeed:
    slug: str
    title: str
    rule: TagRule
    description: str = ""
    limit: int = 50
    managed_by: str | None = None
    id: int | None = None


@dataclass(frozen=True)
class FeedKey:
    kind: FeedKind
    value: str = ""

    @property
    def storage_key(self) -> str:
        return f"{self.kind.value}:{self.value}"


@dataclass(frozen=True)
class FeedVersion:
    """A feed's change counter and the instant of its newest change."""

    key: FeedKey
    version: int
    changed_at: datetime
    next_change_at: datetime | None = None
    # Set only by a read that found a scheduled change come due (or no row at all) which
    # no writer has recorded yet: the newest publish time the feed shows, so the content
    # read is named apart from the recorded version's (see FeedService.current).
    due: datetime | None = None


@dataclass(frozen=True)
class FeedMoves:
    """What writes do to feed versions: the feeds they changed now, the hashtags they
    made public, and feeds that will change by themselves at an instant (a scheduled
    article coming due), with the monthly archives they change: (feed, `YYYY-MM`, the
    instant the change shows). Moves of several writes combine with `|`, or all at once
    with `combined`."""

    changed: frozenset[FeedKey] = frozenset()
    public_tags: frozenset[str] = frozenset()
    expected: tuple[tuple[frozenset[FeedKey], datetime], ...] = ()
    archives: frozenset[tuple[FeedKey, str, datetime]] = frozenset()

    def __or__(self, other: FeedMoves) -> FeedMoves:
        return FeedMoves.combined((self, other))

    @staticmethod
    def combined(moves: Sequence[FeedMoves]) -> FeedMoves:
        """The moves of several writes as one: each set is built once, where `|` in a
        loop would copy the growing sets once per write (a first fetch writes hundreds)."""
        return FeedMoves(
            frozenset().union(*(m.changed for m in moves)),
            frozenset().union(*(m.public_tags for m in moves)),
            tuple(expected for m in moves for expected in m.expected),
            frozenset().union(*(m.archives for m in moves)),
        )


@dataclass(frozen=True)
class ArticleFilter:
    section: str | None = None
    hashtag: str | None = None
    status: Status | None = None
    since: datetime | None = None
    query: str | None = None
    limit: int = 50
    offset: int = 0


class CategoryMode(StrEnum):
    NONE = "none"
    ALL = "all"
    MAP = "map"


@dataclass(frozen=True)
class CategoryRule:
    """How an outside feed's categories become our hashtags."""

    mode: CategoryMode = CategoryMode.NONE
    # (outside category, hashtag display form); matched case-insensitively by key.
    mapping: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class EntryCounts:
    """What one fetch did with each entry of its document: the counts add up to `entries`.

    Skipped entries are duplicates within the document, older than the source's
    retention, beyond its `max_items`, or refused (with the reason). `refusals`
    ((entry, reason) pairs) and `warnings` keep the first few for people to read.
    """

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    too_old: int = 0
    over_limit: int = 0
    refused: int = 0
    refusals: tuple[tuple[str, str], ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def entries(self) -> int:
        return sum(getattr(self, name) for name in ENTRY_FATES)


# The fields of EntryCounts that count entries, in the order people read them.
ENTRY_FATES = ("new", "updated", "unchanged", "duplicates", "too_old", "over_limit", "refused")


@dataclass(frozen=True)
class SourceState:
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    last_fetch_at: datetime | None = None
    last_success_at: datetime | None = None
    last_status: int | None = None
    last_error: str | None = None
    failures: int = 0
    next_check_at: datetime | None = None
    # The latest successful fetch's accounting of its document's entries.
    items: EntryCounts = EntryCounts()
    # A 301/308 target seen on consecutive fetches; the URL changes once it is confirmed.
    redirect_target: str | None = None
    redirect_seen: int = 0


@dataclass(frozen=True)
class Source:
    url: str
    name: str
    section: str
    hashtags: tuple[Hashtag, ...] = ()
    categories: CategoryRule = CategoryRule()
    interval_seconds: int = 900
    enabled: bool = True
    retention_days: int = 30
    max_items: int = 100
    managed_by: str | None = None
    state: SourceState = SourceState()
    id: int | None = None


@dataclass(frozen=True)
class FeedQuery:
    """What the store selects for one feed; the service builds it from a FeedKey."""

    section: str | None = None
    tag: str | None = None
    author: str | None = None
    rule: TagRule | None = None
    include_sponsored: bool = True
    published_after: datetime | None = None
    by_views: bool = False
    # Feeds show published articles; archives also look at withdrawn ones (their
    # withdrawal is a change of the month they were in).
    status: Status = Status.PUBLISHED


@dataclass(frozen=True)
class HubAnnouncement:
    """A feed whose version moved past what the outside WebSub hub was last told.

    `announced` is the version the hub last accepted, `version` the feed's version when
    read; `failures` counts the pings for it that failed since the last accepted one,
    and none is sent before `next_attempt_at` (the backoff after the last failure).
    """

    feed: FeedKey
    announced: int
    version: int
    failures: int
    next_attempt_at: datetime | None = None


@dataclass(frozen=True)
class HubSubscription:
    """A subscriber of the built-in WebSub hub: one callback for one feed URL (topic).

    `active` once the subscriber confirmed a subscribe intent; `pending_mode` is an
    intent still waiting for its verification GET, which one scheduler has taken until
    `verifying_until`. `delivered_version` is the feed version last delivered (or given
    up on after the last retry).
    """

    id: int
    topic: str
    callback: str
    feed: FeedKey
    format: FeedFormat
    active: bool
    secret: str | None
    lease_seconds: int
    created_at: datetime
    expires_at: datetime | None = None
    verified_at: datetime | None = None
    pending_mode: str | None = None
    pending_secret: str | None = None
    pending_lease: int | None = None
    pending_at: datetime | None = None
    verify_error: str | None = None
    verifying_until: datetime | None = None
    delivered_version: int | None = None
    last_delivery_at: datetime | None = None
    last_status: int | None = None
    last_error: str | None = None
    failures: int = 0
    next_attempt_at: datetime | None = None


@dataclass(frozen=True)
class SourcePush:
    """Our WebSub subscription for a source whose feed advertises a hub.

    `state`: discovered (a hub is known, no subscription asked yet), subscribing (asked,
    waiting for the hub's verification), active (verified; lease until `expires_at`),
    failed (the hub refused or was unreachable; retried at `next_attempt_at`) or lapsed
    (the lease ended without renewal). Polling carries on unless the push is active.
    `requesting_until`: one scheduler is asking the hub for the subscription until then.
    """

    source_id: int
    hub: str
    topic: str
    token: str
    secret: str
    state: str
    lease_seconds: int | None = None
    expires_at: datetime | None = None
    requested_at: datetime | None = None
    verified_at: datetime | None = None
    next_attempt_at: datetime | None = None
    failures: int = 0
    error: str | None = None
    pushes: int = 0
    last_push_at: datetime | None = None
    refused: int = 0
    last_refused_at: datetime | None = None
    requesting_until: datetime | None = None

    def live(self, now: datetime) -> bool:
        """Pushes are expected now: verified, and the lease has not ended."""
        return self.state == "active" and self.expires_at is not None and self.expires_at > now
