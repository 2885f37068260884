"""Tag feed definitions in and out: TagFeedInput (API, admin form, tag_feeds.toml) and
the dict shape."""

from __future__ import annotations

from typing import Annotated, Any

import pydantic
from pydantic import (
    AliasPath,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic.config import JsonDict
from pydantic.json_schema import SkipJsonSchema

from feeds.hashtags import hashtag, parse_hashtags
from feeds.models import TagFeed, TagRule
from feeds.service.payload import (
    SLUG,
    SLUG_PATTERN,
    Answer,
    Flag,
    Payload,
    Problem,
    Text,
    Whole,
    check,
    problems,
)

INTEGER = "must be an integer from {low} to {high}"
RULE_FIELDS = ("any_of", "all_of", "none_of", "sections")
TAGS_TEXT = 'a text such as "#SouthKorea #Japan"'


def _rule(name: str, description: str) -> Any:
    return Field(validation_alias=AliasPath("rule", name), description=description)


class StoredTagFeedAnswer(Answer):
    """A tag feed as `--json` and the audit log show it; TagFeedInput takes it back."""

    id: Annotated[int | None, WithJsonSchema({"type": "integer"})]
    slug: str
    title: str
    description: str
    any_of: list[str] = _rule("any_of", "Hashtag keys, any of which an article must carry")
    all_of: list[str] = _rule("all_of", "Hashtag keys an article must all carry")
    none_of: list[str] = _rule("none_of", "Hashtag keys an article must not carry")
    sections: list[str] = _rule("sections", "Section slugs the article must be in (empty: any)")
    include_sponsored: bool = _rule("include_sponsored", "Whether sponsored articles count")
    limit: Annotated[int, Field(ge=1)]
    managed_by: str | None = Field(
        description="The config file that owns this feed; such feeds are read-only here"
    )


class FeedUrlsAnswer(Answer):
    """The feed's address in each format."""

    rss: str
    atom: str
    json_: str = Field(alias="json")


def _urls(value: Any, info: ValidationInfo) -> Any:
    # The addresses are the feeds service's to say: the API passes `feed_urls`, a
    # function of the slug, in the validation context.
    if value is None:
        return (info.context or {})["feed_urls"](info.data["slug"])
    return value


class TagFeedAnswer(StoredTagFeedAnswer):
    """A tag feed as the API shows it: with its addresses."""

    urls: Annotated[FeedUrlsAnswer, BeforeValidator(_urls)] = Field(
        default=None, validate_default=True
    )


class TagFeedListAnswer(Answer):
    """Every tag feed."""

    items: list[TagFeedAnswer]
    count: int


def tag_feed_to_dict(feed: TagFeed) -> dict[str, Any]:
    return StoredTagFeedAnswer.shown(feed)


def _tag_keys(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        # A text of hashtags, as articles take them: "#SouthKorea #Japan".
        tags = parse_hashtags(value)
        if value.strip() and not tags:
            raise Problem(f'{value!r} holds no hashtag; write them like "#SouthKorea #Japan"')
        return tuple(tag.key for tag in tags)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Problem(f"must be a list of hashtags or {TAGS_TEXT}")
    keys: list[str] = []
    for raw in value:
        try:
            keys.append(hashtag(raw).key)
        except ValueError:
            raise Problem(f"{raw!r} is not a hashtag") from None
    return tuple(dict.fromkeys(keys))


def _slug(value: Any) -> str:
    if not isinstance(value, str) or not SLUG.fullmatch(value) or len(value) > 100:
        raise Problem("must be lowercase letters, digits and single hyphens")
    return value


def _title(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise Problem("is required (up to 200 characters)")
    return value.strip()


def _sections(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(
        isinstance(s, str) and SLUG.fullmatch(s) for s in value
    ):
        raise Problem("must be a list of section slugs")
    return tuple(dict.fromkeys(value))


def _tags(description: str) -> Any:
    return Field(
        (),
        description=f"{description} (with or without '#', case-insensitive): a list, or "
        f"{TAGS_TEXT}",
    )


Tags = Annotated[
    tuple[str, ...],
    BeforeValidator(_tag_keys),
    WithJsonSchema(
        {
            "oneOf": [
                {"type": "array", "items": {"type": "string"}},
                {"type": "string", "description": f"{TAGS_TEXT[2:]}"},
            ]
        }
    ),
]
# A rule needs something to match on; the document says so too.
NEEDS_A_RULE: JsonDict = {
    "anyOf": [
        {"required": ["any_of"], "properties": {"any_of": {"minLength": 1, "minItems": 1}}},
        {"required": ["all_of"], "properties": {"all_of": {"minLength": 1, "minItems": 1}}},
        {"required": ["sections"], "properties": {"sections": {"minItems": 1}}},
    ]
}


class TagRuleFields(Payload):
    """The rule of a tag feed: which articles it holds."""

    any_of: Tags = _tags("Hashtags, any of which an article must carry")
    all_of: Tags = _tags("Hashtags an article must all carry")
    none_of: Tags = _tags("Hashtags an article must not carry")
    sections: Annotated[
        tuple[str, ...],
        BeforeValidator(_sections),
        WithJsonSchema({"type": "array", "items": {"type": "string", "pattern": SLUG_PATTERN}}),
    ] = Field((), description="Section slugs the article must be in (empty: any)")
    include_sponsored: Flag = False

    @model_validator(mode="after")
    def _can_match(self) -> TagRuleFields:
        problem = self.rule().impossibility()
        if problem:
            raise Problem(f"can match nothing: {problem}", field="rule")
        return self

    def rule(self) -> TagRule:
        return TagRule(
            any_of=self.any_of,
            all_of=self.all_of,
            none_of=self.none_of,
            sections=self.sections,
            include_sponsored=self.include_sponsored,
        )


class TagFeedInput(TagRuleFields):
    """A rule needs at least one of any_of, all_of or sections; one that can match
    nothing is refused with 422 naming `rule`."""

    model_config = ConfigDict(json_schema_extra=NEEDS_A_RULE)

    slug: Annotated[
        str,
        BeforeValidator(_slug),
        WithJsonSchema({"type": "string", "pattern": SLUG_PATTERN, "maxLength": 100}),
    ]
    title: Annotated[
        str,
        BeforeValidator(_title),
        WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 200}),
    ]
    description: Annotated[str, Text()] = ""
    limit: Annotated[int, Whole(1, "feed_limit_max", INTEGER)] = 50
    # Shown by the API and kept in config files; taken back without effect, so a feed
    # read from the API can be sent again as it is.
    id: SkipJsonSchema[Any] = None
    managed_by: SkipJsonSchema[Any] = None

    @classmethod
    def more_problems(cls, data: Any, found: dict[str, str]) -> dict[str, str]:
        """The rule's verdict beside the other fields' problems (all shown at once),
        unless the rule's own fields are wrong: it would be about something not typed."""
        if not isinstance(data, dict) or set(found) & {*TagRuleFields.model_fields, "rule"}:
            return {}
        part = {name: data[name] for name in TagRuleFields.model_fields if name in data}
        try:
            TagRuleFields.model_validate(part)
        except pydantic.ValidationError as exc:
            return problems(TagRuleFields, exc)
        return {}

    def to_tag_feed(self, managed_by: str | None) -> TagFeed:
        return TagFeed(
            slug=self.slug,
            title=self.title,
            description=self.description,
            rule=self.rule(),
            limit=self.limit,
            managed_by=managed_by,
        )


def parse_tag_feed(data: Any, *, max_limit: int, managed_by: str | None = None) -> TagFeed:
    """Validate a tag feed definition (API payload or config-file table)."""
    return check(TagFeedInput, data, feed_limit_max=max_limit).to_tag_feed(managed_by)
