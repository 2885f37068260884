"""The list of every feed: for the /feeds/ page, OPML, and the admin dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from feeds.models import FeedFormat, FeedKey, FeedKind, TagFeed
from feeds.render.opml import OpmlOutline, render_opml
from feeds.service.context import Context
from feeds.service.feedkeys import query_for
from feeds.service.feeds import feed_path
from feeds.store import feedquery
from feeds.store import hashtags as hashtag_store
from feeds.store import sections as section_store
from feeds.store import tagfeeds as tagfeed_store


@dataclass(frozen=True)
class FeedListing:
    key: FeedKey
    group: str
    title: str
    description: str
    urls: tuple[tuple[FeedFormat, str], ...]

    @property
    def url_of(self) -> dict[str, str]:
        return {fmt.value: url for fmt, url in self.urls}


@dataclass(frozen=True)
class FeedFacts:
    """What a feed holds now: its visible items (for trending and tag-feed rules, those
    on its one page, so at most its limit) and the newest one's publish time."""

    items: int
    newest: datetime | None


def _articles(count: int) -> str:
    return f"{count} article{'s' if count != 1 else ''}"


class DirectoryService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def listing(self) -> list[FeedListing]:
        """Every feed, with URLs on the configured public base (never a request's Host)."""
        root = self.ctx.settings.public_root
        site = self.ctx.settings.site_title
        now = self.ctx.now()
        include_sponsored = self.ctx.settings.include_sponsored
        entries: list[tuple[FeedKey, str, str, str]] = [
            (FeedKey(FeedKind.ALL), "General", f"{site}: everything", "Every published article"),
            (
                FeedKey(FeedKind.TRENDING),
                "General",
                f"{site}: Trending",
                f"Most read in the last {self.ctx.settings.trending_window_hours} hours",
            ),
        ]
        with self.ctx.store.read() as conn:
            # Sections and tag feeds are named by their slug, title and description alike.
            named = (
                (FeedKind.SECTION, "Sections", section_store.all_sections(conn)),
                (FeedKind.CUSTOM, "Topics", tagfeed_store.all_feeds(conn)),
            )
            for kind, group, feeds in named:
                entries += [
                    (FeedKey(kind, f.slug), group, f"{site}: {f.title}", f.description)
                    for f in feeds
                ]
            for slug, name, count in feedquery.authors_in_use(conn, now, include_sponsored):
                about = f"{_articles(count)} by {name}"
                entries.append(
                    (FeedKey(FeedKind.AUTHOR, slug), "Authors", f"{site}: {name}", about)
                )
            for tag, count in hashtag_store.all_in_use(conn, now, include_sponsored):
                title, about = (
                    f"{site}: #{tag.display}",
                    f"{_articles(count)} tagged #{tag.display}",
                )
                entries.append((FeedKey(FeedKind.TAG, tag.key), "Hashtags", title, about))
        return [
            FeedListing(
                key=key,
                group=group,
                title=title,
                description=description,
                urls=tuple((fmt, root + feed_path(key, fmt)) for fmt in FeedFormat),
            )
            for key, group, title, description in entries
        ]

    def facts(self) -> dict[str, FeedFacts]:
        """FeedFacts per feed storage key, for the dashboard: grouped queries for the
        timeline feeds, one page query for each ranking and tag-feed rule."""
        settings = self.ctx.settings
        now = self.ctx.now()
        with self.ctx.store.read() as conn:
            grouped = feedquery.feed_facts(conn, now, settings.include_sponsored)
            out = {
                FeedKey(FeedKind(kind), value).storage_key: FeedFacts(n, newest)
                for (kind, value), (n, newest) in grouped.items()
            }
            pages: list[tuple[FeedKey, TagFeed | None, int]] = [
                (FeedKey(FeedKind.TRENDING), None, settings.feed_limit)
            ]
            pages += [
                (FeedKey(FeedKind.CUSTOM, feed.slug), feed, feed.limit)
                for feed in tagfeed_store.all_feeds(conn)
            ]
            for key, tag_feed, limit in pages:
                spec = query_for(key, settings, now, tag_feed)
                shown = feedquery.visible(conn, spec, now, min(limit, settings.feed_limit_max))
                newest = max((a.published_at for a in shown), default=None)
                out[key.storage_key] = FeedFacts(len(shown), newest)
        return out

    def opml(self) -> bytes:
        home = self.ctx.settings.site_url or self.ctx.settings.public_root + "feeds/"
        outlines = [
            OpmlOutline(
                text=entry.title,
                title=entry.title,
                xml_url=entry.url_of["rss"],
                html_url=home,
                description=entry.description or None,
                category="/" + entry.group,
            )
            for entry in self.listing()
        ]
        return render_opml(f"{self.ctx.settings.site_title}: all feeds", outlines)
