"""A source's health at a glance, for the admin dashboard and the source pages.

Derived from the stored fetch state alone, so it reads the same in every process (the
scheduler usually runs in another one). What this module does not do: fetch anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from feeds.models import EntryCounts, Source
from feeds.store.audit import AuditEntry


@dataclass(frozen=True)
class SourceHealth:
    """`status` is ok, failing, disabled or new (enabled, never fetched yet).

    A failing source is retried later and later (see ingest/schedule.py):
    `backoff_until` is that next attempt while it lies in the future.
    """

    status: str
    label: str
    error: str | None = None
    backoff_until: datetime | None = None
    last_success_at: datetime | None = None
    last_fetch_at: datetime | None = None
    counts: EntryCounts = field(default_factory=EntryCounts)

    @property
    def items(self) -> int:
        return self.counts.entries

    @property
    def fates(self) -> str:
        return entry_fates(self.counts)


# How each skipped fate reads after its count ("3 duplicates in the document").
_SKIPPED = (
    ("duplicates", "duplicates in the document"),
    ("too_old", "older than the retention"),
    ("over_limit", "beyond max_items"),
    ("refused", "refused"),
)


def entry_summary(counts: EntryCounts) -> str:
    """One line accounting for every entry: "12 entries: 3 new, 1 updated, 8 unchanged",
    followed by each kind of skipped entry there was."""
    noun = "entry" if counts.entries == 1 else "entries"
    return f"{counts.entries} {noun}: {entry_fates(counts)}"


def entry_fates(counts: EntryCounts) -> str:
    """ "3 new, 1 updated, 8 unchanged", then each kind of skipped entry there was."""
    parts = [f"{counts.new} new", f"{counts.updated} updated", f"{counts.unchanged} unchanged"]
    for name, label in _SKIPPED:
        if getattr(counts, name):
            parts.append(f"{getattr(counts, name)} {label}")
    return ", ".join(parts)


@dataclass(frozen=True)
class SourceError:
    at: datetime | None
    where: str
    message: str


def last_errors(source: Source, history: Sequence[AuditEntry]) -> list[SourceError]:
    """The latest fetch's error, then the errors of earlier refreshes, newest first.

    The store keeps only the latest error of a scheduled fetch; refreshes asked for in
    the admin UI or the API are audited with their outcome, so theirs are kept longer.
    """
    state = source.state
    found = []
    if state.last_error:
        found.append(SourceError(state.last_fetch_at, "latest fetch", state.last_error))
    for entry in history:
        error = entry.after.get("error") if isinstance(entry.after, dict) else None
        if entry.action != "refresh" or not isinstance(error, str) or not error:
            continue
        if entry is history[0] and error == state.last_error:
            continue  # the latest fetch was this very refresh: shown once already
        found.append(SourceError(entry.at, f"refresh by {entry.actor}", error))
    return found


def health(source: Source, now: datetime) -> SourceHealth:
    state = source.state
    if not source.enabled:
        status, label = "disabled", "disabled"
    elif state.failures:
        status, label = "failing", f"failing ({state.failures})"
    elif state.last_fetch_at is None:
        status, label = "new", "not fetched yet"
    else:
        status, label = "ok", "ok"
    backoff = state.next_check_at if state.failures and source.enabled else None
    return SourceHealth(
        status=status,
        label=label,
        # A disabled source keeps its last error: a 410 disables it, and that is why.
        error=state.last_error if state.failures or not source.enabled else None,
        backoff_until=backoff if backoff is not None and backoff > now else None,
        last_success_at=state.last_success_at,
        last_fetch_at=state.last_fetch_at,
        counts=state.items,
    )
