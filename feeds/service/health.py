"""What serving needs, checked cheaply for /healthz, /metrics and the admin dashboard.

Each check has a terse public state ("ok", "failing", "late", ...) and a detail for the
log and the admin, which may name files, hosts or ports; the public body never does.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from feeds.errors import FeedsError
from feeds.service.context import Context
from feeds.service.setup import Setup
from feeds.store import sources as source_store
from feeds.store.db import head_revision

log = logging.getLogger(__name__)

# Slack before a due source or a publisher heartbeat counts as late: ticks and rounds
# take time, and a busy scheduler is not a dead one.
MIN_GRACE_SECONDS = 300
PASSING = ("ok", "waiting", "none")


@dataclass(frozen=True)
class Check:
    name: str
    state: str  # "ok", "waiting" and "none" pass; anything else fails
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.state in PASSING


@dataclass(frozen=True)
class HealthReport:
    checks: tuple[Check, ...]
    # Problems that do not stop serving (an invalid config file while the last good
    # configuration is in force): reported, never a 503.
    warnings: tuple[Check, ...] = ()

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def public(self) -> dict[str, Any]:
        """The body anyone may read: states only, no detail."""
        return {
            "status": "ok" if self.ok else "degraded",
            "checks": {c.name: c.state for c in self.checks + self.warnings},
        }

    def details(self) -> list[Check]:
        return [c for c in self.checks + self.warnings if c.detail]


class HealthService:
    def __init__(
        self, ctx: Context, setup: Setup, publisher: Callable[[], Any] = lambda: None
    ) -> None:
        self.ctx = ctx
        self.setup = setup
        # Gives the publisher, once the service has one: anything whose status() has
        # beat_at and error.
        self.publisher = publisher
        self.started_at = ctx.now()
        self._last_logged: tuple[tuple[str, str], ...] = ()
        self._log_lock = threading.Lock()

    def check(self) -> HealthReport:
        store = self._store()
        checks = [store]
        if store.ok:
            checks.append(self._scheduler())
        checks.append(self._publisher())
        config = self.setup.config_status()
        warnings = (
            ()
            if config.ok
            else (Check("config", "invalid", "; ".join(str(p) for p in config.problems)),)
        )
        report = HealthReport(tuple(checks), warnings)
        if not warnings:
            report = HealthReport(report.checks, (Check("config", "ok"),))
        self._log_change(report)
        return report

    def _store(self) -> Check:
        store = self.ctx.store
        problem = store.file_problem()
        if problem:
            return Check("store", "failing", problem)
        try:
            current = store.revision()
        except FeedsError as exc:
            return Check("store", "failing", str(exc))
        head = head_revision()
        if current is None:
            return Check("store", "unmigrated", "the store has no schema: run `feeds init`")
        if current != head:
            detail = f"the store is at revision {current}, this code needs {head}: run `feeds init`"
            return Check("store", "unmigrated", detail)
        return Check("store", "ok")

    def _scheduler(self) -> Check:
        settings = self.ctx.settings
        grace = max(MIN_GRACE_SECONDS, 3 * settings.scheduler_tick_seconds)
        grace += int(settings.fetch_timeout)
        now = self.ctx.now()
        try:
            with self.ctx.store.read() as conn:
                oldest = source_store.oldest_due(conn, now)
        except FeedsError as exc:
            return Check("scheduler", "failing", str(exc))
        if oldest is None:
            return Check("scheduler", "none", "no source waits for a fetch")
        waited = now - oldest
        if waited > timedelta(seconds=grace):
            detail = (
                f"a source has been due since {oldest:%Y-%m-%d %H:%M:%S} UTC "
                f"({int(waited.total_seconds())} s): is `feeds scheduler` running?"
            )
            return Check("scheduler", "late", detail)
        return Check("scheduler", "ok")

    def _publisher(self) -> Check:
        status = getattr(self.publisher(), "status", None)
        if not callable(status):
            return Check("publisher", "none")
        interval = getattr(self.ctx.settings, "publish_interval_seconds", 60)
        grace = timedelta(seconds=max(MIN_GRACE_SECONDS, 3 * int(interval)))
        now = self.ctx.now()
        try:
            beat = status()
        except (FeedsError, OSError) as exc:
            return Check("publisher", "failing", str(exc))
        beat_at = getattr(beat, "beat_at", None)
        error = getattr(beat, "error", None)
        if not isinstance(beat_at, datetime):
            if now - self.started_at > grace:
                return Check("publisher", "late", "no publisher has written a heartbeat")
            return Check("publisher", "waiting", "no heartbeat yet")
        if now - beat_at > grace:
            detail = f"the last publish round ended at {beat_at:%Y-%m-%d %H:%M:%S} UTC"
            return Check("publisher", "late", detail)
        if error:
            return Check("publisher", "failing", f"the last publish round failed: {error}")
        return Check("publisher", "ok")

    def _log_change(self, report: HealthReport) -> None:
        """Log when the state changes, not on every probe: load balancers poll often."""
        signature = tuple((c.name, c.state) for c in report.checks + report.warnings)
        with self._log_lock:
            if signature == self._last_logged:
                return
            first = not self._last_logged
            self._last_logged = signature
        if report.ok and first:
            return
        if report.ok:
            log.info("health: ok again")
            return
        for check in report.details():
            if not check.ok or check in report.warnings:
                log.warning("health: %s %s: %s", check.name, check.state, check.detail)
