"""Validation of article payloads from the API and from NDJSON imports.

Every problem is reported against the field it concerns; nothing is stored unless the
whole payload is valid. Article HTML is sanitised here with the ingest policy, so the
store keeps exactly what is served.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from feeds.errors import ValidationError
from feeds.hashtags import hashtag, parse_hashtags
from feeds.htmlbound import FEED_MAX_DEPTH, flatten_deep
from feeds.ingest.sanitize import sanitize_html
from feeds.models import Hashtag, Image, Status
from feeds.xmlchars import xml_safe

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
FIELDS = {
    "title", "slug", "summary", "content_html", "author", "section", "hashtags", "url",
    "image", "views", "sponsored", "status", "language", "published_at", "updated_at",
}  # fmt: skip
READ_ONLY = {"id", "guid", "origin"}
IMAGE_FIELDS = {"url", "mime_type", "length", "alt"}
URL_FORBIDDEN = re.compile("[\x00-\x20\x7f\ud800-\udfff\ufffe\uffff]")
# The integer columns are 32-bit on PostgreSQL; a larger value must be a 422, not a 500.
MAX_INT = 2**31 - 1


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


def clean_text(value: str) -> str:
    # Lone surrogates (JSON allows "\\ud800") cannot be encoded for either database or XML.
    return xml_safe(value)


def parse_datetime(value: Any, field: str, errors: dict[str, str]) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        errors[field] = "must be an RFC 3339 date-time string"
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        errors[field] = f"{value!r} is not an RFC 3339 date-time"
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        errors[field] = "needs a UTC offset (e.g. 2026-01-12T17:23:00+09:00)"
        return None
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 lies before datetime.min in UTC
        errors[field] = f"{value!r} is out of range"
        return None


def _url(value: Any, field: str, errors: dict[str, str]) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        errors[field] = "must be a string"
        return None
    if URL_FORBIDDEN.search(value):
        errors[field] = "must not contain spaces or control characters"
        return None
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unbalanced '[' in the host
        errors[field] = "is not a valid URL"
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        errors[field] = "must be an absolute http or https URL"
        return None
    return value


def _string(
    data: dict[str, Any], name: str, errors: dict[str, str], *, required: bool, max_len: int
) -> str:
    value = data.get(name)
    if value is None:
        if required:
            errors[name] = "is required"
        return ""
    if not isinstance(value, str):
        errors[name] = "must be a string"
        return ""
    value = clean_text(value).strip()
    if required and not value:
        errors[name] = "must not be empty"
    elif len(value) > max_len:
        errors[name] = f"is longer than {max_len} characters"
    return value


def _hashtags(value: Any, errors: dict[str, str], limit: int) -> tuple[Hashtag, ...]:
    if value is None:
        return ()
    too_many = f"at most {limit} hashtags per article"
    if isinstance(value, str):
        parsed = parse_hashtags(value)
        if len(parsed) > limit:
            errors["hashtags"] = f"{too_many}, got {len(parsed)}"
            return ()
        return parsed
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors["hashtags"] = "must be a list of strings or a text of #hashtags"
        return ()
    if len(value) > limit:
        # Refused before any parsing: a list of thousands is a mistake or an attack, and
        # counting distinct tags first would mean doing the work the cap is there to avoid.
        errors["hashtags"] = f"{too_many}, got a list of {len(value)}"
        return ()
    tags: dict[str, Hashtag] = {}
    for position, raw in enumerate(value):
        try:
            tag = hashtag(raw)
        except ValueError:
            errors[f"hashtags[{position}]"] = f"{raw!r} is not a hashtag"
            continue
        tags.setdefault(tag.key, tag)
    return tuple(tags.values())


def _image(value: Any, errors: dict[str, str]) -> Image | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        errors["image"] = "must be an object with url, mime_type, length and alt"
        return None
    for extra in sorted(set(value) - IMAGE_FIELDS):
        errors[f"image.{extra}"] = "unknown field"
    raw_url = value.get("url")
    if (
        isinstance(raw_url, str)
        and raw_url.startswith("/")
        and not raw_url.startswith("//")
        and not URL_FORBIDDEN.search(raw_url)
    ):
        url: str | None = raw_url  # a path on this service, made absolute when rendered
    else:
        url = _url(raw_url, "image.url", errors)
    if url is None and "image.url" not in errors:
        errors["image.url"] = "is required"
    mime = value.get("mime_type")
    if not isinstance(mime, str) or not re.fullmatch(r"image/[\w.+-]{1,90}", mime):
        errors["image.mime_type"] = "must be an image media type such as image/jpeg"
    length = value.get("length")
    if length is not None and (
        isinstance(length, bool) or not isinstance(length, int) or not 0 <= length <= MAX_INT
    ):
        errors["image.length"] = f"must be the image size in bytes (up to {MAX_INT}), or null"
    alt = value.get("alt", "")
    if not isinstance(alt, str):
        errors["image.alt"] = "must be a string"
    if url is None or any(key.startswith("image.") for key in errors):
        return None
    # 0, like null, says the size is unknown: feeds then leave it out.
    return Image(url=url, mime_type=str(mime), length=length or None, alt=clean_text(str(alt)))


def validate(data: Any, *, default_language: str, max_hashtags: int) -> ArticleDraft:
    """Check a whole article payload; raise ValidationError naming every bad field."""
    if not isinstance(data, dict):
        raise ValidationError({"body": "must be a JSON object"})
    errors: dict[str, str] = {}
    for name in sorted(set(data) - FIELDS):
        errors[name] = "is read-only" if name in READ_ONLY else "unknown field"
    title = _string(data, "title", errors, required=True, max_len=300)
    slug = data.get("slug")
    if slug is not None and (not isinstance(slug, str) or not SLUG.fullmatch(slug)):
        errors["slug"] = "must be lowercase letters, digits and single hyphens"
    elif isinstance(slug, str) and len(slug) > 200:
        errors["slug"] = "is longer than 200 characters"
    summary = _string(data, "summary", errors, required=False, max_len=5000)
    content = data.get("content_html", "")
    if not isinstance(content, str):
        errors["content_html"] = "must be a string"
        content = ""
    elif flatten_deep(content, FEED_MAX_DEPTH)[1]:
        # Sanitising costs the square of the nesting depth (20,000 levels: seconds of
        # CPU per request), and feeds could not carry more than this without flattening.
        errors["content_html"] = f"nests elements more than {FEED_MAX_DEPTH} levels deep"
        content = ""
    author = _string(data, "author", errors, required=True, max_len=200)
    section = _string(data, "section", errors, required=True, max_len=100)
    views = data.get("views", 0)
    if isinstance(views, bool) or not isinstance(views, int) or not 0 <= views <= MAX_INT:
        errors["views"] = f"must be an integer from 0 to {MAX_INT}"
        views = 0
    sponsored = data.get("sponsored", False)
    if not isinstance(sponsored, bool):
        errors["sponsored"] = "must be true or false"
    status_raw = data.get("status", Status.PUBLISHED.value)
    try:
        status = Status(status_raw)
    except ValueError:
        errors["status"] = "must be one of draft, published, withdrawn"
        status = Status.DRAFT
    language = data.get("language") or default_language
    if not isinstance(language, str) or len(language) > 35 or not LANGUAGE.fullmatch(language):
        errors["language"] = "must be a language tag such as en or ko-KR"
    url = _url(data.get("url"), "url", errors)
    draft = ArticleDraft(
        title=title,
        slug=slug if isinstance(slug, str) else None,
        summary=summary,
        # The same allow-list as ingested HTML, applied before storing: every page and
        # feed then serves what the store holds, and no reader has to trust the API.
        content_html=sanitize_html(content, url),
        author=author,
        section=section,
        hashtags=_hashtags(data.get("hashtags"), errors, max_hashtags),
        url=url,
        image=_image(data.get("image"), errors),
        views=views,
        sponsored=bool(sponsored),
        status=status,
        language=str(language),
        published_at=parse_datetime(data.get("published_at"), "published_at", errors),
        updated_at=parse_datetime(data.get("updated_at"), "updated_at", errors),
    )
    if errors:
        raise ValidationError(errors)
    return draft
