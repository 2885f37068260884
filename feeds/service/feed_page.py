"""The page a person sees when a browser opens a feed's URL: the feed, for people.

It holds what the feed holds (the same selection, at the same version) with what a
reader needs to subscribe; the web layer renders it. Cached like the feed itself, by
version, so a page costs one render per change of the feed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from feeds.feedcache import CachedFeed
from feeds.models import Article, FeedFormat, FeedKey, FeedKind, Image
from feeds.render.content import absolute_url
from feeds.service.article_page import FeedLink, feed_link
from feeds.service.context import Context
from feeds.service.feeds import FeedRequest, FeedService, article_url

HTML = "text/html; charset=utf-8"


@dataclass(frozen=True)
class PageItem:
    title: str
    url: str
    author: str
    author_feed: FeedLink | None
    published: datetime
    updated: datetime
    image: Image | None
    summary: str
    # The section, then each hashtag, each linking to its feed.
    categories: tuple[FeedLink, ...]
    sponsored: bool
    # The outside publication an ingested article comes from.
    source: str | None


@dataclass(frozen=True)
class FeedPage:
    title: str
    description: str
    # The URL that was opened (what a reader copies), and the feed in every format.
    url: str
    feed: FeedLink
    format: FeedFormat
    items: tuple[PageItem, ...]
    next_url: str | None
    directory_url: str
    opml_url: str
    language: str


class FeedPageService:
    def __init__(self, ctx: Context, feeds: FeedService) -> None:
        self.ctx = ctx
        self.feeds = feeds

    def get(self, request: FeedRequest, render: Callable[[FeedPage], str]) -> CachedFeed:
        """The page rendered by `render`, from the cache while the feed's version holds;
        NotFound for a feed that does not exist."""
        moment = self.feeds.moment(request)
        cache_key = ("page", *moment.cache_key)
        cached = self.ctx.cache.get(cache_key)
        if cached is not None:
            return cached
        body = render(self.page(request, moment.now)).encode()
        entry = CachedFeed(
            body=body,
            etag='"' + hashlib.sha256(body).hexdigest()[:40] + '"',
            last_modified=moment.changed_at,
            media_type=HTML,
        )
        return self.ctx.cache.put(cache_key, entry)

    def page(self, request: FeedRequest, now: datetime) -> FeedPage:
        selection = self.feeds.select(request, now)
        settings = self.ctx.settings
        root = request.root_url
        titles = selection.section_titles
        return FeedPage(
            title=selection.title,
            description=selection.description,
            url=request.self_url(),
            feed=feed_link(settings, request.key, selection.title, selection.title),
            format=request.format,
            items=tuple(self._item(a, root, titles) for a in selection.articles),
            next_url=request.page_url(selection.next_cursor) if selection.next_cursor else None,
            directory_url=root + "feeds/",
            opml_url=root + "feeds.opml",
            language=settings.language,
        )

    def _item(self, article: Article, root: str, section_titles: dict[str, str]) -> PageItem:
        settings = self.ctx.settings
        link = article_url(article, root)
        image = article.image
        if image is not None:
            image = replace(image, url=absolute_url(image.url, link))
        section = FeedKey(FeedKind.SECTION, article.section)
        categories = [
            feed_link(settings, section, section_titles.get(article.section, article.section))
        ]
        categories.extend(
            feed_link(settings, FeedKey(FeedKind.TAG, tag.key), f"#{tag.display}")
            for tag in article.hashtags
        )
        # A sponsor's byline has no feed while author feeds leave sponsored articles out.
        shown = settings.include_sponsored or not article.sponsored
        author = article.author_slug if shown else None
        return PageItem(
            title=article.title or "(untitled)",
            url=link,
            author=article.author,
            author_feed=feed_link(settings, FeedKey(FeedKind.AUTHOR, author), article.author)
            if author
            else None,
            published=article.published_at,
            updated=article.updated_at,
            image=image,
            summary=article.summary,
            categories=tuple(categories),
            sponsored=article.sponsored,
            source=article.origin.source_title if article.origin is not None else None,
        )
