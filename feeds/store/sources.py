"""The sources table: configuration, fetch state, the lease; and a source's ingested rows.

The lease is the only thing that stops two schedulers fetching one source at once: a
claim is a single conditional UPDATE, so exactly one of two racing claimers changes the
row. The (source_id, origin_id) unique constraint on articles is the second line of
defence should a job outlive its lease.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, delete, func, insert, or_, select, update

from feeds.models import (
    ENTRY_FATES,
    CategoryMode,
    CategoryRule,
    EntryCounts,
    Hashtag,
    Source,
    SourceState,
    Status,
)
from feeds.refresh_plan import StoredEntry
from feeds.store import articles as article_store
from feeds.store.schema import articles, sources

# Bound parameters per IN list: SQLite caps them per statement.
CHUNK = 500
_STATE_FIELDS = (
    "etag", "last_modified", "body_hash", "last_fetch_at", "last_success_at", "last_status",
    "last_error", "failures", "next_check_at", "redirect_target", "redirect_seen",
)  # fmt: skip


def _counts(row: Row[Any]) -> EntryCounts:
    return EntryCounts(
        **{name: getattr(row, f"items_{name}") for name in ENTRY_FATES},
        refusals=tuple((str(p[0]), str(p[1])) for p in row.items_refusals if len(p) == 2),
        warnings=tuple(str(warning) for warning in row.items_warnings),
    )


def _from_row(row: Row[Any]) -> Source:
    return Source(
        id=row.id,
        url=row.url,
        name=row.name,
        section=row.section,
        hashtags=tuple(Hashtag(key=k, display=d) for k, d in row.hashtags),
        categories=CategoryRule(
            mode=CategoryMode(row.category_mode),
            mapping=tuple((outside, ours) for outside, ours in row.category_map),
        ),
        interval_seconds=row.interval_seconds,
        enabled=row.enabled,
        retention_days=row.retention_days,
        max_items=row.max_items,
        managed_by=row.managed_by,
        state=SourceState(
            **{name: getattr(row, name) for name in _STATE_FIELDS}, items=_counts(row)
        ),
    )


def _config_values(source: Source) -> dict[str, Any]:
    return {
        "url": source.url,
        "name": source.name,
        "section": source.section,
        # [key, display] pairs: the display form alone would need re-normalising on read.
        "hashtags": [[tag.key, tag.display] for tag in source.hashtags],
        "category_mode": source.categories.mode.value,
        "category_map": [list(pair) for pair in source.categories.mapping],
        "interval_seconds": source.interval_seconds,
        "enabled": source.enabled,
        "retention_days": source.retention_days,
        "max_items": source.max_items,
        "managed_by": source.managed_by,
    }


def state_values(state: SourceState) -> dict[str, Any]:
    values = {name: getattr(state, name) for name in _STATE_FIELDS}
    values.update({f"items_{name}": getattr(state.items, name) for name in ENTRY_FATES})
    values["items_refusals"] = [list(pair) for pair in state.items.refusals]
    values["items_warnings"] = list(state.items.warnings)
    return values


def all_sources(conn: Connection) -> list[Source]:
    rows = conn.execute(select(sources).order_by(sources.c.name, sources.c.id)).all()
    return [_from_row(row) for row in rows]


def get(conn: Connection, source_id: int) -> Source | None:
    row = conn.execute(select(sources).where(sources.c.id == source_id)).first()
    return _from_row(row) if row else None


def get_by_url(conn: Connection, url: str) -> Source | None:
    row = conn.execute(select(sources).where(sources.c.url == url)).first()
    return _from_row(row) if row else None


def insert_source(conn: Connection, source: Source) -> int:
    values = _config_values(source) | state_values(source.state)
    source_id: int = conn.execute(
        insert(sources).values(**values).returning(sources.c.id)
    ).scalar_one()
    return source_id


def update_config(
    conn: Connection, source_id: int, source: Source, *, reset_validators: bool = False
) -> None:
    """Write the configuration fields; the fetch state is left alone.

    `reset_validators` forgets ETag, Last-Modified and the body hash, so the next fetch
    parses the document again (after a change to how its entries are filed).
    """
    values = _config_values(source)
    if reset_validators:
        values |= {"etag": None, "last_modified": None, "body_hash": None}
    conn.execute(update(sources).where(sources.c.id == source_id).values(**values))


def save_state(
    conn: Connection,
    source_id: int,
    state: SourceState,
    *,
    url: str | None = None,
    enabled: bool | None = None,
) -> None:
    """Store the fetch state and give the lease back, in the caller's transaction."""
    values = state_values(state) | {"lease_until": None}
    if url is not None:
        values["url"] = url
    if enabled is not None:
        values["enabled"] = enabled
    conn.execute(update(sources).where(sources.c.id == source_id).values(**values))


def set_enabled(conn: Connection, source_id: int, enabled: bool, now: datetime) -> None:
    values: dict[str, Any] = {"enabled": enabled}
    if enabled:
        values["next_check_at"] = now  # a source switched back on is due at once
    conn.execute(update(sources).where(sources.c.id == source_id).values(**values))


def delete_source(conn: Connection, source_id: int) -> None:
    conn.execute(delete(sources).where(sources.c.id == source_id))


