"""APScheduler wiring: thin jobs that call the service.

Five jobs: the ingest tick (every `scheduler_tick_seconds`, first at start),
housekeeping (retention pruning, hourly), WebSub publishing when an outside hub is set,
the built-in hub's round (verify intents, deliver changes) and the subscriber's round
(subscribe to and renew with the hubs sources advertise) on the tick's interval;
beside them the publish loop (a thread of its own, every `publish_interval_seconds`
and at once after a tick that changed feeds) writes the published tree.
Two hub rounds at once (two scheduler processes on one store) send each verification
and each delivery once, and two subscriber rounds ask a source's hub once: each is
claimed in the store before it is sent.
Each is safe to run in two processes at once: sources are claimed by lease, articles
are unique per (source, origin id), and pruning deletes by id, counting only rows it
removed.

In production the scheduler runs alone (`feeds scheduler`): started inside the app it
would run once per web worker. `feeds serve` starts it in-process for development.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from datetime import UTC, datetime, timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from feeds.errors import FeedsError
from feeds.service import Service
from feeds.service.bounded import RENDER_THREAD
from feeds.service.ingest import RefreshOutcome
from feeds.service.publish import PublishReport
from feeds.settings import Settings

log = logging.getLogger(__name__)

HOUSEKEEPING_SECONDS = 3600
# How often the publish loop lists every feed (every author and hashtag): the repair
# path. The rounds between look at the feeds it knows, whose versions tell what moved,
# and find new ones (hashtags, authors, tag feeds) by the version rows their writes made.
DISCOVER_SECONDS = 300.0
LOOP_THREAD = "feeds-publisher"


def root_url(settings: Settings) -> str:
    """The public base URL feeds are built for (setting public_url)."""
    return settings.public_root


class PublishLoop:
    """Runs the publisher every `publish_interval_seconds`, or at once when woken."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._discovered_at: float | None = None
        self._discover = threading.Event()

    def run_once(self) -> PublishReport | None:
        settings = self.service.settings
        now = time.monotonic()
        discover = self._discover.is_set() or (
            self._discovered_at is None or now - self._discovered_at >= DISCOVER_SECONDS
        )
        self._discover.clear()
        try:
            report = self.service.publisher.run(
                new_limit=settings.publish_new_per_round, discover=discover
            )
        except FeedsError as exc:
            # The store is down or the tree unwritable: what is published stays served,
            # and the next round tries again.
            log.error("publishing failed: %s", exc)
            return None
        if discover:
            self._discovered_at = now
        for key, error in report.failed:
            log.warning("feed %s not published: %s", key.storage_key, error)
        if report.published or report.removed:
            log.info("published %d feeds, removed %d", len(report.published), len(report.removed))
        if report.archives or report.archives_removed:
            log.info(
                "published %d archive months, removed %d",
                len(report.archives),
                len(report.archives_removed),
            )
        return report

    def wake(self, discover: bool = False) -> None:
        """Run a round now (and list every feed in it: an ingest may add hashtags)."""
        if discover:
            self._discover.set()
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            if self.service.closed:
                return  # the app was shut down without stopping us: its store is gone
            self._wake.clear()
            try:
                self.run_once()
            except Exception:  # never let the thread die: publishing would stop silently
                log.exception("publish round failed")
            self._wake.wait(self.service.settings.publish_interval_seconds)

    def start(self, *, wake_on_commit: bool = False) -> None:
        """Start the loop; with `wake_on_commit`, every write this process commits (an
        API write under `feeds serve`) starts a round at once instead of at the next
        interval."""
        if wake_on_commit:
            self.service.on_commit(self._committed)
        self._thread = threading.Thread(target=self._loop, name=LOOP_THREAD, daemon=True)
        self._thread.start()

    def _committed(self) -> None:
        # The publisher's own commits (a feed's first version row) wake nothing: a
        # round that wrote would otherwise always start another.
        if not threading.current_thread().name.startswith((LOOP_THREAD, RENDER_THREAD)):
            self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


