"""Serving feeds: resolve a key, read its version, render on a cache miss only."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlsplit

from sqlalchemy import Connection

from feeds.absolutize import absolutize_html, article_link
from feeds.errors import NotFound
from feeds.feedcache import CachedFeed
from feeds.models import Article, FeedFormat, FeedKey, FeedKind, FeedVersion, TagFeed
from feeds.published import FOLDERS
from feeds.render.atom import render_atom
from feeds.render.content import absolute_url
from feeds.render.document import FeedDocument, FeedItem, ItemSource
from feeds.render.jsonfeed import render_json
from feeds.render.rss import render_rss
from feeds.service.articles import MAX_ID
from feeds.service.context import Context
from feeds.service.feedkeys import month_of, query_for
from feeds.settings import Settings
from feeds.singleflight import SingleFlight
from feeds.store import feedquery
from feeds.store import hashtags as hashtag_store
from feeds.store import sections as section_store
from feeds.store import tagfeeds as tagfeed_store
from feeds.store import versions as version_store
from feeds.version import __version__

# A feed that has never held anything still needs a Last-Modified that never moves.
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
# Cursors count microseconds from year 1, so every date (archives before 1970 too)
# gives a non-negative number.
CURSOR_EPOCH = datetime(1, 1, 1, tzinfo=UTC)

WRITERS = {FeedFormat.RSS: render_rss, FeedFormat.ATOM: render_atom, FeedFormat.JSON: render_json}
# feedgen formats RSS dates by switching the process-wide locale for a moment, so two
# threads rendering at once could corrupt each other's dates. Renders happen only on
# cache misses, so serialising them costs little.
RENDER_LOCK = threading.Lock()
# The only kinds of feed URL shown to readers.
HTTP = ("http", "https")


@dataclass(frozen=True)
class PageCursor:
    """Where the next page of a feed starts: after this (published_at, id).

    Paging by position rather than by offset keeps pages stable while new articles
    arrive at the top (RFC 5005 paged feeds).
    """

    published_at: datetime
    article_id: int

    def encode(self) -> str:
        micros = (self.published_at - CURSOR_EPOCH) // timedelta(microseconds=1)
        return f"{micros}-{self.article_id}"

    @classmethod
    def decode(cls, text: str) -> PageCursor:
        micros, sep, article_id = text.partition("-")
        digits = micros + article_id
        if not (sep and micros and article_id and digits.isascii() and digits.isdigit()):
            raise ValueError(f"{text!r} is not a page cursor")
        # Ids are 32-bit columns on PostgreSQL: a larger one cannot be a real position.
        if len(micros) > 18 or len(article_id) > 10 or int(article_id) > MAX_ID:
            raise ValueError(f"{text!r} is not a page cursor")
        try:
            published = CURSOR_EPOCH + timedelta(microseconds=int(micros))
        except OverflowError:
            raise ValueError(f"{text!r} is not a page cursor") from None
        return cls(published, int(article_id))


@dataclass(frozen=True)
class FeedRequest:
    key: FeedKey
    format: FeedFormat
    root_url: str  # the public base URL (setting public_url), with a trailing slash
    limit: int | None = None
    before: PageCursor | None = None

    def path(self) -> str:
        return feed_path(self.key, self.format)

    def self_url(self) -> str:
        return self.page_url(self.before)

    def page_url(self, before: PageCursor | None) -> str:
        """This feed's URL (with its limit) for the page that starts after `before`."""
        query = []
        if self.limit is not None:
            query.append(f"limit={self.limit}")
        if before is not None:
            query.append(f"before={before.encode()}")
        url = self.root_url + self.path()
        return f"{url}?{'&'.join(query)}" if query else url


def feed_path(key: FeedKey, fmt: FeedFormat | str) -> str:
    ext = FeedFormat(fmt).value
    if key.kind is FeedKind.ALL:
        return f"feeds/all.{ext}"
    if key.kind is FeedKind.TRENDING:
        return f"feeds/trending.{ext}"
    return f"feeds/{FOLDERS[key.kind]}/{quote(key.value, safe='')}.{ext}"


HUB_PATH = "websub"


