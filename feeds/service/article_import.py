"""`feeds import`: NDJSON records into articles, all or nothing, again and again.

A record with a canonical `url` is matched to the newsroom's article with that URL
(ingested articles never match), so running the same file twice updates the articles
it made instead of adding them again. A record without `url` is always a new article.
A record that leaves `status` out keeps the stored article's status, so a re-import
does not bring a withdrawn story back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from sqlalchemy import Connection

from feeds.errors import Conflict, ValidationError
from feeds.models import Article
from feeds.service.article_input import ArticleDraft
from feeds.service.context import Context
from feeds.store import articles as article_store
from feeds.store import versions as version_store


class ArticleWriter(Protocol):
    def parse(self, payload: Any) -> ArticleDraft: ...

    # Each writes in the unit of work open around it: the import's one transaction.
    def insert_draft(self, draft: ArticleDraft) -> Article: ...

    def revise(self, old: Article, draft: ArticleDraft) -> Article: ...


@dataclass(frozen=True)
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # True when nothing was written: every record was checked and the work rolled back.
    dry_run: bool = False

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged

    def to_dict(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "dry_run": self.dry_run,
        }


class _RollBack(Exception):
    """Ends a dry run: leaving the transaction by an exception undoes everything."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report


def import_records(
    writer: ArticleWriter,
    ctx: Context,
    lines: Iterable[str],
    *,
    dry_run: bool = False,
) -> ImportReport:
    """Apply every line in one transaction; the first bad record names its line and
    leaves the store as it was. `dry_run` does all the work, then rolls it back."""
    started = ctx.now()
    try:
        with ctx.unit_of_work() as conn:
            report = _apply(writer, conn, lines)
            # Each article's feeds were stamped as it was written; a file takes longer
            # than the publisher's margin, so what it moved is dated at its commit.
            version_store.restamp(conn, started, ctx.now())
            if dry_run:
                raise _RollBack(replace(report, dry_run=True))
    except _RollBack as done:
        return done.report
    return report


def _apply(writer: ArticleWriter, conn: Connection, lines: Iterable[str]) -> ImportReport:
    created = updated = unchanged = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            payload = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValidationError({"json": exc.msg}, line=number) from None
        try:
            draft = writer.parse(payload)
            old = _match(conn, draft)
            if old is None:
                writer.insert_draft(draft)
                created += 1
                continue
            if "status" not in payload:
                draft = replace(draft, status=old.status)
            if writer.revise(old, draft) is old:
                unchanged += 1
            else:
                updated += 1
        except ValidationError as exc:
            raise ValidationError(exc.errors, line=number) from None
        except Conflict as exc:
            field = getattr(exc, "field", "record")
            raise ValidationError({field: str(exc)}, line=number) from None
    return ImportReport(created, updated, unchanged)


def _match(conn: Connection, draft: ArticleDraft) -> Article | None:
    if draft.url is None:
        return None
    ids = article_store.newsroom_ids_with_url(conn, draft.url)
    if len(ids) > 1:
        raise ValidationError(
            {"url": f"articles {ids[0]} and {ids[1]} both have this URL; it cannot say which"}
        )
    return article_store.get_by(conn, id=ids[0]) if ids else None
