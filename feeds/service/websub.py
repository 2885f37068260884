"""WebSub publishing: tell the hub which feeds changed, so subscribers need not poll.

The hub (setting `websub_hub`) is announced in every feed as `rel="hub"`. After feeds
change, the publisher sends the hub `hub.mode=publish` with the changed feeds' URLs
(https://www.w3.org/TR/websub/ leaves the publish request to the hub; this is the
form the common hubs accept). The hub is operator-configured, so it is trusted as a
destination; a hub that is down only delays pushes, polling still works.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

import httpx

import feeds
from feeds.models import FeedFormat, FeedKey
from feeds.service.context import Context
from feeds.service.feeds import feed_path
from feeds.store import versions as version_store

log = logging.getLogger(__name__)


class WebSubPublisher:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.checked_at: datetime | None = None

    def changed_feeds(self) -> list[FeedKey]:
        """Feeds changed since the last call (all of them are "new" on the first call)."""
        now = self.ctx.now()
        since = self.checked_at or now
        with self.ctx.store.read() as conn:
            changed = version_store.changed_since(conn, since)
        self.checked_at = now
        return [version.key for version in changed]

    def publish(self, keys: Iterable[FeedKey], root: str) -> int:
        """Notify the hub of every format of each feed; returns URLs accepted."""
        hub = self.ctx.settings.websub_hub
        urls = [root + feed_path(key, fmt) for key in keys for fmt in FeedFormat]
        if not hub or not urls:
            return 0
        accepted = 0
        headers = {"User-Agent": f"Feeds/{feeds.__version__}"}
        with httpx.Client(timeout=self.ctx.settings.fetch_timeout, headers=headers) as client:
            for url in urls:
                try:
                    response = client.post(hub, data={"hub.mode": "publish", "hub.url": url})
                except httpx.HTTPError as exc:
                    log.warning("WebSub hub %s unreachable: %s", hub, exc)
                    return accepted
                if response.is_success:
                    accepted += 1
                else:
                    log.warning("WebSub hub refused %s: HTTP %s", url, response.status_code)
        return accepted