def hub_urls(settings: Settings) -> tuple[str, ...]:
    """Every hub feeds announce: the built-in one (unless off), then an outside one."""
    hubs = [settings.public_root + HUB_PATH] if settings.hub_enabled else []
    if settings.websub_hub:
        hubs.append(settings.websub_hub)
    return tuple(hubs)


def link_header(settings: Settings, self_url: str) -> str:
    """The WebSub `Link` header of a feed: its hubs and itself (W3C WebSub 4)."""
    links = [f'<{hub}>; rel="hub"' for hub in hub_urls(settings)]
    links.append(f'<{self_url}>; rel="self"')
    return ", ".join(links)


def archive_path(key: FeedKey, month: str, fmt: FeedFormat | str) -> str:
    """`feeds/<kind>/<name>/archive/<YYYY-MM>.<fmt>`: one month of a feed (RFC 5005)."""
    ext = FeedFormat(fmt).value
    return f"{feed_path(key, ext).removesuffix('.' + ext)}/archive/{month}.{ext}"


@dataclass(frozen=True)
class _Page:
    title: str
    description: str
    items: tuple[FeedItem, ...]
    next_cursor: PageCursor | None
    # The month of the newest item on a first page: walking prev-archive from there
    # reaches every article of the feed once.
    newest_month: str | None


@dataclass(frozen=True)
class FeedIdentity:
    """What names an existing feed: its tag feed (custom feeds), title and description."""

    tag_feed: TagFeed | None
    title: str
    description: str


def _due(recorded: FeedVersion, newest: datetime | None) -> datetime | None:
    """When the feed's content changed since its recorded version by time alone, or None.

    Every write records its instant, and a visible article was published no later than
    the write that made it visible: an item newer than the recorded change can only be a
    scheduled article that came due since. None when none did (it was withdrawn before
    its time, or the row was made due only so that its next change is looked up).
    """
    return newest if newest is not None and newest > recorded.changed_at else None


@dataclass(frozen=True)
class FeedSelection:
    """One page of a feed: its articles, title and description, and the next page."""

    articles: tuple[Article, ...]
    title: str
    description: str
    section_titles: dict[str, str]
    paged: bool
    next_cursor: PageCursor | None


@dataclass(frozen=True)
class FeedMoment:
    """A feed as it stands: see FeedService.moment."""

    cache_key: tuple[object, ...]
    changed_at: datetime
    now: datetime


@dataclass(frozen=True)
class RenderedFeed:
    """Every format of a feed rendered at one version, with what identifies its content."""

    key: FeedKey
    token: str  # the version rendered (and, for trending, the window's bucket)
    fingerprint: str  # a hash of the content without its Last-Modified
    last_modified: datetime  # whole seconds
    bodies: tuple[tuple[FeedFormat, bytes], ...]


