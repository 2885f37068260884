"""Source definitions in and out: SourceInput (API, CLI, sources.toml) and the dict shape.

What this module does not do: touch the store. Section existence and URL uniqueness
are checked by SourceService, inside the transaction that writes.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, ClassVar
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field, InstanceOf, ValidationInfo, WithJsonSchema

from feeds.errors import Conflict, FetchError
from feeds.hashtags import hashtag
from feeds.ingest.pipeline import FILE_SCHEME, local_path
from feeds.models import ENTRY_FATES, CategoryMode, CategoryRule, EntryCounts, Hashtag, Source
from feeds.service.payload import SLUG, SLUG_PATTERN, Flag, Payload, Problem, Whole, check

READ_ONLY = ("id", "kind", "managed_by", "state")
# Changing any of these changes how entries are filed: the next fetch must parse again.
FILING = ("url", "section", "hashtags", "categories", "max_items")
CATEGORIES = '"all", "none", or a table of category = "Hashtag"'


class ManagedByFile(Conflict):
    def __init__(self, source: Source) -> None:
        self.managed_by = source.managed_by
        super().__init__(
            f"source {source.id} is managed by {source.managed_by}: change it there "
            "and run `feeds config apply`"
        )


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


def _url(value: Any, info: ValidationInfo) -> str:
    if problem := check_url(value, allow_file=bool((info.context or {}).get("allow_file"))):
        raise Problem(problem)
    return str(value).strip()


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise Problem("is required (up to 200 characters)")
    return value.strip()


def _section(value: Any) -> str:
    if not isinstance(value, str) or not SLUG.fullmatch(value):
        raise Problem("is required: a section slug")
    return value


def _hashtags(value: Any) -> tuple[Hashtag, ...]:
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise Problem("must be a list of hashtags")
    found = []
    for raw in value:
        try:
            found.append(hashtag(raw))
        except ValueError:
            raise Problem(f"{raw!r} is not a hashtag") from None
    return tuple({t.key: t for t in found}.values())


def _categories(value: Any) -> CategoryRule:
    if value in ("none", None):
        return CategoryRule()
    if value == "all":
        return CategoryRule(CategoryMode.ALL)
    if isinstance(value, dict) and value and all(isinstance(v, str) for v in value.values()):
        try:
            pairs = tuple((str(k), hashtag(v).display) for k, v in value.items())
        except ValueError as exc:
            raise Problem(str(exc)) from None
        return CategoryRule(CategoryMode.MAP, pairs)
    raise Problem(CATEGORIES)


class SourceInput(Payload):
    """An outside feed to ingest. Unknown and read-only fields (`id`, `kind`,
    `managed_by`, `state`) are refused with 422 naming them."""

    READ_ONLY: ClassVar[tuple[str, ...]] = READ_ONLY

    url: Annotated[
        str,
        BeforeValidator(_url),
        WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 2000}),
    ] = Field(
        description="http(s) URL of an RSS, Atom or JSON feed (file:<path> only in sources.toml)"
    )
    name: Annotated[
        str,
        BeforeValidator(_name),
        WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 200}),
    ]
    section: Annotated[
        str,
        BeforeValidator(_section),
        WithJsonSchema({"type": "string", "pattern": SLUG_PATTERN}),
    ] = Field(description="The section its items are filed under")
    hashtags: Annotated[
        tuple[InstanceOf[Hashtag], ...],
        BeforeValidator(_hashtags),
        WithJsonSchema({"type": "array", "items": {"type": "string"}}),
    ] = Field((), description="Hashtags every item gets")
    categories: Annotated[
        InstanceOf[CategoryRule],
        BeforeValidator(_categories),
        WithJsonSchema(
            {
                "oneOf": [
                    {"type": "string", "enum": ["all", "none"]},
                    {
                        "type": "object",
                        "minProperties": 1,
                        "additionalProperties": {"type": "string"},
                    },
                ]
            }
        ),
    ] = Field(
        default_factory=CategoryRule,
        description="Which of an item's categories become hashtags: all, none, or a table "
        'of category = "Hashtag"',
    )
    interval_minutes: Annotated[int, Whole(1, 7 * 24 * 60)] = 15
    enabled: Flag = True
    retention_days: Annotated[int, Whole(1, 3650)] = 30
    max_items: Annotated[int, Whole(1, 1000)] = 100

    def to_source(self, managed_by: str | None) -> Source:
        return Source(
            url=self.url,
            name=self.name,
            section=self.section,
            hashtags=self.hashtags,
            categories=self.categories,
            interval_seconds=self.interval_minutes * 60,
            enabled=self.enabled,
            retention_days=self.retention_days,
            max_items=self.max_items,
            managed_by=managed_by,
        )


def parse_source(data: Any, *, managed_by: str | None = None, allow_file: bool = False) -> Source:
    """Validate a source definition (API payload, CLI options or a sources.toml table)."""
    return check(SourceInput, data, allow_file=allow_file).to_source(managed_by)


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
