"""Which feeds an article belongs to, and the query behind each feed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from feeds.models import Article, FeedKey, FeedKind, FeedQuery, TagFeed
from feeds.settings import Settings

ALL = FeedKey(FeedKind.ALL)
TRENDING = FeedKey(FeedKind.TRENDING)


def keys_of(article: Article, tag_feeds: Iterable[TagFeed]) -> set[FeedKey]:
    """Every feed the article appears in (ignoring visibility and the trending window)."""
    keys = {ALL, TRENDING, FeedKey(FeedKind.SECTION, article.section)}
    keys.update(FeedKey(FeedKind.TAG, tag.key) for tag in article.hashtags)
    keys.update(FeedKey(FeedKind.CUSTOM, f.slug) for f in tag_feeds if f.rule.matches(article))
    return keys


def query_for(
    key: FeedKey, settings: Settings, now: datetime, tag_feed: TagFeed | None = None
) -> FeedQuery:
    sponsored = settings.include_sponsored
    if key.kind is FeedKind.ALL:
        return FeedQuery(include_sponsored=True)
    if key.kind is FeedKind.SECTION:
        return FeedQuery(section=key.value, include_sponsored=sponsored)
    if key.kind is FeedKind.TAG:
        return FeedQuery(tag=key.value, include_sponsored=sponsored)
    if key.kind is FeedKind.CUSTOM:
        if tag_feed is None:
            raise ValueError("a custom feed's query needs its tag feed")
        return FeedQuery(rule=tag_feed.rule, include_sponsored=tag_feed.rule.include_sponsored)
    window = timedelta(hours=settings.trending_window_hours)
    return FeedQuery(published_after=now - window, by_views=True, include_sponsored=sponsored)
