"""Monthly archives of every timeline feed (RFC 5005 archived feeds).

`feeds/<kind>/<name>/archive/<YYYY-MM>.<fmt>` holds every article of the feed published
in that UTC month, newest first, marked `fh:archive` and linked to the months on either
side that hold articles (`prev-archive`, `next-archive`) and to the current feed
(`current`). The current feed links to the archive of its newest item's month, so a
client walking `prev-archive` from it meets every article of the feed exactly once.

An archive is built from its month only: the articles come from one index range on
`published_at`, and the neighbours from one row either side of it. Its Last-Modified
is the newest change among the month's articles (a withdrawal stamps the article, so
it counts), or the first article of the next month once that link appears; a past
month's bytes therefore change only when one of its articles is corrected or
withdrawn. Trending is a ranking and has no archives.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from feeds.errors import NotFound
from feeds.feedcache import CachedFeed
from feeds.models import Article, FeedFormat, FeedKey, FeedKind
from feeds.render.document import FeedDocument, FeedItem
from feeds.service.context import Context
from feeds.service.feedkeys import query_for
from feeds.service.feeds import (
    EPOCH,
    RENDER_LOCK,
    WRITERS,
    FeedService,
    archive_path,
    feed_path,
    month_of,
)
from feeds.store import monthquery
from feeds.store import sections as section_store
from feeds.version import __version__

MONTH = re.compile(r"(\d{4})-(\d{2})")


def month_range(month: str) -> tuple[datetime, datetime]:
    """[start, end) of a `YYYY-MM` month in UTC; ValueError for anything else."""
    match = MONTH.fullmatch(month)
    if match is None:
        raise ValueError(f"{month!r} is not a month (YYYY-MM)")
    year, number = int(match[1]), int(match[2])
    # Year 9999's December has no following month to end it.
    if not (1 <= year <= 9999 and 1 <= number <= 12) or (year, number) == (9999, 12):
        raise ValueError(f"{month!r} is not a month (YYYY-MM)")
    start = datetime(year, number, 1, tzinfo=UTC)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC)
    return start, end


@dataclass(frozen=True)
class _Month:
    articles: tuple[Article, ...]
    before: datetime | None  # the newest article before the month
    after: datetime | None  # the oldest after it, visible now
    changed: datetime
    title: str
    description: str
    section_titles: dict[str, str]


@dataclass(frozen=True)
class FeedMonths:
    """What every month of one feed shares, read once for all of them (a publisher
    rendering a feed's months, instead of re-reading it for each): its name, its walks
    and the sections' titles."""

    key: FeedKey
    title: str
    description: str
    walks: monthquery.MonthWalks
    section_titles: dict[str, str]


@dataclass(frozen=True)
class MonthRender:
    """One month of a feed rendered for publishing, with the months either side."""

    key: FeedKey
    month: str
    bodies: dict[FeedFormat, bytes]  # empty: the month holds nothing
    last_modified: datetime
    prev_month: str | None
    next_month: str | None


@dataclass(frozen=True)
class Archive:
    """A rendered archive and how long caches may keep it."""

    feed: CachedFeed
    max_age: int


class ArchiveService:
    def __init__(self, ctx: Context, feeds_service: FeedService) -> None:
        self.ctx = ctx
        self.feeds = feeds_service

    def get(self, key: FeedKey, fmt: FeedFormat, month: str) -> Archive:
        """One month of a feed; NotFound for trending, an unknown feed or an empty month."""
        if key.kind is FeedKind.TRENDING:
            raise NotFound("trending is a ranking and has no archives")
        try:
            start, end = month_range(month)
        except ValueError as exc:
            raise NotFound(str(exc)) from None
        now = self.ctx.now()
        document = self.document(key, fmt, month, start, end, now)
        settings = self.ctx.settings
        max_age = settings.archive_max_age if end <= now else settings.cache_max_age
        # The document is the whole input of the render: its digest keys the cache, so a
        # hit costs the month's queries but no render.
        digest = hashlib.sha256(repr(document).encode()).hexdigest()
        cache_key = ("archive", key, fmt, month, digest)
        cached = self.ctx.cache.get(cache_key)
        if cached is None:
            with RENDER_LOCK:
                body = WRITERS[fmt](document)
            cached = self.ctx.cache.put(
                cache_key,
                CachedFeed(
                    body=body,
                    etag='"' + hashlib.sha256(body).hexdigest()[:40] + '"',
                    last_modified=document.updated,
                    media_type=fmt.media_type,
                ),
            )
        return Archive(cached, max_age)

    def document(
        self, key: FeedKey, fmt: FeedFormat, month: str, start: datetime, end: datetime,
        now: datetime,
    ) -> FeedDocument:  # fmt: skip
        found = self._month(key, start, end, now)
        if not found.articles:
            raise NotFound(f"no archive for {month}")
        return self._document(key, fmt, month, found)

    def feed_months(self, key: FeedKey) -> FeedMonths:
        """What every month of the feed shares; NotFound for trending or a feed that
        does not exist."""
        if key.kind is FeedKind.TRENDING:
            raise NotFound("trending is a ranking and has no archives")
        now = self.ctx.now()
        with self.ctx.read() as conn:
            identity = self.feeds.identify(key, now)  # on this connection
            spec = query_for(key, self.ctx.settings, now, identity.tag_feed)
            walks = monthquery.walks(conn, spec)
            section_titles = {s.slug: s.title for s in section_store.all_sections(conn)}
        return FeedMonths(key, identity.title, identity.description, walks, section_titles)

    def _month(
        self, key: FeedKey, start: datetime, end: datetime, now: datetime,
        shared: FeedMonths | None = None,
    ) -> _Month:  # fmt: skip
        """What one month's archive is made of, in every format (one set of queries;
        fewer when what the feed's months share was read before)."""
        # Only what is visible now: a month still running ends at the present.
        high = min(end, now + timedelta(microseconds=1))
        with self.ctx.read() as conn:
            feed = shared if shared is not None else self.feed_months(key)  # on this connection
            walks = feed.walks
            found = monthquery.between(conn, walks, start, high) if start < high else []
            before = monthquery.newest_before(conn, walks, start)
            after = monthquery.oldest_from(conn, walks, end, high=now + timedelta(microseconds=1))
            if not found:
                return _Month((), before, after, EPOCH, "", "", {})
            changed = monthquery.last_change(conn, walks, start, high) or EPOCH
        if after is not None:
            changed = max(changed, after)  # the next-archive link appeared then
        return _Month(
            tuple(found), before, after, changed, feed.title, feed.description,
            feed.section_titles,
        )  # fmt: skip

    def _document(
        self, key: FeedKey, fmt: FeedFormat, month: str, found: _Month,
        items: tuple[FeedItem, ...] | None = None,
    ) -> FeedDocument:  # fmt: skip
        """The month's document in one format; `items` when already made (they are the
        same in every format)."""
        settings = self.ctx.settings
        root = settings.public_root
        if items is None:
            items = self._items(found)

        def url(other: datetime | None) -> str | None:
            return None if other is None else root + archive_path(key, month_of(other), fmt)

        current = feed_path(key, fmt)
        return FeedDocument(
            id=f"tag:{settings.guid_authority}:{current.rsplit('.', 1)[0]}",
            title=f"{found.title} ({month})",
            description=found.description,
            home_url=settings.site_url or root + "feeds/",
            self_url=root + archive_path(key, month, fmt),
            language=settings.language,
            updated=found.changed.replace(microsecond=0),
            ttl_minutes=max(1, settings.cache_max_age // 60),
            generator="Feeds",
            generator_version=__version__,
            items=items,
            archive=True,
            current_url=root + current,
            prev_archive_url=url(found.before),
            next_archive_url=url(found.after),
        )

    def _items(self, found: _Month) -> tuple[FeedItem, ...]:
        root = self.ctx.settings.public_root
        return tuple(self.feeds.item(a, root, found.section_titles) for a in found.articles)

    # -- publishing ---------------------------------------------------------------------

    def render_month(
        self,
        key: FeedKey,
        month: str,
        not_before: datetime | None = None,
        shared: FeedMonths | None = None,
    ) -> MonthRender:
        """One month of a feed in every format, for the publisher; `bodies` is empty when
        the month holds no article (any more), and the neighbours are given either way
        (their links change when this month appears or goes).

        `not_before` is the Last-Modified already published: a month whose links changed
        without any of its own articles changing (a neighbour emptied) must not go back
        to an older date, nor keep one that validators would take for the old bytes.
        `shared` is what the feed's months share (`feed_months`), when read before.
        """
        if key.kind is FeedKind.TRENDING:
            raise NotFound("trending is a ranking and has no archives")
        start, end = month_range(month)
        found = self._month(key, start, end, self.ctx.now(), shared)
        if not_before is not None and found.changed < not_before:
            found = replace(found, changed=not_before)
        bodies: dict[FeedFormat, bytes] = {}
        if found.articles:
            items = self._items(found)  # once for the three formats
            for fmt in FeedFormat:
                document = self._document(key, fmt, month, found, items)
                with RENDER_LOCK:
                    bodies[fmt] = WRITERS[fmt](document)
        return MonthRender(
            key,
            month,
            bodies,
            found.changed.replace(microsecond=0),
            None if found.before is None else month_of(found.before),
            None if found.after is None else month_of(found.after),
        )

    def months(self, key: FeedKey, shared: FeedMonths | None = None) -> list[str]:
        """Every month of the feed holding an article visible now, newest first (one
        index probe a month: what the walk along prev-archive meets)."""
        if key.kind is FeedKind.TRENDING:
            return []
        now = self.ctx.now()
        found: list[str] = []
        with self.ctx.read() as conn:
            walks = (shared if shared is not None else self.feed_months(key)).walks
            newest = monthquery.newest_before(conn, walks, now + timedelta(microseconds=1))
            while newest is not None:
                month = month_of(newest)
                found.append(month)
                newest = monthquery.newest_before(conn, walks, month_range(month)[0])
        return found
