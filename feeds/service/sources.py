"""Outside sources: CRUD, refresh now, the due list, retention pruning, the audit trail.

Sources declared in config/sources.toml carry `managed_by` (the file's path) and are
read-only here: the file is their truth (see sources_config.py). Validation and the
dict shape live in source_input.py.

Every change method takes an optional `actor` ("user:alice", "token:newsroom"): given
one, an audit entry (who, when, before, after) is written in the change's own
transaction. The admin UI and the API always pass one; the config-file apply does not,
its history being in version control.
"""

from __future__ import annotations

import builtins
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection

from feeds.errors import Conflict, NotFound, ValidationError
from feeds.models import Source, SourceState
from feeds.service.articles import MAX_ID, record_change
from feeds.service.audit import note
from feeds.service.context import Context
from feeds.service.ingest import Ingester, RefreshOutcome
from feeds.service.source_health import SourceError, last_errors
from feeds.service.source_input import (
    FILING,
    READ_ONLY,
    ManagedByFile,
    audit_view,
    check_url,
    parse_source,
    source_to_dict,
)
from feeds.service.source_probe import Probe
from feeds.service.source_probe import probe as probe_url
from feeds.store import articles as article_store
from feeds.store import audit as audit_store
from feeds.store import push as push_store
from feeds.store import sections as section_store
from feeds.store import sources as source_store
from feeds.store.audit import AuditEntry

# Re-exported: callers imported these from here before source_input.py existed.
__all__ = [
    "FILING", "READ_ONLY", "ManagedByFile", "SourceService", "check_url",
    "host_of", "parse_source", "source_to_dict",
]  # fmt: skip
TARGET = "source"
# How far back the audit log is searched for a source's refresh history.
HISTORY_SCAN = 500


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or url).lower()