# -- the lease ------------------------------------------------------------------------


def claim(conn: Connection, source_id: int, now: datetime, until: datetime) -> bool:
    """Take the lease unless someone holds an unexpired one; True for the one winner."""
    result = conn.execute(
        update(sources)
        .where(
            sources.c.id == source_id,
            or_(sources.c.lease_until.is_(None), sources.c.lease_until < now),
        )
        .values(lease_until=until)
    )
    return result.rowcount == 1


def holds(conn: Connection, source_id: int, lease: datetime) -> bool:
    """Re-assert a lease at the start of a write transaction; False when it was lost.

    Being a write, it also takes the row lock (PostgreSQL) or the database write lock
    (SQLite) before anything is read, so the job's reads cannot go stale under it.
    """
    result = conn.execute(
        update(sources)
        .where(sources.c.id == source_id, sources.c.lease_until == lease)
        .values(lease_until=lease)
    )
    return result.rowcount == 1


def renew(conn: Connection, source_id: int, lease: datetime, until: datetime) -> bool:
    """Move a held lease's end to *until*; False when it is no longer *lease* (taken over)."""
    result = conn.execute(
        update(sources)
        .where(sources.c.id == source_id, sources.c.lease_until == lease)
        .values(lease_until=until)
    )
    return result.rowcount == 1


def release(conn: Connection, source_id: int, lease: datetime) -> None:
    conn.execute(
        update(sources)
        .where(sources.c.id == source_id, sources.c.lease_until == lease)
        .values(lease_until=None)
    )


def due(conn: Connection, now: datetime) -> list[Source]:
    """Enabled, unleased sources whose next check has come (never checked: first)."""
    rows = conn.execute(
        select(sources)
        .where(
            sources.c.enabled.is_(True),
            or_(sources.c.next_check_at.is_(None), sources.c.next_check_at <= now),
            or_(sources.c.lease_until.is_(None), sources.c.lease_until < now),
        )
        .order_by(sources.c.next_check_at.is_not(None), sources.c.next_check_at, sources.c.id)
    ).all()
    return [_from_row(row) for row in rows]


def oldest_due(conn: Connection, now: datetime) -> datetime | None:
    """The earliest next check among enabled, unleased sources that have one: how long
    the oldest due source has waited for a scheduler."""
    query = select(func.min(sources.c.next_check_at)).where(
        sources.c.enabled.is_(True),
        sources.c.next_check_at.is_not(None),
        or_(sources.c.lease_until.is_(None), sources.c.lease_until < now),
    )
    value = conn.execute(query).scalar()
    return value if isinstance(value, datetime) else None


def leased_urls(conn: Connection, now: datetime) -> list[str]:
    """URLs of sources someone is fetching right now (for the per-host limit)."""
    query = select(sources.c.url).where(sources.c.lease_until >= now)
    return list(conn.execute(query).scalars())


# -- a source's ingested articles -----------------------------------------------------


def stored_entries(
    conn: Connection, source_id: int, wanted: Mapping[str, str]
) -> dict[str, StoredEntry]:
    """The stored index for one source's entries: origin id -> what is stored for it.

    *wanted* maps each origin id of the document to its new content hash; the stored
    article itself is loaded only where the hashes differ (where an update may follow).
    """
    ids = list(wanted)
    found: dict[str, StoredEntry] = {}
    # Chunked: SQLite caps the number of bound parameters in one statement.
    for start in range(0, len(ids), CHUNK):
        rows = conn.execute(
            select(articles.c.origin_id, articles.c.id, articles.c.content_hash).where(
                articles.c.source_id == source_id,
                articles.c.origin_id.in_(ids[start : start + CHUNK]),
            )
        )
        found.update({row.origin_id: StoredEntry(row.id, row.content_hash) for row in rows})
    changed = [e.article_id for key, e in found.items() if e.content_hash != wanted[key]]
    for article in article_store.get_many(conn, changed):
        assert article.origin is not None
        key = article.origin.origin_id
        found[key] = replace(found[key], article=article)
    return found


def shown_seconds(conn: Connection, start: datetime, end: datetime) -> set[datetime]:
    """The whole seconds at which the published articles published in [start, end]
    (read through the feeds' index on publish time) show as published or updated."""
    rows = conn.execute(
        select(articles.c.published_at, articles.c.updated_at).where(
            articles.c.status == Status.PUBLISHED.value,
            articles.c.published_at >= start,
            articles.c.published_at < end + timedelta(seconds=1),
        )
    )
    return {moment.replace(microsecond=0) for row in rows for moment in row}


def article_ids(conn: Connection, source_id: int) -> list[int]:
    return list(
        conn.execute(select(articles.c.id).where(articles.c.source_id == source_id)).scalars()
    )


def delete_article(conn: Connection, article_id: int) -> bool:
    """Delete one ingested article; False when another job deleted it first."""
    result = conn.execute(delete(articles).where(articles.c.id == article_id))
    return result.rowcount == 1


def count_articles(conn: Connection, source_id: int) -> int:
    query = select(func.count()).select_from(articles).where(articles.c.source_id == source_id)
    return int(conn.execute(query).scalar_one())
