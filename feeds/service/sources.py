"""Outside sources: validation, CRUD, refresh now, the due list, retention pruning.

Sources declared in config/sources.toml carry `managed_by` (the file's path) and are
read-only here: the file is their truth (see sources_config.py).
"""

from __future__ import annotations

import builtins
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection

from feeds.errors import Conflict, FetchError, NotFound, ValidationError
from feeds.hashtags import hashtag
from feeds.ingest.pipeline import FILE_SCHEME, local_path
from feeds.models import CategoryMode, CategoryRule, Source, SourceState
from feeds.service.articles import MAX_ID, record_change
from feeds.service.catalog import SLUG
from feeds.service.context import Context
from feeds.service.ingest import Ingester, RefreshOutcome
from feeds.store import articles as article_store
from feeds.store import sections as section_store
from feeds.store import sources as source_store

FIELDS = {
    "url", "name", "section", "hashtags", "categories", "interval_minutes", "enabled",
    "retention_days", "max_items",
}  # fmt: skip
READ_ONLY = ("id", "kind", "managed_by", "state")
# Changing any of these changes how entries are filed: the next fetch must parse again.
FILING = ("url", "section", "hashtags", "categories", "max_items")


class ManagedByFile(Conflict):
    def __init__(self, source: Source) -> None:
        self.managed_by = source.managed_by
        super().__init__(
            f"source {source.id} is managed by {source.managed_by}: change it there "
            "and run `feeds config apply`"
        )


def _int(data: dict[str, Any], name: str, default: int, low: int, high: int, errors: Any) -> int:
    value = data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors[name] = f"must be a whole number from {low} to {high}"
        return default
    return value


def _categories(value: Any, errors: dict[str, str]) -> CategoryRule:
    if value in ("none", None):
        return CategoryRule()
    if value == "all":
        return CategoryRule(CategoryMode.ALL)
    if isinstance(value, dict) and value and all(isinstance(v, str) for v in value.values()):
        try:
            pairs = tuple((str(k), hashtag(v).display) for k, v in value.items())
        except ValueError as exc:
            errors["categories"] = str(exc)
            return CategoryRule()
        return CategoryRule(CategoryMode.MAP, pairs)
    errors["categories"] = '"all", "none", or a table of category = "Hashtag"'
    return CategoryRule()


def check_url(url: Any, *, allow_file: bool) -> str | None:
    """Why *url* cannot be a source's URL, or None when it can."""
    if not isinstance(url, str) or not url.strip() or len(url) > 2000:
        return "is required (up to 2000 characters)"
    if url.startswith(FILE_SCHEME):
        if not allow_file:
            return "file: sources can only be declared in sources.toml"
        try:
            local_path(Path("."), url)  # the path's form; the file is read later
        except FetchError as exc:
            return str(exc)
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http or https URL (or file:<path> in sources.toml)"
    return None


def parse_source(data: Any, *, managed_by: str | None = None, allow_file: bool = False) -> Source:
    """Validate a source definition (API payload, CLI options or a sources.toml table)."""
    if not isinstance(data, dict):
        raise ValidationError({"body": "must be an object"})
    errors: dict[str, str] = {name: "unknown field" for name in sorted(set(data) - FIELDS)}
    for field in READ_ONLY:
        if field in data:
            errors[field] = "is read-only"
    url = data.get("url")
    if problem := check_url(url, allow_file=allow_file):
        errors["url"] = problem
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        errors["name"] = "is required (up to 200 characters)"
    section = data.get("section")
    if not isinstance(section, str) or not SLUG.fullmatch(section):
        errors["section"] = "is required: a section slug"
    tags = data.get("hashtags", [])
    found = []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        errors["hashtags"] = "must be a list of hashtags"
    else:
        for raw in tags:
            try:
                found.append(hashtag(raw))
            except ValueError:
                errors["hashtags"] = f"{raw!r} is not a hashtag"
    categories = _categories(data.get("categories", "none"), errors)
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        errors["enabled"] = "must be true or false"
    interval = _int(data, "interval_minutes", 15, 1, 7 * 24 * 60, errors)
    retention = _int(data, "retention_days", 30, 1, 3650, errors)
    max_items = _int(data, "max_items", 100, 1, 1000, errors)
    if errors:
        raise ValidationError(errors)
    return Source(
        url=str(url).strip(),
        name=str(name).strip(),
        section=str(section),
        hashtags=tuple({t.key: t for t in found}.values()),
        categories=categories,
        interval_seconds=interval * 60,
        enabled=enabled is True,
        retention_days=retention,
        max_items=max_items,
        managed_by=managed_by,
    )


