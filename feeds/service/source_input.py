"""Source definitions in and out: validation (API, CLI, sources.toml) and the dict shape.

What this module does not do: touch the store. Section existence and URL uniqueness
are checked by SourceService, inside the transaction that writes.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from feeds.errors import Conflict, FetchError, ValidationError
from feeds.hashtags import hashtag
from feeds.ingest.pipeline import FILE_SCHEME, local_path
from feeds.models import ENTRY_FATES, CategoryMode, CategoryRule, EntryCounts, Source
from feeds.service.catalog import SLUG
from feeds.service.nulcheck import fields_with_nul

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
    errors = fields_with_nul(data)
    for name in sorted(set(data) - FIELDS):
        errors.setdefault(name, "unknown field")
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
        "state": {
            **{f.name: when(getattr(state, f.name)) for f in fields(state) if f.name != "items"},
            **counts_to_dict(state.items, prefix="items_"),
        },
    }


def counts_to_dict(counts: EntryCounts, prefix: str = "") -> dict[str, Any]:
    """The accounting of a fetch's entries, flat: `entries`, each fate's count, then the
    refusals (entry and reason) and warnings kept for people to read."""
    return {
        f"{prefix}entries": counts.entries,
        **{f"{prefix}{name}": getattr(counts, name) for name in ENTRY_FATES},
        f"{prefix}refusals": [{"entry": e, "reason": r} for e, r in counts.refusals],
        f"{prefix}warnings": list(counts.warnings),
    }


def audit_view(source: Source) -> dict[str, Any]:
    """A source's configuration for the audit log: fetch state changes on every poll
    and would bury what the admin actually changed."""
    data = source_to_dict(source)
    data.pop("state")
    return data
