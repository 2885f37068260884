"""WebSub publishing: tell the hub which feeds changed, so subscribers need not poll.

The hub (setting `websub_hub`) is announced in every feed as `rel="hub"`. After feeds
change, the publisher sends the hub `hub.mode=publish` with the changed feeds' URLs
(https://www.w3.org/TR/websub/ leaves the publish request to the hub; this is the
form the common hubs accept). The hub is operator-configured, so it is trusted as a
destination.

Changes are found by feed version, not by clock: every write moves versions, and a
scheduled article coming due is applied here first, even if nobody has read the feed.

What the hub was told lives in the store (table websub_announcements), per feed: the
version it last accepted, and which hub that was. Every scheduler process on the store
reads the same rows, and before pinging a feed a process claims the ping with a
conditional update, so of two schedulers exactly one pings for a given version; a
restarted process does not ping again for what was announced before. A feed is recorded
as announced only once the hub accepted it: a refused or failed ping ends the claim and
the feed is pinged again (by whichever process) after a backoff that grows with its
failures in a row (`retry_after`), so a hub that is down delays pushes instead of losing
them, and a URL the hub keeps refusing is not sent every round. A claim lasts as long as
one feed's pings can take, so a process that died mid-ping leaves the feed to the next
round once it runs out (at least once, never twice while both live).

When `websub_hub` names another hub than the rows were announced to, the new hub starts
from the feeds' present versions, as the first hub did: it was told nothing, and what
changed before it was configured is no change to it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

import httpx

from feeds.errors import NotFound
from feeds.models import FeedFormat, FeedKey, HubAnnouncement
from feeds.service.context import Context
from feeds.service.feeds import FeedService, feed_path
from feeds.service.hub import CLAIM_MARGIN_SECONDS
from feeds.store import announcements as announcement_store
from feeds.store import versions as version_store
from feeds.version import user_agent

log = logging.getLogger(__name__)

# The wait after a failed ping: a minute, doubling with each failure in a row, at most
# an hour. Fixed, not settings: a hub that is back is told within the hour, and one
# refusing a URL hears of it at most hourly.
RETRY_SECONDS = 60
RETRY_CAP_SECONDS = 3600


def retry_after(failures: int) -> timedelta:
    """The wait before the next ping of a feed whose last `failures` pings failed."""
    # The exponent is bounded so a feed failing for months does not make a huge int.
    doubled = RETRY_SECONDS * 2 ** min(max(failures - 1, 0), 16)
    return timedelta(seconds=min(doubled, RETRY_CAP_SECONDS))


class WebSubPublisher:
    def __init__(self, ctx: Context, feeds_service: FeedService) -> None:
        self.ctx = ctx
        self.feeds = feeds_service

    def start(self) -> None:
        """Feeds the hub was told nothing about (new feeds, and every feed when
        `websub_hub` names another hub than they were announced to) take their present
        versions as announced: only later changes are pushed. What an earlier process
        announced to this hub, or failed to, is kept."""
        hub = self.ctx.settings.websub_hub
        if not hub:
            return
        with self.ctx.store.begin() as conn:
            moved = announcement_store.move_to(conn, hub)
            announcement_store.take_present(conn, hub)
        if moved:
            log.warning(
                "WebSub hub is now %s: %d feeds announced to another hub start from their "
                "present versions",
                hub, moved,
            )  # fmt: skip

    def changed_feeds(self) -> list[HubAnnouncement]:
        """Feeds whose version moved since the hub last accepted them."""
        self.start()  # feeds that appeared since the last round are not changes
        with self.ctx.store.read() as conn:
            due = version_store.due(conn, self.ctx.now())
        for key in due:
            try:
                self.feeds.settle(key)  # applies the scheduled change
            except NotFound:
                continue
        with self.ctx.store.read() as conn:
            return announcement_store.behind(conn, self.ctx.settings.websub_hub, self.ctx.now())

    def waiting(self) -> list[HubAnnouncement]:
        """Feeds the hub has not accepted the present version of, with their failures
        and the earliest next ping (for the status command)."""
        hub = self.ctx.settings.websub_hub
        if not hub:
            return []
        with self.ctx.store.read() as conn:
            return announcement_store.waiting(conn, hub)

    def publish(self, changes: Iterable[HubAnnouncement], root: str) -> int:
        """Notify the hub of every format of each changed feed that this process
        claims; returns URLs accepted."""
        hub = self.ctx.settings.websub_hub
        changes = list(changes)
        if not hub or not changes:
            return 0
        accepted = 0
        settings = self.ctx.settings
        headers = {"User-Agent": user_agent(settings.site_url, settings.fetch_user_agent)}
        with httpx.Client(timeout=settings.fetch_timeout, headers=headers) as client:
            for change in changes:
                until = self._claim(change)
                if until is None:
                    continue  # another process pings for it, or did
                sent, reachable = self._ping(client, hub, change.feed, root)
                accepted += sent
                now = self.ctx.now()
                with self.ctx.store.begin() as conn:
                    if sent == len(FeedFormat):
                        announcement_store.announced(conn, change, until, now)
                    else:
                        retry_at = now + retry_after(change.failures + 1)
                        announcement_store.failed(conn, change, until, retry_at)
                if not reachable:
                    break  # the rest stay unclaimed, for the next round
        return accepted

    def _claim(self, change: HubAnnouncement) -> datetime | None:
        """Take the ping for `change`; returns when the claim ends, or None when
        another process has it. The claim outlasts the feed's pings (one per format,
        each at most `fetch_timeout`) and recording their outcome."""
        now = self.ctx.now()
        seconds = self.ctx.settings.fetch_timeout * len(FeedFormat) + CLAIM_MARGIN_SECONDS
        until = now + timedelta(seconds=seconds)
        with self.ctx.store.begin() as conn:
            hub = self.ctx.settings.websub_hub
            return until if announcement_store.claim(conn, change, hub, now, until) else None

    def _ping(self, client: httpx.Client, hub: str, key: FeedKey, root: str) -> tuple[int, bool]:
        """Ping the hub for each format of `key`: the URLs it accepted, and whether it
        could be reached at all."""
        accepted = 0
        for fmt in FeedFormat:
            url = root + feed_path(key, fmt)
            try:
                response = client.post(hub, data={"hub.mode": "publish", "hub.url": url})
            except httpx.HTTPError as exc:
                log.warning("WebSub hub %s unreachable: %s", hub, exc)
                return accepted, False
            if response.is_success:
                accepted += 1
            else:
                log.warning("WebSub hub refused %s: HTTP %s", url, response.status_code)
        return accepted, True
