"""Ingesting one source, top to bottom: claim, fetch, parse, normalise, plan, apply, schedule.

Only the winner of the lease goes on, so two schedulers never fetch one source at once;
a heartbeat keeps the lease while the refresh works, and a time budget ends a refresh
that takes too long with a recorded error (ingest_guard.py). Everything a fetch changes
is written in ONE transaction (articles, feed versions, source state, the lease given
back); a job killed before it commits leaves no trace but its lease, which lapses
within `ingest_lease_seconds`. A failure is recorded in a separate transaction.

What this module does not do: pick which sources are due (sources.py), decide what
an entry becomes (ingest/plan.py, a pure function of the entries and the stored index),
write rows (store/refresh.py applies the plan), or decide how long to wait after an
outcome (ingest/schedule.py).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from feeds.errors import BudgetExceeded, Conflict, FetchError, NotFound, ParseError
from feeds.ingest import schedule
from feeds.ingest.fetch import FetchOptions, FetchResult, probe_lengths
from feeds.ingest.normalize import IngestedItem, NormalizeOptions
from feeds.ingest.pipeline import PreparedDocument, prepare, retrieve
from feeds.ingest.plan import (
    fallback_span,
    plan_refresh,
    settle,
    slug_candidates_of,
    unsized_written,
    with_image_lengths,
)
from feeds.models import EntryCounts, FeedKey, FeedMoves, Source, SourceState
from feeds.refresh_plan import RefreshPlan
from feeds.service import ingest_metrics as metrics
from feeds.service.article_input import LANGUAGE
from feeds.service.articles import feed_moves
from feeds.service.context import Context
from feeds.service.ingest_guard import Budget, Heartbeat, LeaseLost
from feeds.service.source_input import outcome_to_dict
from feeds.store import articles as article_store
from feeds.store import push as push_store
from feeds.store import refresh as refresh_store
from feeds.store import sources as source_store
from feeds.store import tagfeeds as tagfeed_store

log = logging.getLogger(__name__)

# Tests set this to stop a job between its writes and its commit (the crash test).
before_commit: Callable[[], None] | None = None


@dataclass(frozen=True)
class Pushed:
    """A document a WebSub hub delivered for a source (already size-checked)."""

    body: bytes
    content_type: str | None

    def as_result(self, source: Source) -> FetchResult:
        """The delivery as if fetched: the same bytes as last time are `unchanged`."""
        digest = hashlib.sha256(self.body).hexdigest()
        same = digest == source.state.body_hash
        return FetchResult(
            final_url=source.url, status=200, not_modified=False, unchanged=same,
            body=None if same else self.body, content_type=self.content_type,
            content_location=source.url, etag=source.state.etag,
            last_modified=source.state.last_modified, body_hash=digest,
            permanent_redirect=None, elapsed=0.0,
        )  # fmt: skip


@dataclass(frozen=True)
class RefreshOutcome:
    """What one refresh did. `status` is one of fetched, not_modified, unchanged,
    failed, gone (410: the source is now disabled) or busy (someone else holds it).
    `counts` accounts for every entry of the document (carried over when it was not
    fetched again: a 304 or the same bytes)."""

    source_id: int
    status: str
    http_status: int | None = None
    error: str | None = None
    counts: EntryCounts = field(default_factory=EntryCounts)
    next_check_at: datetime | None = None
    # Feeds whose content this refresh changed (for pre-rendering).
    feeds: tuple[FeedKey, ...] = ()
    # Where the document came from after redirects (None when nothing was fetched).
    final_url: str | None = None

    @property
    def new(self) -> int:
        return self.counts.new

    @property
    def updated(self) -> int:
        return self.counts.updated

    @property
    def unchanged(self) -> int:
        return self.counts.unchanged

    def to_dict(self) -> dict[str, Any]:
        return outcome_to_dict(self)


class Ingester:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        settings = ctx.settings
        self.fetch_options = FetchOptions.from_settings(settings)
        self.normalize_options = NormalizeOptions.from_settings(settings)
        self.schedule_options = schedule.ScheduleOptions.from_settings(settings)

    def refresh(
        self, source_id: int, pushed: Pushed | None = None, *, manual: bool = False
    ) -> RefreshOutcome:
        """Fetch and ingest one source; with `pushed`, ingest a document a WebSub hub
        delivered instead of fetching (same lease, parse, bounds, plan and transaction).

        `manual`: someone asked for this fetch (admin, API, CLI). Its failure does not
        lengthen a failing source's backoff: trying again by hand must not push the
        scheduler's next attempt further away.
        """
        started = time.monotonic()
        outcome = self._refresh(source_id, pushed, manual)
        metrics.FETCHES.labels(outcome.status).inc()
        metrics.ITEMS.labels("new").inc(outcome.new)
        metrics.ITEMS.labels("updated").inc(outcome.updated)
        if outcome.status == "fetched":  # otherwise the counts are the last fetch's
            for reason in metrics.SKIP_REASONS:
                metrics.SKIPPED.labels(reason).inc(getattr(outcome.counts, reason))
        if outcome.status != "busy":
            metrics.FETCH_SECONDS.observe(time.monotonic() - started)
        return outcome

    def _refresh(self, source_id: int, pushed: Pushed | None, manual: bool) -> RefreshOutcome:
        source, claimed = self._claim(source_id)
        if claimed is None:
            return RefreshOutcome(source_id, "busy", error="another job is fetching this source")
        settings = self.ctx.settings
        heartbeat = Heartbeat(self.ctx, source_id, claimed, settings.ingest_lease_seconds)
        budget = Budget(settings.ingest_budget_seconds, heartbeat)
        try:
            with heartbeat:
                if pushed is None:
                    result = retrieve(source, self.fetch_options, Path(settings.config_dir))
                else:
                    result = pushed.as_result(source)
                budget.check("after the fetch")
                document = prepare(
                    result, source, self.ctx.now(), self.normalize_options, budget.check
                )
                if document.parser:
                    metrics.DOCUMENTS.labels(document.parser).inc()
                document = self._size_images(source, document)
                budget.check("before storing")
            outcome = self._store(source, heartbeat.until, result, document)
            self._discovered(source, document)
            return outcome
        except (FetchError, ParseError, BudgetExceeded) as exc:
            return self._record_failure(source, heartbeat.until, exc, manual)
        except (LeaseLost, Conflict) as exc:
            lease = heartbeat.until
            with self.ctx.store.begin() as conn:
                still_ours = source_store.holds(conn, source_id, lease)
            if isinstance(exc, Conflict) and still_ours:
                # Not a lost race but a conflict this document causes every time:
                # record it, so it shows and backs off instead of recurring silently.
                log.warning("source %s: %s", source_id, exc)
                return self._record_failure(source, lease, exc, manual)
            # Our lease ran out and another job stored this source (the unique
            # constraint stopped a duplicate, or the lease check did): nothing to add.
            with self.ctx.store.begin() as conn:
                source_store.release(conn, source_id, lease)
            return RefreshOutcome(source_id, "busy", error="the lease was lost mid-job")
        except Exception as exc:
            log.exception("ingesting source %s failed", source_id)
            return self._record_failure(source, heartbeat.until, exc, manual)

    def _discovered(self, source: Source, document: PreparedDocument) -> None:
        """Remember the hub an http(s) source's document names (the push service
        subscribes); a file source is never pushed to."""
        if document.hubs is None or document.topic is None or source.url.startswith("file:"):
            return
        assert source.id is not None
        fresh = {"token": secrets.token_urlsafe(24), "secret": secrets.token_urlsafe(32)}
        with self.ctx.store.begin() as conn:
            push_store.discover(conn, source.id, document.hubs, document.topic, fresh)

    def _claim(self, source_id: int) -> tuple[Source, datetime | None]:
        now = self.ctx.now()
        until = now + timedelta(seconds=self.ctx.settings.ingest_lease_seconds)
        with self.ctx.store.begin() as conn:
            source = source_store.get(conn, source_id)
            if source is None:
                raise NotFound(f"no source {source_id}")
            won = source_store.claim(conn, source_id, now, until)
        return source, until if won else None

    def _plan(
        self, conn: Connection, source: Source, document: PreparedDocument, now: datetime
    ) -> RefreshPlan:
        """Read the stored index for the document's entries and plan every entry, with
        the slugs stored articles leave free."""
        assert source.id is not None
        settings = self.ctx.settings
        language = settings.language
        declared = document.language
        if declared and len(declared) <= 35 and LANGUAGE.fullmatch(declared):
            language = declared
        entries = document.entries
        hashes = {e.origin_id: e.content_hash for e in entries if isinstance(e, IngestedItem)}
        span = fallback_span(entries)
        taken = source_store.shown_seconds(conn, *span) if span else set()
        plan = plan_refresh(
            source, entries, source_store.stored_entries(conn, source.id, hashes),
            now=now, language=language, guid_authority=settings.guid_authority,
            document_warnings=document.warnings, taken=taken, root=settings.public_root,
        )  # fmt: skip
        # Asked about the first candidates only, the store almost always finds them all
        # free: the others (the statement's parameters tripled) are asked about only
        # when one is taken, or two new articles want the same.
        first = [insert.slugs[0] for insert in plan.inserts]
        slugs = article_store.slugs_taken(conn, first)
        if slugs or len(set(first)) < len(first):
            slugs = article_store.slugs_taken(conn, slug_candidates_of(plan))
        return settle(plan, slugs, settings.public_root)

    def _size_images(self, source: Source, document: PreparedDocument) -> PreparedDocument:
        """Learn the size of the images the refresh will write without one (RSS carries
        an image as an enclosure only with its length). What a plan on the index as it is
        now would write says which images those are (plan.unsized_written, which makes no
        plan); the plan that is applied is made in the storing transaction."""
        limit = self.ctx.settings.fetch_image_probes
        if limit == 0 or not any(
            isinstance(e, IngestedItem) and e.image and e.image.length is None
            for e in document.entries
        ):
            return document
        assert source.id is not None
        entries = document.entries
        hashes = {e.origin_id: e.content_hash for e in entries if isinstance(e, IngestedItem)}
        with self.ctx.store.read() as conn:
            stored = source_store.stored_entries(conn, source.id, hashes)
        unsized = unsized_written(source, entries, stored, self.ctx.now())
        lengths = probe_lengths(unsized[:limit], self.fetch_options)
        return replace(document, entries=with_image_lengths(document.entries, lengths))

    def _store(
        self, source: Source, lease: datetime, result: FetchResult, document: PreparedDocument
    ) -> RefreshOutcome:
        """Read the stored index, plan, and apply the plan: one transaction."""
        assert source.id is not None
        now = self.ctx.now()
        settings = self.ctx.settings
        with self.ctx.store.begin() as conn:
            if not source_store.holds(conn, source.id, lease):
                raise LeaseLost(f"source {source.id}")
            plan = self._plan(conn, source, document, now)
            tag_feeds = tagfeed_store.all_feeds(conn)
            moves = FeedMoves.combined(
                [feed_moves(None, i.article, now, tag_feeds, settings) for i in plan.inserts]
                + [feed_moves(u.old, u.new, now, tag_feeds, settings) for u in plan.updates]
            )
            counts = plan.counts()
            if result.not_modified or result.unchanged:
                counts = carried_over(source.state.items)
            state, url = self._success_state(conn, source, result, now, counts)
            refresh_store.apply_refresh(conn, source.id, plan, moves, state, now=now, url=url)
            if before_commit is not None:
                before_commit()
        status = "not_modified" if result.not_modified else "fetched"
        status = "unchanged" if result.unchanged and not result.not_modified else status
        return RefreshOutcome(
            source.id, status, result.status, None, counts, state.next_check_at,
            tuple(sorted(moves.changed, key=lambda k: k.storage_key)), result.final_url,
        )  # fmt: skip

    def _success_state(
        self,
        conn: Connection,
        source: Source,
        result: FetchResult,
        now: datetime,
        counts: EntryCounts,
    ) -> tuple[SourceState, str | None]:
        """The state after a success, and the new URL once a permanent redirect is confirmed."""
        target, seen, url = result.permanent_redirect, 0, None
        if target is not None:
            seen = source.state.redirect_seen + 1 if source.state.redirect_target == target else 1
            if seen >= self.ctx.settings.permanent_redirect_confirmations:
                holder = source_store.get_by_url(conn, target)
                if holder is None:
                    url, target, seen = target, None, 0
        state = replace(
            source.state,
            etag=result.etag, last_modified=result.last_modified, body_hash=result.body_hash,
            last_fetch_at=now, last_success_at=now, last_status=result.status, last_error=None,
            failures=0, next_check_at=schedule.after_success(source, now),
            items=counts, redirect_target=target, redirect_seen=seen,
        )  # fmt: skip
        return state, url

    def _record_failure(
        self, source: Source, lease: datetime, exc: Exception, manual: bool = False
    ) -> RefreshOutcome:
        assert source.id is not None
        now = self.ctx.now()
        # A failing source tried again by hand keeps its count and its next attempt.
        keep_backoff = manual and source.state.failures > 0
        failures = schedule.failures_after(source.state.failures, ok=False)
        if keep_backoff:
            failures = source.state.failures
        status = getattr(exc, "status", None)
        kind = getattr(exc, "kind", None)
        error = " ".join(str(exc).split())[:500] or type(exc).__name__
        if not isinstance(exc, FetchError | ParseError | BudgetExceeded):
            error = f"internal error: {error}"
        gone = kind == "gone"
        next_check: datetime | None = None
        if gone:
            error += "; the source is now disabled (enable it again once the feed is back)"
        elif keep_backoff and source.state.next_check_at is not None:
            next_check = source.state.next_check_at
        else:
            next_check = schedule.next_check(
                source, now, ok=False, failures=failures,
                retry_after=getattr(exc, "retry_after", None), options=self.schedule_options,
            )  # fmt: skip
        # `items` keeps the counts of the last fetch that got a document: a failure
        # fetched nothing, and showing 0 would read as an empty feed.
        state = replace(
            source.state, last_fetch_at=now, last_status=status, last_error=error,
            failures=failures, next_check_at=next_check,
            redirect_target=None, redirect_seen=0,
        )  # fmt: skip
        with self.ctx.store.begin() as conn:
            if source_store.holds(conn, source.id, lease):
                source_store.save_state(conn, source.id, state, enabled=False if gone else None)
        return RefreshOutcome(
            source.id, "gone" if gone else "failed", status, error, next_check_at=next_check
        )


def carried_over(last: EntryCounts) -> EntryCounts:
    """The counts of a document not fetched again (304, same bytes): what was written
    last time is unchanged now, and what was skipped is skipped again."""
    return replace(last, new=0, updated=0, unchanged=last.new + last.updated + last.unchanged)
