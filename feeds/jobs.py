"""APScheduler wiring: thin jobs that call the service.

Five jobs: the ingest tick (every `scheduler_tick_seconds`, first at start), the feed
refresh it triggers (pre-render what the tick changed, off the tick's thread),
housekeeping (retention pruning, hourly), WebSub publishing when an outside hub is set,
and the built-in hub's round (verify intents, deliver changes) on the same interval.
Two hub rounds at once could deliver a change twice, which WebSub subscribers must
tolerate anyway; production runs one scheduler process.
Each is safe to run in two processes at once: sources are claimed by lease, articles
are unique per (source, origin id), and pruning deletes by id, counting only rows it
removed.

In production the scheduler runs alone (`feeds scheduler`): started inside the app it
would run once per web worker. `feeds serve` starts it in-process for development.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from feeds.errors import FeedsError, NotFound
from feeds.models import FeedFormat, FeedKey
from feeds.service import Service
from feeds.service.feeds import FeedRequest
from feeds.service.ingest import RefreshOutcome
from feeds.service.websub import WebSubPublisher
from feeds.settings import Settings

log = logging.getLogger(__name__)

HOUSEKEEPING_SECONDS = 3600


def root_url(settings: Settings) -> str:
    """The public base URL feeds are built for (setting public_url)."""
    return settings.public_root


class Jobs:
    def __init__(self, service: Service) -> None:
        self.service = service
        self.scheduler: BaseScheduler | None = None
        self.publisher = WebSubPublisher(service.ctx, service.feeds)

    def tick(self) -> list[RefreshOutcome]:
        """Ingest every due source; hand the feeds that changed to the refresh job."""
        try:
            outcomes = self.service.sources.ingest_due()
        except FeedsError as exc:
            log.error("ingest tick failed: %s", exc)
            return []
        for outcome in outcomes:
            if outcome.status in ("failed", "gone"):
                log.warning("source %s: %s", outcome.source_id, outcome.error)
        changed = {key for outcome in outcomes for key in outcome.feeds}
        if changed and self.scheduler is not None and self.scheduler.running:
            self.scheduler.add_job(self.refresh_feeds, args=[changed], id=None)
        elif changed:
            self.refresh_feeds(changed)
        return outcomes

    def refresh_feeds(self, keys: Iterable[FeedKey]) -> int:
        """Render changed feeds ahead of the first reader; returns how many were rendered."""
        root = root_url(self.service.settings)
        rendered = 0
        for key in sorted(keys, key=lambda k: k.storage_key):
            for fmt in FeedFormat:
                try:
                    self.service.feeds.get(FeedRequest(key, fmt, root))
                    rendered += 1
                except NotFound:
                    break  # removed since the tick (a pruned hashtag's last article)
                except FeedsError as exc:
                    log.error("pre-rendering %s failed: %s", key.storage_key, exc)
        return rendered

    def notify_hub(self) -> int:
        """Tell the WebSub hub about every feed changed since the last run."""
        if not self.service.settings.websub_hub:
            return 0
        keys = self.publisher.changed_feeds()
        try:
            return self.publisher.publish(keys, root_url(self.service.settings))
        except FeedsError as exc:
            log.error("WebSub notification failed: %s", exc)
            return 0

    def hub_round(self) -> dict[str, int]:
        """The built-in hub's work: end lapsed leases, verify intents, deliver changes."""
        try:
            return self.service.hub.run()
        except FeedsError as exc:
            log.error("WebSub hub round failed: %s", exc)
            return {}

    def housekeeping(self) -> int:
        try:
            return self.service.sources.prune()
        except FeedsError as exc:
            log.error("housekeeping failed: %s", exc)
            return 0

    def _schedule(self, scheduler: BaseScheduler) -> BaseScheduler:
        now = datetime.now(UTC)
        every = self.service.settings.scheduler_tick_seconds
        # coalesce + max_instances=1: a slow tick is never stacked behind itself.
        defaults = {"coalesce": True, "max_instances": 1}
        scheduler.add_job(
            self.tick, "interval", seconds=every, id="ingest", next_run_time=now, **defaults
        )
        if self.service.settings.websub_hub:
            # Catches every change (API writes, ingest, withdrawals), not only ingest.
            self.publisher.start()
            scheduler.add_job(self.notify_hub, "interval", seconds=every, id="websub", **defaults)
        if self.service.settings.hub_enabled:
            scheduler.add_job(
                self.hub_round, "interval", seconds=every, id="websub-hub",
                next_run_time=now, **defaults,
            )  # fmt: skip
        scheduler.add_job(
            self.housekeeping, "interval", seconds=HOUSEKEEPING_SECONDS, id="housekeeping",
            next_run_time=now + timedelta(seconds=60), **defaults,
        )  # fmt: skip
        self.scheduler = scheduler
        return scheduler

    def start_background(self) -> BackgroundScheduler:
        scheduler = BackgroundScheduler(timezone=UTC, daemon=True)
        self._schedule(scheduler)
        scheduler.start()
        return scheduler

    def run_blocking(self) -> None:
        scheduler = self._schedule(BlockingScheduler(timezone=UTC))
        try:
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            if scheduler.running:
                scheduler.shutdown(wait=False)


def start_in_background(service: Service) -> BackgroundScheduler:
    """The scheduler inside `feeds serve`; the caller shuts it down on exit."""
    return Jobs(service).start_background()
