"""Articles in and out: ArticleInput (API bodies, NDJSON imports) and ArticleAnswer
(what the API and `--json` show), each declared once.

Every problem is reported against the field it concerns; nothing is stored unless the
whole payload is valid. Article HTML is sanitised here with the ingest policy, so the
store keeps exactly what is served.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar
from urllib.parse import urlsplit

from pydantic import (
    BeforeValidator,
    Field,
    InstanceOf,
    ValidationInfo,
    WithJsonSchema,
)

from feeds.hashtags import hashtag, merge, parse_hashtags
from feeds.htmlbound import FEED_MAX_DEPTH, flatten_deep
from feeds.ingest.sanitize import sanitize_html
from feeds.models import Article, Hashtag, Image, Status
from feeds.service.payload import (
    MAX_INT,
    SLUG_PATTERN,
    Answer,
    Flag,
    Instant,
    Payload,
    Problem,
    Text,
    Whole,
    bound,
    check,
)

LANGUAGE_PATTERN = r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$"
LANGUAGE = re.compile(LANGUAGE_PATTERN)
URL_FORBIDDEN = re.compile("[\x00-\x20\x7f\ud800-\udfff\ufffe\uffff]")
MIME_PATTERN = r"^image/[\w.+-]{1,90}$"
STATUSES = tuple(s.value for s in Status)
WHEN = "RFC 3339 with an offset; naive times are refused"


@dataclass(frozen=True)
class ArticleDraft:
    """A validated payload: everything an article needs except its GUID and id."""

    title: str
    slug: str | None
    summary: str
    content_html: str
    author: str
    section: str
    hashtags: tuple[Hashtag, ...]
    url: str | None
    image: Image | None
    views: int
    sponsored: bool
    status: Status
    language: str
    published_at: datetime | None
    updated_at: datetime | None


def rfc3339(value: Any) -> datetime:
    """An RFC 3339 date-time with an offset, in UTC; ValueError says what is wrong."""
    if not isinstance(value, str):
        raise Problem("must be an RFC 3339 date-time string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise Problem(f"{value!r} is not an RFC 3339 date-time") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise Problem("needs a UTC offset (e.g. 2026-01-12T17:23:00+09:00)")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 lies before datetime.min in UTC
        raise Problem(f"{value!r} is out of range") from None


def _when(value: Any) -> datetime | None:
    return None if value is None else rfc3339(value)


def absolute_url(value: Any) -> str | None:
    """An absolute http(s) URL; empty or null is None."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise Problem("must be a string")
    if URL_FORBIDDEN.search(value):
        raise Problem("must not contain spaces or control characters")
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unbalanced '[' in the host
        raise Problem("is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Problem("must be an absolute http or https URL")
    return value


def _image_url(value: Any) -> str:
    if (
        isinstance(value, str)
        and value.startswith("/")
        and not value.startswith("//")
        and not URL_FORBIDDEN.search(value)
    ):
        return value  # a path on this service, made absolute when rendered
    url = absolute_url(value)
    if url is None:
        raise Problem("is required")
    return url


def _mime(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(MIME_PATTERN, value):
        raise Problem("must be an image media type such as image/jpeg")
    return value


def _length(value: Any) -> int | None:
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INT
    ):
        raise Problem(f"must be the image size in bytes (up to {MAX_INT}), or null")
    return value


def _slug(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(SLUG_PATTERN, value):
        raise Problem("must be lowercase letters, digits and single hyphens")
    if len(value) > 200:
        raise Problem("is longer than 200 characters")
    return value


def _content(value: Any) -> str:
    if not isinstance(value, str):
        raise Problem("must be a string")
    if flatten_deep(value, FEED_MAX_DEPTH)[1]:
        # Sanitising costs the square of the nesting depth (20,000 levels: seconds of
        # CPU per request), and feeds could not carry more than this without flattening.
        raise Problem(f"nests elements more than {FEED_MAX_DEPTH} levels deep")
    return value


def _hashtag(raw: Any) -> Hashtag:
    if isinstance(raw, Hashtag):  # parsed from a text of #hashtags
        return raw
    try:
        return hashtag(raw)
    except ValueError:
        raise Problem(f"{raw!r} is not a hashtag") from None


def _hashtags(value: Any, info: ValidationInfo) -> list[Any]:
    limit = bound(info, "max_hashtags_per_article")
    too_many = f"at most {limit} hashtags per article"
    if value is None:
        return []
    if isinstance(value, str):
        parsed = parse_hashtags(value)
        if len(parsed) > limit:
            raise Problem(f"{too_many}, got {len(parsed)}")
        return list(parsed)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Problem("must be a list of strings or a text of #hashtags")
    if len(value) > limit:
        # Refused before any parsing: a list of thousands is a mistake or an attack, and
        # counting distinct tags first would mean doing the work the cap is there to avoid.
        raise Problem(f"{too_many}, got a list of {len(value)}")
    return value


def _image(value: Any) -> Any:
    if value is not None and not isinstance(value, dict):
        raise Problem("must be an object with url, mime_type, length and alt")
    return value


def parse_status(value: Any) -> Status:
    if value not in STATUSES:
        raise Problem(f"must be one of {', '.join(STATUSES)}")
    return Status(value)


def _language(value: Any) -> str:
    if value is None or value == "":
        return ""  # the `language` setting, filled in by to_draft()
    if not isinstance(value, str) or len(value) > 35 or not LANGUAGE.fullmatch(value):
        raise Problem("must be a language tag such as en or ko-KR")
    return value


When = Annotated[
    datetime | None,
    BeforeValidator(_when),
    WithJsonSchema({"type": ["string", "null"], "format": "date-time", "description": WHEN}),
]
TAG_LIST = {"type": "array", "items": {"type": "string"}}


class ImageInput(Payload):
    """An article's lead image."""

    url: Annotated[str, BeforeValidator(_image_url)] = Field(
        description="An absolute http(s) URL, or a path on this service such as /media/a.jpg"
    )
    mime_type: Annotated[str, Field(pattern=MIME_PATTERN), BeforeValidator(_mime)]
    length: Annotated[int | None, Field(ge=0, le=MAX_INT), BeforeValidator(_length)] = Field(
        None,
        description="Size in bytes; null or 0 when unknown (feeds then leave the size out)",
    )
    alt: Annotated[str, Text(strip=False)] = ""


class ArticleInput(Payload):
    """`status` defaults to published; a new published article needs `content_html` or
    `summary` (422 naming content_html otherwise); send `status: draft` to save one
    without them. Unknown and read-only fields (`id`, `guid`, `origin`) are refused with
    422 naming them."""

    READ_ONLY: ClassVar[tuple[str, ...]] = ("id", "guid", "origin")
    NOT_AN_OBJECT: ClassVar[str] = "must be a JSON object"
    # Text drops what XML cannot carry (NUL included) instead of refusing it.
    REFUSE_NUL: ClassVar[bool] = False

    title: Annotated[str, Text(300, required=True)]
    slug: Annotated[
        str | None,
        BeforeValidator(_slug),
        WithJsonSchema({"type": ["string", "null"], "pattern": SLUG_PATTERN, "maxLength": 200}),
    ] = Field(None, description="Made from the title when absent; a taken slug is a 409")
    summary: Annotated[str, Text(5000)] = ""
    content_html: Annotated[str, BeforeValidator(_content)] = Field(
        "",
        description="HTML, sanitised on write with the same allow-list as ingested HTML "
        "(no script, handlers, styles, frames or unsafe URLs); the article read back holds "
        f"what feeds serve. Markup nested more than {FEED_MAX_DEPTH} elements deep is a "
        "422 naming content_html.",
    )
    author: Annotated[str, Text(200, required=True)]
    section: Annotated[str, Text(100, required=True)]
    hashtags: Annotated[
        list[Annotated[InstanceOf[Hashtag], BeforeValidator(_hashtag)]],
        BeforeValidator(_hashtags),
        WithJsonSchema(
            {
                "oneOf": [
                    TAG_LIST | {"x-setting-maxItems": "max_hashtags_per_article"},
                    {"type": "string"},
                ]
            }
        ),
    ] = Field(
        [],
        description="A list of hashtags, or text containing #hashtags; at most "
        "max_hashtags_per_article, more is a 422 naming hashtags",
    )
    url: Annotated[
        str | None,
        BeforeValidator(absolute_url),
        WithJsonSchema({"type": ["string", "null"]}),
    ] = Field(None, description="The article's canonical page; absent: /articles/<slug>")
    image: Annotated[ImageInput | None, BeforeValidator(_image)] = None
    views: Annotated[int, Whole(0, MAX_INT, "must be an integer from {low} to {high}")] = 0
    sponsored: Flag = False
    status: Annotated[
        Status,
        BeforeValidator(parse_status),
        WithJsonSchema({"type": "string", "enum": list(STATUSES)}),
    ] = Status.PUBLISHED
    language: Annotated[
        str,
        BeforeValidator(_language),
        WithJsonSchema(
            {
                "type": "string",
                "pattern": f"^(?:{LANGUAGE_PATTERN[1:-1]})?$",
                "maxLength": 35,
            }
        ),
    ] = Field("", description="A BCP 47 tag such as en or ko-KR; empty or absent: the setting")
    published_at: When = None
    updated_at: When = None

    def to_draft(self, default_language: str) -> ArticleDraft:
        image = self.image
        return ArticleDraft(
            title=self.title,
            slug=self.slug,
            summary=self.summary,
            # The same allow-list as ingested HTML, applied before storing: every page and
            # feed then serves what the store holds, and no reader has to trust the API.
            content_html=sanitize_html(self.content_html, self.url),
            author=self.author,
            section=self.section,
            hashtags=merge(self.hashtags),
            url=self.url,
            # 0, like null, says the size is unknown: feeds then leave it out.
            image=None
            if image is None
            else Image(
                url=image.url, mime_type=image.mime_type, length=image.length or None, alt=image.alt
            ),
            views=self.views,
            sponsored=self.sponsored,
            status=self.status,
            language=self.language or default_language,
            published_at=self.published_at,
            updated_at=self.updated_at,
        )


def validate(data: Any, *, default_language: str, max_hashtags: int) -> ArticleDraft:
    """Check a whole article payload; raise ValidationError naming every bad field."""
    checked = check(ArticleInput, data, max_hashtags_per_article=max_hashtags)
    return checked.to_draft(default_language)


def _displays(tags: Any) -> list[str]:
    return [tag.display if isinstance(tag, Hashtag) else tag for tag in tags]


class ImageAnswer(Answer):
    url: str
    mime_type: str
    length: Annotated[int | None, Field(ge=0)] = Field(
        description="Size in bytes; null when unknown (0 on input means unknown too); "
        "feeds leave an unknown size out"
    )
    alt: str


class OriginAnswer(Answer):
    """Where an ingested article came from."""

    source_id: int
    source: str = Field(validation_alias="source_title")
    link: str | None
    original_date: str | None


class ArticleAnswer(Answer):
    """An article as the API shows it; ArticleInput takes it back, less `id`, `guid`
    and `origin`."""

    id: Annotated[int | None, WithJsonSchema({"type": "integer"})]
    guid: str
    slug: str
    title: str
    summary: str
    content_html: str
    author: str
    section: str
    hashtags: Annotated[list[str], BeforeValidator(_displays)]
    url: str | None
    image: ImageAnswer | None
    views: Annotated[int, Field(ge=0)]
    sponsored: bool
    status: Annotated[Status, WithJsonSchema({"type": "string", "enum": list(STATUSES)})]
    language: str
    published_at: Instant
    updated_at: Instant
    origin: OriginAnswer | None


class ArticleListAnswer(Answer):
    """A page of articles (GET /articles), or a tag feed rule's preview."""

    items: list[ArticleAnswer]
    count: int = Field(description="Every article the filters match, not only this page")
    next: str | None = Field(
        default=None,
        description="Absolute URL of the next page (same filters and limit), null on the last page",
    )


def article_to_dict(article: Article) -> dict[str, Any]:
    """The API representation (ArticleAnswer) as JSON-ready values."""
    return ArticleAnswer.shown(article)
