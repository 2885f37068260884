"""Which feeds an article belongs to, and the query behind each feed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from feeds.models import Article, FeedKey, FeedKind, FeedQuery, TagFeed
from feeds.settings import Settings

ALL = FeedKey(FeedKind.ALL)
TRENDING = FeedKey(FeedKind.TRENDING)


def keys_of(article: Article, tag_feeds: Iterable[TagFeed], settings: Settings) -> set[FeedKey]:
    """Every timeline feed the article appears in (ignoring visibility).

    A sponsored article is left out of the section, hashtag and author feeds unless
    `include_sponsored` is on, exactly as their queries leave it out, so writing it
    moves only the feeds that show it. Trending is a ranking, not a timeline: see
    `in_trending`.
    """
    keys = {ALL}
    if settings.include_sponsored or not article.sponsored:
        keys.add(FeedKey(FeedKind.SECTION, article.section))
        keys.update(FeedKey(FeedKind.TAG, tag.key) for tag in article.hashtags)
        if article.author_slug:
            keys.add(FeedKey(FeedKind.AUTHOR, article.author_slug))
    keys.update(FeedKey(FeedKind.CUSTOM, f.slug) for f in tag_feeds if f.rule.matches(article))
    return keys


def month_of(moment: datetime) -> str:
    """The UTC calendar month an instant falls in, as archives name it (YYYY-MM)."""
    moment = moment.astimezone(UTC)
    return f"{moment.year:04d}-{moment.month:02d}"


def in_trending(article: Article, settings: Settings) -> bool:
    """Whether the article can rank in trending (ignoring visibility and the window)."""
    return article.views > 0 and (settings.include_sponsored or not article.sponsored)


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
    if key.kind is FeedKind.AUTHOR:
        return FeedQuery(author=key.value, include_sponsored=sponsored)
    if key.kind is FeedKind.CUSTOM:
        if tag_feed is None:
            raise ValueError("a custom feed's query needs its tag feed")
        return FeedQuery(rule=tag_feed.rule, include_sponsored=tag_feed.rule.include_sponsored)
    window = timedelta(hours=settings.trending_window_hours)
    return FeedQuery(published_after=now - window, by_views=True, include_sponsored=sponsored)
