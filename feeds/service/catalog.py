"""Sections and tag feeds: the named feeds beyond `all` and the hashtag feeds."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection

from feeds.errors import Conflict, NotFound, ValidationError
from feeds.models import Article, FeedKey, FeedKind, Section, TagFeed
from feeds.service.context import Context
from feeds.service.feedkeys import query_for
from feeds.service.payload import SLUG
from feeds.store import feedquery
from feeds.store import hashtags as hashtag_store
from feeds.store import sections as section_store
from feeds.store import tagfeeds as tagfeed_store
from feeds.store import versions as version_store


class CatalogService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def hashtag_displays(self, keys: Iterable[str]) -> dict[str, str]:
        """How each hashtag key is written for display (`southkorea` -> `SouthKorea`);
        keys no article has carried map to themselves."""
        wanted = list(dict.fromkeys(keys))
        with self.ctx.store.read() as conn:
            known = hashtag_store.displays(conn, wanted)
        return {key: known.get(key, key) for key in wanted}

    # -- sections ---------------------------------------------------------------------

    def sections(self) -> list[Section]:
        with self.ctx.store.read() as conn:
            return section_store.all_sections(conn)

    def save_section(self, section: Section) -> None:
        if not SLUG.fullmatch(section.slug):
            raise ValidationError({"slug": "must be lowercase letters, digits and hyphens"})
        with self.ctx.unit_of_work() as conn:
            before = section_store.get(conn, section.slug)
            if not section_store.upsert(conn, section):
                return
            if before is not None and before.title != section.title:
                # The title is every item's first category, in every feed.
                version_store.bump_all(conn, self.ctx.now())
            else:
                keys = [FeedKey(FeedKind.SECTION, section.slug)]
                version_store.bump(conn, keys, self.ctx.now())

    def hashtags(self) -> list[tuple[Any, int]]:
        with self.ctx.store.read() as conn:
            return hashtag_store.all_in_use(conn)

    # -- tag feeds --------------------------------------------------------------------

    def tag_feeds(self) -> list[TagFeed]:
        with self.ctx.store.read() as conn:
            return tagfeed_store.all_feeds(conn)

    def tag_feed(self, slug: str) -> TagFeed:
        """The stored tag feed (as the open unit of work sees it, if one is); NotFound."""
        with self.ctx.read() as conn:
            return self._stored(conn, slug)

    def _stored(self, conn: Connection, slug: str) -> TagFeed:
        found = tagfeed_store.get(conn, slug)
        if found is None or found.id is None:
            raise NotFound(f"no tag feed {slug!r}")
        return found

    def _check_sections(self, conn: Connection, feed: TagFeed) -> None:
        unknown = [s for s in feed.rule.sections if section_store.get(conn, s) is None]
        if unknown:
            raise ValidationError({"sections": f"unknown section {', '.join(unknown)}"})

    def create_tag_feed(self, feed: TagFeed) -> TagFeed:
        with self.ctx.unit_of_work() as conn:
            self._check_sections(conn, feed)
            if tagfeed_store.get(conn, feed.slug) is not None:
                raise Conflict(f"a tag feed with slug {feed.slug!r} exists")
            stored = tagfeed_store.insert_feed(conn, feed)
            version_store.redefine(conn, [FeedKey(FeedKind.CUSTOM, feed.slug)], self.ctx.now())
        return stored

    def update_tag_feed(self, slug: str, feed: TagFeed) -> TagFeed:
        with self.ctx.unit_of_work() as conn:
            current = self._stored(conn, slug)
            self._check_sections(conn, feed)
            if feed.slug != slug and tagfeed_store.get(conn, feed.slug) is not None:
                raise Conflict(f"a tag feed with slug {feed.slug!r} exists")
            assert current.id is not None
            if replace(feed, id=current.id) == current:
                return current
            stored = tagfeed_store.update_feed(conn, current.id, feed)
            keys = {FeedKey(FeedKind.CUSTOM, slug), FeedKey(FeedKind.CUSTOM, feed.slug)}
            version_store.redefine(conn, keys, self.ctx.now())
        return stored

    def delete_tag_feed(self, slug: str) -> None:
        with self.ctx.unit_of_work() as conn:
            current = self._stored(conn, slug)
            assert current.id is not None
            tagfeed_store.delete_feed(conn, current.id)
            version_store.redefine(conn, [FeedKey(FeedKind.CUSTOM, slug)], self.ctx.now())

    def preview(self, feed: TagFeed, limit: int | None = None) -> list[Article]:
        """The articles a rule would hold now, without saving it."""
        now = self.ctx.now()
        key = FeedKey(FeedKind.CUSTOM, feed.slug)
        spec = query_for(key, self.ctx.settings, now, feed)
        with self.ctx.store.read() as conn:
            return feedquery.visible(conn, spec, now, limit or feed.limit)