class FeedService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.flights = SingleFlight()
        # Renders done by this process (the tests count them; /metrics may show them).
        self.renders = 0

    def request(
        self,
        key: FeedKey,
        fmt: FeedFormat,
        limit: int | None = None,
        before: PageCursor | None = None,
    ) -> FeedRequest:
        """A request for a feed, with every URL built on the configured public base."""
        return FeedRequest(key, fmt, self.ctx.settings.public_root, limit, before)

    def url(self, key: FeedKey, fmt: FeedFormat) -> str:
        """The feed's public absolute URL."""
        return self.ctx.settings.public_root + feed_path(key, fmt)

    # -- versions -------------------------------------------------------------------

    def current(self, key: FeedKey) -> FeedVersion:
        """The feed's version as a request sees it; NotFound for a feed that does not exist.

        Reads only, and on the request path it is one read: the feed's version row.
        Writes make the rows and move them; the one change no write makes is a scheduled
        article coming due, which the publisher records (`settle`). Until it has, or
        when a feed has no row yet (a store older than rows made by writes), the read
        names the content by the newest publish time it shows (`FeedVersion.due`): that
        moves exactly when another scheduled article comes due, so no cached render
        outlives its content, and nothing is written on behalf of a GET.
        """
        now = self.ctx.now()
        with self.ctx.store.read() as conn:
            found = version_store.get(conn, key)
            if found is not None and (found.next_change_at is None or found.next_change_at > now):
                return found
            spec = query_for(key, self.ctx.settings, now, self._identify(conn, key, now).tag_feed)
            newest = feedquery.newest_published(conn, spec, now)
            if found is None:
                changed = feedquery.newest_change(conn, spec, now) or EPOCH
                return FeedVersion(key, 0, changed, None, due=newest or EPOCH)
        due = _due(found, newest)
        return found if due is None else replace(found, changed_at=due, due=due)

    def settle(self, key: FeedKey) -> FeedVersion:
        """The feed's version, recorded: for writers (the publisher, the hub), never for
        a request. NotFound for a feed that does not exist.

        It writes only when the feed has no version row yet or a scheduled change came
        due (an article's publish time passed): then it records the new version, and a
        hashtag whose first article came due is marked public. What it writes is what
        the clock did, never input.
        """
        now = self.ctx.now()
        with self.ctx.store.read() as conn:
            current = version_store.get(conn, key)
        if current is not None and (current.next_change_at is None or current.next_change_at > now):
            return current
        with self.ctx.store.begin() as conn:
            tag_feed = self._identify(conn, key, now).tag_feed
            if key.kind is FeedKind.TAG:
                hashtag_store.mark_public(conn, [key.value])  # e.g. its first article came due
            spec = query_for(key, self.ctx.settings, now, tag_feed)
            pending = feedquery.next_pending(conn, spec, now)
            if current is None:
                changed = feedquery.newest_change(conn, spec, now) or EPOCH
                version_store.create(conn, key, changed, pending, now)
            else:
                newest = feedquery.newest_published(conn, spec, now)
                version_store.advance(conn, key, current, pending, _due(current, newest), now)
            fresh = version_store.get(conn, key)
        assert fresh is not None
        return fresh

    def identify(self, key: FeedKey, now: datetime) -> FeedIdentity:
        """What names the feed (its tag feed for custom feeds, its title and description);
        NotFound for a feed that does not exist. Called inside another service call's
        read, it reads on that call's connection."""
        with self.ctx.read() as conn:
            return self._identify(conn, key, now)

    def _identify(self, conn: Connection, key: FeedKey, now: datetime) -> FeedIdentity:
        """The feed's title and description, and its tag feed; NotFound for a feed that
        does not exist. One read of what names the feed, shared by the existence check
        and the document's head."""
        site = self.ctx.settings.site_title
        if key.kind is FeedKind.SECTION:
            section = section_store.get(conn, key.value)
            if section is None:
                raise NotFound(f"no section {key.value!r}")
            return FeedIdentity(
                None, f"{site}: {section.title}", section.description or section.title
            )
        if key.kind is FeedKind.TAG:
            tag = hashtag_store.known(conn, key.value, now)
            if tag is None:
                raise NotFound(f"no hashtag {key.value!r}")
            return FeedIdentity(None, f"{site}: #{tag.display}", f"Articles tagged #{tag.display}")
        if key.kind is FeedKind.AUTHOR:
            name = self._author(conn, key, now)
            if name is None:
                raise NotFound(f"no author {key.value!r}")
            return FeedIdentity(None, f"{site}: {name}", f"Articles by {name}")
        if key.kind is FeedKind.CUSTOM:
            tag_feed = tagfeed_store.get(conn, key.value)
            if tag_feed is None:
                raise NotFound(f"no tag feed {key.value!r}")
            description = tag_feed.description or tag_feed.title
            return FeedIdentity(tag_feed, f"{site}: {tag_feed.title}", description)
        if key.kind is FeedKind.TRENDING:
            hours = self.ctx.settings.trending_window_hours
            return FeedIdentity(
                None, f"{site}: Trending", f"The most read articles of the last {hours} hours"
            )
        return FeedIdentity(None, site, self.ctx.settings.site_description)

    def _author(self, conn: Connection, key: FeedKey, now: datetime) -> str | None:
        include_sponsored = self.ctx.settings.include_sponsored
        return feedquery.author_name(conn, key.value, now, include_sponsored)

    # -- rendering ------------------------------------------------------------------

    def _pinned(self, key: FeedKey, version: FeedVersion) -> tuple[str, datetime, datetime]:
        """The version's token, its Last-Modified, and the instant to render it at.

        Trending also changes as its window slides: its window is pinned to a bucket of
        `trending_refresh_seconds`, so every render within one bucket agrees.
        """
        now = self.ctx.now()
        token = self.token_of(key, version.version, now)
        if version.due is not None:
            # Not a recorded version: never the token of one (see `current`).
            micros = (version.due - CURSOR_EPOCH) // timedelta(microseconds=1)
            token = f"{token}+{micros}"
        if key.kind is not FeedKind.TRENDING:
            return token, version.changed_at, now
        bucket = self.trending_bucket(now)
        return token, max(version.changed_at, bucket), bucket

    def token(self, key: FeedKey, version: FeedVersion) -> str:
        """What names the feed's content at this version (and trending's window)."""
        return self._pinned(key, version)[0]

    def token_of(self, key: FeedKey, version: int, now: datetime) -> str:
        """`token` from a version number, at `now`."""
        if key.kind is not FeedKind.TRENDING:
            return str(version)
        return f"{version}@{int(self.trending_bucket(now).timestamp())}"

    def trending_bucket(self, now: datetime) -> datetime:
        """The start of the `trending_refresh_seconds` step `now` falls in."""
        step = self.ctx.settings.trending_refresh_seconds
        return datetime.fromtimestamp(int(now.timestamp()) // step * step, UTC)

    def get(self, request: FeedRequest) -> CachedFeed:
        """The rendered feed, from the cache when its version has not moved.

        Concurrent requests for the same missing entry share one render.
        """
        version = self.current(request.key)
        token, changed_at, now = self._pinned(request.key, version)
        cache_key = (
            request.key, request.format, request.limit, request.before, request.root_url, token,
        )  # fmt: skip
        cached = self.ctx.cache.get(cache_key)
        if cached is not None:
            return cached
        with self.flights.one(cache_key) as leader:
            if not leader:
                # Another request rendered it meanwhile (or failed: then render here).
                cached = self.ctx.cache.get(cache_key)
                if cached is not None:
                    return cached
            page = self._page(request, now)
            document = self._assemble(request, page, changed_at)
            with RENDER_LOCK:
                body = WRITERS[request.format](document)
            self.renders += 1
            etag = '"' + hashlib.sha256(body).hexdigest()[:40] + '"'
            entry = CachedFeed(
                body=body,
                etag=etag,
                last_modified=changed_at.replace(microsecond=0),
                media_type=request.format.media_type,
            )
            return self.ctx.cache.put(cache_key, entry)

    def render_all(self, key: FeedKey, after: datetime | None = None) -> RenderedFeed:
        """Every format of the feed's first page from one query (for the publisher).

        Last-Modified is the feed's newest change in whole seconds; when that is not
        later than `after` (what was published before), it is one second past it, so
        new content never keeps the validators of the old (nginx's ETag is the mtime
        and the size).
        """
        version = self.settle(key)
        token, changed_at, now = self._pinned(key, version)
        last_modified = changed_at.replace(microsecond=0)
        if after is not None and last_modified <= after:
            last_modified = after + timedelta(seconds=1)
        root = self.ctx.settings.public_root
        page = self._page(FeedRequest(key, FeedFormat.ATOM, root), now)
        bodies = []
        fingerprint = ""
        for fmt in FeedFormat:
            document = self._assemble(FeedRequest(key, fmt, root), page, last_modified)
            if fmt is FeedFormat.ATOM:
                # Frozen dataclasses all the way down: their repr is the content.
                content = repr(replace(document, updated=EPOCH)).encode()
                fingerprint = hashlib.sha256(content).hexdigest()
            with RENDER_LOCK:
                bodies.append((fmt, WRITERS[fmt](document)))
        self.renders += 1
        return RenderedFeed(key, token, fingerprint, last_modified, tuple(bodies))

    def document(self, request: FeedRequest, changed_at: datetime, now: datetime) -> FeedDocument:
        return self._assemble(request, self._page(request, now), changed_at)

    def select(self, request: FeedRequest, now: datetime) -> FeedSelection:
        """The articles of the page the request asks for, with the feed's title: one
        query, shared by every format and by the feed's page for people."""
        settings = self.ctx.settings
        with self.ctx.store.read() as conn:
            identity = self._identify(conn, request.key, now)
            tag_feed = identity.tag_feed
            default_limit = tag_feed.limit if tag_feed else settings.feed_limit
            limit = min(request.limit or default_limit, settings.feed_limit_max)
            spec = query_for(request.key, settings, now, tag_feed)
            # Trending is a ranking, not a timeline: it has one page.
            paged = request.key.kind is not FeedKind.TRENDING
            before = None
            if paged and request.before is not None:
                before = (request.before.published_at, request.before.article_id)
            found = feedquery.visible(conn, spec, now, limit + 1 if paged else limit, before)
            section_titles = {s.slug: s.title for s in section_store.all_sections(conn)}
        next_cursor = None
        if len(found) > limit:
            last = found[limit - 1]
            assert last.id is not None
            next_cursor = PageCursor(last.published_at, last.id)
        return FeedSelection(
            tuple(found[:limit]),
            identity.title,
            identity.description,
            section_titles,
            paged,
            next_cursor,
        )

    def _page(self, request: FeedRequest, now: datetime) -> _Page:
        """What a page of the feed shows, in the form every format renders."""
        selection = self.select(request, now)
        found = selection.articles
        items = tuple(self.item(a, request.root_url, selection.section_titles) for a in found)
        newest_month = None
        if selection.paged and request.before is None and found:
            newest_month = month_of(found[0].published_at)
        return _Page(
            selection.title, selection.description, items, selection.next_cursor, newest_month
        )

    def moment(self, request: FeedRequest) -> FeedMoment:
        """What a rendering of the feed depends on besides the request (NotFound for a
        feed that does not exist): a cache key that moves with its version, its
        Last-Modified and the instant its content is read at."""
        token, changed_at, now = self._pinned(request.key, self.current(request.key))
        cache_key = (
            request.key, request.format, request.limit, request.before, request.root_url, token,
        )  # fmt: skip
        return FeedMoment(cache_key, changed_at.replace(microsecond=0), now)

    def _assemble(self, request: FeedRequest, page: _Page, changed_at: datetime) -> FeedDocument:
        settings = self.ctx.settings
        root = request.root_url
        return FeedDocument(
            id=f"tag:{settings.guid_authority}:{request.path().rsplit('.', 1)[0]}",
            title=page.title,
            description=page.description,
            home_url=settings.site_url or root + "feeds/",
            self_url=request.self_url(),
            language=settings.language,
            updated=changed_at.replace(microsecond=0),
            ttl_minutes=max(1, settings.cache_max_age // 60),
            generator="Feeds",
            generator_version=__version__,
            items=page.items,
            hub_urls=hub_urls(settings),
            next_url=request.page_url(page.next_cursor) if page.next_cursor else None,
            prev_archive_url=(
                root + archive_path(request.key, page.newest_month, request.format)
                if page.newest_month
                else None
            ),
        )

    def item(self, article: Article, root: str, section_titles: dict[str, str]) -> FeedItem:
        link = article_url(article, root)
        stored = article.feed_content
        if stored is not None and stored.base == link:
            content = stored.html  # made when the article was written
        else:
            # Written before copies were kept, or against another public URL.
            content = absolutize_html(article.content_html, link)
        categories = [section_titles.get(article.section, article.section)]
        categories.extend(tag.display for tag in article.hashtags)
        if article.sponsored:
            categories.append("Sponsored")
        image = article.image
        if image is not None:
            resolved = absolute_url(image.url, link)
            if resolved != image.url:
                image = replace(image, url=resolved)
        source = None
        if article.origin is not None:
            origin = article.origin
            # Readers see only http(s) feed URLs, never a `file:` path of this machine.
            shown = origin.feed_url if urlsplit(origin.feed_url).scheme in HTTP else None
            authority = self.ctx.settings.guid_authority
            source = ItemSource(
                title=origin.source_title,
                id=shown or f"tag:{authority}:source/{origin.source_id}",
                updated=article.updated_at,
                feed_url=shown,
                link=origin.link,
            )
        return FeedItem(
            id=article.guid,
            # Rows stored before ingest supplied a fallback may have no title; every
            # writer needs one, and one bad item must not take the whole feed down.
            title=article.title or "(untitled)",
            url=link,
            summary=article.summary,
            content_html=content,
            author=article.author,
            categories=tuple(dict.fromkeys(categories)),
            published=article.published_at,
            updated=article.updated_at,
            image=image,
            language=article.language,
            source=source,
        )


def article_url(article: Article, root: str) -> str:
    """The canonical URL, or our own minimal article page when the newsroom has none."""
    return article_link(article.url, article.slug, root)