class Jobs:
    def __init__(self, service: Service) -> None:
        self.service = service
        self.scheduler: BaseScheduler | None = None
        self.publisher = service.websub_publisher()
        # Set while a hub round runs; `_hub_again` asks it for one more pass (a publish
        # happened meanwhile) instead of stacking a second round behind it.
        self._hub_busy = threading.Event()
        self._hub_again = threading.Event()
        self.publish_loop = PublishLoop(service)

    def tick(self) -> list[RefreshOutcome]:
        """Ingest every due source; have the feeds that changed published at once."""
        try:
            outcomes = self.service.sources.ingest_due()
        except FeedsError as exc:
            log.error("ingest tick failed: %s", exc)
            return []
        for outcome in outcomes:
            if outcome.status in ("failed", "gone"):
                log.warning("source %s: %s", outcome.source_id, outcome.error)
        if any(outcome.feeds for outcome in outcomes):
            if self.scheduler is not None and self.scheduler.running:
                self.publish_loop.wake(discover=True)
            else:
                self.publish_loop.run_once()
        return outcomes

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
        self._hub_busy.set()
        try:
            while True:
                self._hub_again.clear()
                result = self.service.hub.run()
                if not self._hub_again.is_set():
                    return result
        except FeedsError as exc:
            log.error("WebSub hub round failed: %s", exc)
            return {}
        finally:
            self._hub_busy.clear()

    def _wake_hub(self) -> None:
        """After a publish: run the hub's round now, or once more if it is running."""
        if self._hub_busy.is_set():
            self._hub_again.set()
            return
        scheduler = self.scheduler
        if scheduler is None or not scheduler.running:
            return
        job = scheduler.get_job("websub-hub")
        now = datetime.now(UTC)
        # Many feeds publish in one round: bring the job forward once, not per file.
        if job is not None and job.next_run_time is not None and job.next_run_time > now:
            with contextlib.suppress(JobLookupError):  # removed meanwhile
                job.modify(next_run_time=now)

    def push_round(self) -> dict[str, int]:
        """Subscriptions to outside hubs: mark lapsed leases, subscribe and renew."""
        try:
            return self.service.push.run()
        except FeedsError as exc:
            log.error("WebSub subscriber round failed: %s", exc)
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
            # A publish brings the hub's next round forward: subscribers get the bytes
            # as soon as they are published, not at the next tick.
            self.service.hub.listeners.append(self._wake_hub)
            scheduler.add_job(
                self.hub_round, "interval", seconds=every, id="websub-hub",
                next_run_time=now, **defaults,
            )  # fmt: skip
        if self.service.settings.push_enabled:
            scheduler.add_job(
                self.push_round, "interval", seconds=every, id="websub-push", **defaults
            )
        scheduler.add_job(
            self.housekeeping, "interval", seconds=HOUSEKEEPING_SECONDS, id="housekeeping",
            next_run_time=now + timedelta(seconds=60), **defaults,
        )  # fmt: skip
        self.scheduler = scheduler
        return scheduler

    def start_background(self) -> BackgroundScheduler:
        scheduler = BackgroundScheduler(timezone=UTC, daemon=True)
        self._schedule(scheduler)
        # In the web process, a write is published at once.
        self.publish_loop.start(wake_on_commit=True)
        scheduler.start()
        return scheduler

    def stop_background(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.publish_loop.stop()

    def run_blocking(self) -> None:
        scheduler = self._schedule(BlockingScheduler(timezone=UTC))
        self.publish_loop.start()
        try:
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            if scheduler.running:
                scheduler.shutdown(wait=False)
            self.publish_loop.stop()


def start_in_background(service: Service) -> Jobs:
    """The scheduler and the publisher inside `feeds serve`; stop them with
    `stop_background()` on exit."""
    jobs = Jobs(service)
    jobs.start_background()
    return jobs