class SourceService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.ingester = Ingester(ctx)

    def list(self) -> list[Source]:
        with self.ctx.store.read() as conn:
            return source_store.all_sources(conn)

    def get(self, source_id: int) -> Source:
        with self.ctx.read() as conn:
            return self._stored(conn, source_id)

    def _stored(self, conn: Connection, source_id: int) -> Source:
        """The stored source; NotFound also for an id no row can have."""
        found = source_store.get(conn, source_id) if 0 < source_id <= MAX_ID else None
        if found is None:
            raise NotFound(f"no source {source_id}")
        return found

    def add(self, payload: Any, *, actor: str | None = None) -> Source:
        source = parse_source(payload)
        with self.ctx.unit_of_work():
            stored = self.insert(source)
            self._audit(actor, "create", stored, after=audit_view(stored))
        return stored

    def insert(self, source: Source) -> Source:
        """Store a validated source (in the caller's unit of work if one is open); it is
        due at once."""
        with self.ctx.unit_of_work() as conn:
            if section_store.get(conn, source.section) is None:
                raise ValidationError({"section": f"unknown section {source.section!r}"})
            if source_store.get_by_url(conn, source.url) is not None:
                raise Conflict(f"a source with URL {source.url!r} exists")
            source_id = source_store.insert_source(conn, replace(source, state=SourceState()))
            stored = source_store.get(conn, source_id)
        assert stored is not None
        return stored

    def update(
        self, source_id: int, payload: Any, *, partial: bool = False, actor: str | None = None
    ) -> Source:
        """Replace (PUT) or change (PATCH, `partial`) a source's configuration."""
        with self.ctx.unit_of_work() as conn:
            current = self._editable(conn, source_id)
            if partial:
                if not isinstance(payload, dict):
                    raise ValidationError({"body": "must be an object"})
                merged = source_to_dict(current)
                for name in READ_ONLY:
                    merged.pop(name)
                payload = merged | payload
            stored = self.write_config(current, parse_source(payload))
            before, after = audit_view(current), audit_view(stored)
            if before != after:
                self._audit(actor, "update", stored, before=before, after=after)
            return stored

    def write_config(self, current: Source, wanted: Source) -> Source:
        """Give the stored `current` the configuration of `wanted` (in the caller's unit
        of work if one is open)."""
        assert current.id is not None
        with self.ctx.unit_of_work() as conn:
            if section_store.get(conn, wanted.section) is None:
                raise ValidationError({"section": f"unknown section {wanted.section!r}"})
            holder = source_store.get_by_url(conn, wanted.url)
            if holder is not None and holder.id != current.id:
                raise Conflict(f"a source with URL {wanted.url!r} exists")
            refile = any(getattr(wanted, n, None) != getattr(current, n, None) for n in FILING)
            refile = refile or wanted.categories != current.categories
            source_store.update_config(conn, current.id, wanted, reset_validators=refile)
            if wanted.enabled and not current.enabled:
                source_store.set_enabled(conn, current.id, True, self.ctx.now())
            stored = source_store.get(conn, current.id)
        assert stored is not None
        return stored

    def enable(self, source_id: int, *, actor: str | None = None) -> Source:
        return self._set_enabled(source_id, True, actor)

    def disable(self, source_id: int, *, actor: str | None = None) -> Source:
        return self._set_enabled(source_id, False, actor)

    def _set_enabled(self, source_id: int, enabled: bool, actor: str | None) -> Source:
        with self.ctx.unit_of_work() as conn:
            current = self._editable(conn, source_id)
            source_store.set_enabled(conn, source_id, enabled, self.ctx.now())
            changed = replace(current, enabled=enabled)
            if current.enabled != enabled:
                action = "enable" if enabled else "disable"
                before, after = audit_view(current), audit_view(changed)
                self._audit(actor, action, current, before=before, after=after)
            return changed

    def article_count(self, source_id: int) -> int:
        """How many articles came from the source (removing it removes them)."""
        with self.ctx.store.read() as conn:
            return source_store.count_articles(conn, source_id)

    def remove(self, source_id: int, *, actor: str | None = None) -> int:
        """Delete a source and its ingested articles (each leaves its feeds); returns how
        many articles went with it."""
        with self.ctx.unit_of_work() as conn:
            current = self._editable(conn, source_id)
            removed = self.delete(current)
            self._audit(actor, "delete", current, before=audit_view(current))
        return removed

    def delete(self, source: Source) -> int:
        """Delete a source and its articles (in the caller's unit of work if one is open),
        file-managed or not; returns how many articles went with it."""
        assert source.id is not None
        with self.ctx.unit_of_work() as conn:
            ids = source_store.article_ids(conn, source.id)
            for article_id in ids:
                self._drop_article(conn, article_id)
            source_store.delete_source(conn, source.id)
        return len(ids)

    def _audit(
        self,
        actor: str | None,
        action: str,
        source: Source,
        *,
        before: Any = None,
        after: Any = None,
    ) -> None:
        note(self.ctx, actor, action, (TARGET, str(source.id)), before=before, after=after)

    def last_errors(self, source: Source) -> builtins.list[SourceError]:
        assert source.id is not None
        return last_errors(source, self.history(source.id))

    def history(self, source_id: int, limit: int = 10) -> builtins.list[AuditEntry]:
        """The latest audit entries about one source, newest first (refreshes included).

        Scans the last HISTORY_SCAN source entries: the store filters by kind, not id,
        and an admin page wants the recent past, not all of it.
        """
        with self.ctx.store.read() as conn:
            found = audit_store.entries(conn, limit=HISTORY_SCAN, target_kind=TARGET)
        return [e for e in found if e.target_id == str(source_id)][:limit]

    def _editable(self, conn: Connection, source_id: int) -> Source:
        current = self._stored(conn, source_id)
        if current.managed_by is not None:
            raise ManagedByFile(current)
        return current

    def _drop_article(self, conn: Connection, article_id: int) -> bool:
        old = article_store.get_by(conn, id=article_id)
        if old is None or not source_store.delete_article(conn, article_id):
            return False  # another job removed it first
        record_change(self.ctx, old, None)
        return True

    # -- fetching -----------------------------------------------------------------------

    def refresh(self, source_id: int, *, actor: str | None = None) -> RefreshOutcome:
        """Fetch one source now, whatever its schedule (unless another job holds it).

        With an `actor`, the outcome is logged just after the fetch commits: the fetch
        runs its own transactions under a lease, so a crash in between loses one log
        line, never the fetch.
        """
        source = self.get(source_id)
        outcome = self.ingester.refresh(source_id, manual=True)
        if actor is not None:
            with self.ctx.unit_of_work():
                self._audit(actor, "refresh", source, after=outcome.to_dict())
        return outcome

    def probe(self, url: str) -> Probe:
        """What `url` is, fetched now under the fetch rules: a feed, or a page naming
        feeds (autodiscovery), or why neither. Nothing is stored."""
        return probe_url(url.strip(), self.ingester.fetch_options)

    def due(self) -> builtins.list[Source]:
        """Sources due a fetch, at most `ingest_per_host` per host counting running jobs."""
        now = self.ctx.now()
        with self.ctx.store.read() as conn:
            candidates = source_store.due(conn, now)
            running = Counter(host_of(url) for url in source_store.leased_urls(conn, now))
            pushed = push_store.live_ids(conn, now)
        # A source its hub pushes to is polled only as a safety net.
        safety_net = timedelta(seconds=self.ctx.settings.push_poll_seconds)
        candidates = [
            s
            for s in candidates
            if s.id not in pushed
            or s.state.last_success_at is None
            or s.state.last_success_at + safety_net <= now
        ]
        picked = []
        for source in candidates:
            host = host_of(source.url)
            if running[host] < self.ctx.settings.ingest_per_host:
                running[host] += 1
                picked.append(source)
        return picked

    def ingest_due(self) -> builtins.list[RefreshOutcome]:
        """Refresh every due source, `ingest_concurrency` at a time."""
        due = [source.id for source in self.due() if source.id is not None]
        if not due:
            return []
        workers = min(self.ctx.settings.ingest_concurrency, len(due))
        with ThreadPoolExecutor(workers, thread_name_prefix="ingest") as pool:
            return list(pool.map(self.ingester.refresh, due))

    def prune(self) -> int:
        """Delete ingested articles past their source's retention; returns how many."""
        now = self.ctx.now()
        removed = 0
        for source in self.list():
            assert source.id is not None
            cutoff = now - timedelta(days=source.retention_days)
            with self.ctx.unit_of_work() as conn:
                # The source's lease keeps pruning and ingesting apart: an article must
                # not vanish between an ingest job's read of it and its update.
                lease = now + timedelta(minutes=5)
                if not source_store.claim(conn, source.id, now, lease):
                    continue  # being fetched now; the next round prunes it
                for old in article_store.ingested_before(conn, source.id, cutoff):
                    assert old.id is not None
                    removed += self._drop_article(conn, old.id)
                source_store.release(conn, source.id, lease)
        return removed
