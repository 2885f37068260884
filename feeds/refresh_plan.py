"""The plan of one refresh of a source: what it inserts, updates and skips, and why.

The ingest decider (feeds/ingest/plan.py) makes it from the document's entries and the
stored index without touching the store; the store applies it in one transaction
(feeds/store/refresh.py). Every entry of the document has exactly one fate here, so the
counts of a plan always add up to the entries of its document.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from feeds.models import Article, EntryCounts

# Refusals and warnings kept for people to read; the counts say how many there were.
MAX_NOTES = 20


class SkipReason(StrEnum):
    DUPLICATE = "duplicate"  # the same identity came earlier in the document
    OVER_LIMIT = "over_max_items"  # beyond the source's newest `max_items`
    TOO_OLD = "too_old"  # older than the source's retention and not stored
    REFUSED = "refused"  # could not be made into an article


@dataclass(frozen=True)
class StoredEntry:
    """What the store holds for one entry of a source (one row of the stored index).

    `article` is loaded only when the entry's new content hash differs from the stored
    one, that is when the plan may need it to build an update.
    """

    article_id: int
    content_hash: str | None
    article: Article | None = None


@dataclass(frozen=True)
class Skipped:
    """An entry left out, named so an admin can find it in the document."""

    entry: str
    reason: SkipReason
    detail: str


@dataclass(frozen=True)
class Insert:
    """A new article. Its slug is the first of `slugs` found free when the plan is
    settled in the writing transaction (feeds/ingest/plan.py `settle`)."""

    article: Article
    slugs: tuple[str, ...]
    content_hash: str


@dataclass(frozen=True)
class Update:
    """A stored article (`old`, with its id) replaced by `new`."""

    old: Article
    new: Article
    content_hash: str


@dataclass(frozen=True)
class RefreshPlan:
    entries: int = 0
    inserts: tuple[Insert, ...] = ()
    updates: tuple[Update, ...] = ()
    unchanged: int = 0
    skipped: tuple[Skipped, ...] = ()
    # Notes about the document and the entries kept, e.g. what was cut from them.
    warnings: tuple[str, ...] = ()

    def count(self, reason: SkipReason) -> int:
        return sum(1 for skip in self.skipped if skip.reason is reason)

    def counts(self) -> EntryCounts:
        refusals = [s for s in self.skipped if s.reason is SkipReason.REFUSED]
        warnings = list(self.warnings[:MAX_NOTES])
        if len(self.warnings) > MAX_NOTES:
            warnings.append(f"... and {len(self.warnings) - MAX_NOTES} more warnings")
        return EntryCounts(
            new=len(self.inserts),
            updated=len(self.updates),
            unchanged=self.unchanged,
            duplicates=self.count(SkipReason.DUPLICATE),
            too_old=self.count(SkipReason.TOO_OLD),
            over_limit=self.count(SkipReason.OVER_LIMIT),
            refused=len(refusals),
            refusals=tuple((s.entry, s.detail) for s in refusals[:MAX_NOTES]),
            warnings=tuple(warnings),
        )
