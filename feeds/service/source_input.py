"""Source definitions in and out: SourceInput (API, CLI, sources.toml) and the dict shape.

What this module does not do: touch the store. Section existence and URL uniqueness
are checked by SourceService, inside the transaction that writes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import (
    AliasPath,
    BeforeValidator,
    Field,
    InstanceOf,
    ValidationInfo,
    WithJsonSchema,
    create_model,
)

from feeds.errors import Conflict, FetchError
from feeds.hashtags import hashtag
from feeds.ingest.pipeline import FILE_SCHEME, local_path
from feeds.models import CategoryMode, CategoryRule, Hashtag, Source
from feeds.service.payload import (
    SLUG,
    SLUG_PATTERN,
    Answer,
    Flag,
    MaybeInstant,
    Payload,
    Problem,
    Whole,
    check,
)

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


def _displays(tags: Any) -> list[str]:
    return [tag.display if isinstance(tag, Hashtag) else tag for tag in tags]


def _kind(url: Any) -> str:
    return "file" if str(url).startswith(FILE_SCHEME) else "http"


def _rule_shown(rule: Any) -> Any:
    if isinstance(rule, CategoryRule):
        return dict(rule.mapping) if rule.mode is CategoryMode.MAP else rule.mode.value
    return rule


def _minutes(seconds: Any) -> Any:
    return seconds // 60 if isinstance(seconds, int) else seconds


def _pairs(refusals: Any) -> Any:
    return [{"entry": e, "reason": r} if isinstance(e, str) else e for e, r in refusals]


class RefusalAnswer(Answer):
    entry: str
    reason: str


Count = Annotated[int, Field(ge=0)]


class CountsAnswer(Answer):
    """The accounting of a fetch's entries, flat: `entries`, each fate's count, then the
    refusals (entry and reason) and warnings kept for people to read. Its fields are
    copied into the answers that carry them (see counted())."""

    entries: Count = Field(description="Entries in the document; the counts below add up to it")
    new: Count
    updated: Count
    unchanged: Count
    duplicates: Count = Field(description="Entries whose id came earlier in the same document")
    too_old: Count = Field(description="New entries older than the source's retention")
    over_limit: Count = Field(description="Entries beyond the source's newest max_items")
    refused: Count = Field(description="Entries that could not be made into articles")
    refusals: Annotated[list[RefusalAnswer], BeforeValidator(_pairs)] = Field(
        description="The first refused entries with the reason"
    )
    warnings: list[str] = Field(
        description="What is wrong with the document or was cut from its entries"
    )


def counted(prefix: str, holder: str) -> dict[str, Any]:
    """CountsAnswer's fields named `<prefix><name>`, read from `<holder>.<name>`."""
    return {
        prefix + name: (
            Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation,
            Field(validation_alias=AliasPath(holder, name), description=info.description),
        )
        for name, info in CountsAnswer.model_fields.items()
    }


OutcomeStatus = Literal["fetched", "not_modified", "unchanged", "failed", "gone", "busy"]
SourceStateAnswer: type[Answer] = create_model(
    "SourceStateAnswer",
    __base__=Answer,
    __doc__="Fetch state: last fetch, status, error, failures, next check, and the "
    "accounting of the latest successful fetch's entries (items_*)",
    etag=(str | None, ...),
    last_modified=(str | None, ...),
    body_hash=(str | None, ...),
    last_fetch_at=(MaybeInstant, ...),
    last_success_at=(MaybeInstant, ...),
    last_status=(int | None, ...),
    last_error=(str | None, ...),
    failures=(Count, ...),
    next_check_at=(MaybeInstant, ...),
    redirect_target=(str | None, ...),
    redirect_seen=(Count, ...),
    **counted("items_", "items"),
)
RefreshOutcomeAnswer: type[Answer] = create_model(
    "RefreshOutcomeAnswer",
    __base__=Answer,
    __doc__="What one refresh did; the counts account for every entry of the document (a "
    "document not fetched again, 304 or the same bytes, repeats the last counts with what "
    "was written as unchanged)",
    source_id=(int, ...),
    status=(OutcomeStatus, ...),
    http_status=(int | None, ...),
    error=(str | None, ...),
    **counted("", "counts"),
    next_check_at=(MaybeInstant, ...),
    final_url=(
        str | None,
        Field(
            description="The URL the document came from after redirects; null when nothing "
            "was fetched (a failure, or busy)"
        ),
    ),
)


class SourceAnswer(Answer):
    """A source as the API and `--json` show it; SourceInput takes it back, less the
    read-only fields."""

    id: Annotated[int | None, WithJsonSchema({"type": "integer"})]
    name: str
    url: str = Field(description="http(s) URL of an RSS, Atom or JSON feed, or file:<path>")
    kind: Annotated[Literal["http", "file"], BeforeValidator(_kind)] = Field(validation_alias="url")
    section: str
    hashtags: Annotated[list[str], BeforeValidator(_displays)]
    categories: Annotated[
        str | dict[str, str],
        BeforeValidator(_rule_shown),
        WithJsonSchema(SourceInput.model_json_schema()["properties"]["categories"]),
    ]
    interval_minutes: Annotated[int, Field(ge=1), BeforeValidator(_minutes)] = Field(
        validation_alias="interval_seconds"
    )
    enabled: bool
    retention_days: Annotated[int, Field(ge=1)]
    max_items: Annotated[int, Field(ge=1)]
    managed_by: str | None
    state: SourceStateAnswer  # type: ignore[valid-type]


class SourceListAnswer(Answer):
    """Every outside source with its fetch state."""

    items: list[SourceAnswer]
    count: int


class RefreshedAnswer(Answer):
    """A fetch asked for now: its outcome and the source after it."""

    outcome: RefreshOutcomeAnswer  # type: ignore[valid-type]
    source: SourceAnswer


def source_to_dict(source: Source) -> dict[str, Any]:
    """The API and `--json` shape (SourceAnswer) as JSON-ready values."""
    return SourceAnswer.shown(source)


def outcome_to_dict(outcome: Any) -> dict[str, Any]:
    """A refresh outcome (RefreshOutcomeAnswer) as JSON-ready values."""
    return RefreshOutcomeAnswer.shown(outcome)


def audit_view(source: Source) -> dict[str, Any]:
    """A source's configuration for the audit log: fetch state changes on every poll
    and would bury what the admin actually changed."""
    data = source_to_dict(source)
    data.pop("state")
    return data
