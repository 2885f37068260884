"""WebSub publishing: tell the hub which feeds changed, so subscribers need not poll.

The hub (setting `websub_hub`) is announced in every feed as `rel="hub"`. After feeds
change, the publisher sends the hub `hub.mode=publish` with the changed feeds' URLs
(https://www.w3.org/TR/websub/ leaves the publish request to the hub; this is the
form the common hubs accept). The hub is operator-configured, so it is trusted as a
destination.

Changes are found by feed version, not by clock: every write moves versions, and a
scheduled article coming due is applied here first, even if nobody has read the feed.
A feed is remembered as announced only once the hub accepted it, so a hub that is down
delays pushes instead of losing them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import httpx

from feeds.errors import NotFound
from feeds.models import FeedFormat, FeedKey
from feeds.service.context import Context
from feeds.service.feeds import FeedService, feed_path
from feeds.store import versions as version_store
from feeds.version import user_agent

log = logging.getLogger(__name__)


class WebSubPublisher:
    def __init__(self, ctx: Context, feeds_service: FeedService) -> None:
        self.ctx = ctx
        self.feeds = feeds_service
        self.announced: dict[FeedKey, int] | None = None

    def start(self) -> None:
        """Take the present versions as announced: only later changes are pushed."""
        with self.ctx.store.read() as conn:
            self.announced = version_store.all_versions(conn)

    def changed_feeds(self) -> list[FeedKey]:
        """Feeds whose version moved since they were last announced."""
        if self.announced is None:
            self.start()
            return []
        with self.ctx.store.read() as conn:
            due = version_store.due(conn, self.ctx.now())
        for key in due:
            try:
                self.feeds.settle(key)  # applies the scheduled change
            except NotFound:
                continue
        with self.ctx.store.read() as conn:
            current = version_store.all_versions(conn)
        changed = []
        for key, version in current.items():
            seen = self.announced.get(key)
            if seen is None:
                self.announced[key] = version  # first read of a feed is not a change
            elif seen != version:
                changed.append(key)
        return sorted(changed, key=lambda k: k.storage_key)

    def publish(self, keys: Iterable[FeedKey], root: str) -> int:
        """Notify the hub of every format of each feed; returns URLs accepted."""
        hub = self.ctx.settings.websub_hub
        keys = list(keys)
        if not hub or not keys:
            return 0
        with self.ctx.store.read() as conn:
            versions = version_store.all_versions(conn)
        accepted = 0
        settings = self.ctx.settings
        headers = {"User-Agent": user_agent(settings.site_url, settings.fetch_user_agent)}
        with httpx.Client(timeout=self.ctx.settings.fetch_timeout, headers=headers) as client:
            for key in keys:
                ok = True
                for fmt in FeedFormat:
                    url = root + feed_path(key, fmt)
                    try:
                        response = client.post(hub, data={"hub.mode": "publish", "hub.url": url})
                    except httpx.HTTPError as exc:
                        log.warning("WebSub hub %s unreachable: %s", hub, exc)
                        return accepted  # the rest stay unannounced, for the next run
                    if response.is_success:
                        accepted += 1
                    else:
                        ok = False
                        log.warning("WebSub hub refused %s: HTTP %s", url, response.status_code)
                if ok and self.announced is not None and key in versions:
                    self.announced[key] = versions[key]
        return accepted