def source_to_dict(source: Source) -> dict[str, Any]:
    """The API and `--json` shape; parse_source accepts it back less the read-only fields."""
    rule = source.categories
    state = source.state

    def when(value: Any) -> Any:
        return value.isoformat() if isinstance(value, datetime) else value

    return {
        "id": source.id,
        "name": source.name,
        "url": source.url,
        "kind": "file" if source.url.startswith(FILE_SCHEME) else "http",
        "section": source.section,
        "hashtags": [tag.display for tag in source.hashtags],
        "categories": dict(rule.mapping) if rule.mode is CategoryMode.MAP else rule.mode.value,
        "interval_minutes": source.interval_seconds // 60,
        "enabled": source.enabled,
        "retention_days": source.retention_days,
        "max_items": source.max_items,
        "managed_by": source.managed_by,
        "state": {f.name: when(getattr(state, f.name)) for f in fields(state)},
    }


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
        if not 0 < source_id <= MAX_ID:
            raise NotFound(f"no source {source_id}")
        with self.ctx.store.read() as conn:
            found = source_store.get(conn, source_id)
        if found is None:
            raise NotFound(f"no source {source_id}")
        return found

    def add(self, payload: Any, conn: Connection | None = None) -> Source:
        source = parse_source(payload)
        if conn is None:
            with self.ctx.store.begin() as fresh:
                return self.insert(source, fresh)
        return self.insert(source, conn)

    def insert(self, source: Source, conn: Connection) -> Source:
        """Store a validated source; it is due at once."""
        if section_store.get(conn, source.section) is None:
            raise ValidationError({"section": f"unknown section {source.section!r}"})
        if source_store.get_by_url(conn, source.url) is not None:
            raise Conflict(f"a source with URL {source.url!r} exists")
        source_id = source_store.insert_source(conn, replace(source, state=SourceState()))
        stored = source_store.get(conn, source_id)
        assert stored is not None
        return stored

    def update(self, source_id: int, payload: Any, *, partial: bool = False) -> Source:
        """Replace (PUT) or change (PATCH, `partial`) a source's configuration."""
        with self.ctx.store.begin() as conn:
            current = self._editable(conn, source_id)
            if partial:
                if not isinstance(payload, dict):
                    raise ValidationError({"body": "must be an object"})
                merged = source_to_dict(current)
                for name in READ_ONLY:
                    merged.pop(name)
                payload = merged | payload
            return self.write_config(conn, current, parse_source(payload))

    def write_config(self, conn: Connection, current: Source, wanted: Source) -> Source:
        assert current.id is not None
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

    def enable(self, source_id: int) -> Source:
        return self._set_enabled(source_id, True)

    def disable(self, source_id: int) -> Source:
        return self._set_enabled(source_id, False)

    def _set_enabled(self, source_id: int, enabled: bool) -> Source:
        with self.ctx.store.begin() as conn:
            current = self._editable(conn, source_id)
            source_store.set_enabled(conn, source_id, enabled, self.ctx.now())
            return replace(current, enabled=enabled)

    def remove(self, source_id: int) -> None:
        """Delete a source and its ingested articles (each leaves its feeds)."""
        with self.ctx.store.begin() as conn:
            self.delete(conn, self._editable(conn, source_id))

    def delete(self, conn: Connection, source: Source) -> None:
        assert source.id is not None
        now = self.ctx.now()
        for article_id in source_store.article_ids(conn, source.id):
            self._drop_article(conn, article_id, now)
        source_store.delete_source(conn, source.id)

    def _editable(self, conn: Connection, source_id: int) -> Source:
        current = source_store.get(conn, source_id) if 0 < source_id <= MAX_ID else None
        if current is None:
            raise NotFound(f"no source {source_id}")
        if current.managed_by is not None:
            raise ManagedByFile(current)
        return current

    def _drop_article(self, conn: Connection, article_id: int, now: Any) -> bool:
        old = article_store.get_by(conn, id=article_id)
        if old is None or not source_store.delete_article(conn, article_id):
            return False  # another job removed it first
        record_change(conn, old, None, now)
        return True

    # -- fetching -----------------------------------------------------------------------

    def refresh(self, source_id: int) -> RefreshOutcome:
        """Fetch one source now, whatever its schedule (unless another job holds it)."""
        self.get(source_id)
        return self.ingester.refresh(source_id)

    def due(self) -> builtins.list[Source]:
        """Sources due a fetch, at most `ingest_per_host` per host counting running jobs."""
        now = self.ctx.now()
        with self.ctx.store.read() as conn:
            candidates = source_store.due(conn, now)
            running = Counter(host_of(url) for url in source_store.leased_urls(conn, now))
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
            with self.ctx.store.begin() as conn:
                for old in article_store.ingested_before(conn, source.id, cutoff):
                    assert old.id is not None
                    removed += self._drop_article(conn, old.id, now)
        return removed
