"""What keeps one refresh bounded and its own: a time budget and a renewed lease.

A lease is short (`ingest_lease_seconds`), so a scheduler that dies mid-refresh holds
its source for at most that long; while a refresh works, a heartbeat thread renews it
every quarter of that term, so a long refresh is never taken over. The heartbeat stops
before the refresh's write transaction, which re-asserts the lease as its first write
(store/sources.py `holds`) and so cannot lose it halfway.

The budget (`ingest_budget_seconds`) is wall-clock time from the claim. It is checked
between steps and between entries: one entry's work is bounded by the entry limits
(normalize.py), not interrupted.

What this module does not do: claim the lease or record a failure (ingest.py does).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta
from types import TracebackType

from feeds.errors import BudgetExceeded, FeedsError
from feeds.service.context import Context
from feeds.store import sources as source_store

log = logging.getLogger(__name__)


class LeaseLost(FeedsError):
    """The lease expired and another job took the source over; this job writes nothing."""


class Heartbeat:
    """A held lease, renewed by a thread of its own while the `with` block runs.

    `until` is the lease's current end (what the store holds while the lease is ours);
    `lost` turns true when a renewal finds that another job took the source.
    """

    def __init__(self, ctx: Context, source_id: int, until: datetime, seconds: int) -> None:
        self.ctx = ctx
        self.source_id = source_id
        self.seconds = seconds
        self.lost = False
        self._until = until
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"lease-heartbeat-{source_id}", daemon=True
        )

    @property
    def until(self) -> datetime:
        with self._lock:
            return self._until

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        # Several renewals fit in one term, so one slow or failed renewal does not let
        # the lease lapse under a working refresh.
        interval = self.seconds / 4
        while not self._stop.wait(interval):
            if not self.renew():
                return

    def renew(self) -> bool:
        """Move the lease's end one term past now; False once it is lost."""
        with self._lock:
            until = self.ctx.now() + timedelta(seconds=self.seconds)
            try:
                with self.ctx.store.begin() as conn:
                    kept = source_store.renew(conn, self.source_id, self._until, until)
            except Exception:
                # The database may be back before the lease ends; the write transaction
                # re-checks the lease anyway.
                log.warning("source %s: renewing the lease failed", self.source_id, exc_info=True)
                return True
            if kept:
                self._until = until
            else:
                self.lost = True
                log.warning("source %s: the lease was taken over mid-refresh", self.source_id)
            return kept


class Budget:
    """The wall-clock seconds a refresh may spend before it stores anything."""

    def __init__(self, seconds: float, lease: Heartbeat | None = None) -> None:
        self.seconds = seconds
        self.lease = lease
        self.started = time.monotonic()

    def check(self, where: str) -> None:
        """Raise when the budget is spent or the lease lost; *where* says how far it got."""
        if self.lease is not None and self.lease.lost:
            raise LeaseLost(f"source {self.lease.source_id}: the lease was taken over {where}")
        spent = time.monotonic() - self.started
        if spent > self.seconds:
            raise BudgetExceeded(
                f"the refresh ran out of its {self.seconds:g} s budget {where} "
                f"({spent:.1f} s spent); nothing was stored"
            )
