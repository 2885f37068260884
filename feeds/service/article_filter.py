"""Which articles a listing asks for: the one reading of filters from the CLI and admin."""

from __future__ import annotations

from feeds.errors import ValidationError
from feeds.hashtags import normalize_key
from feeds.models import ArticleFilter, Status
from feeds.service.article_input import parse_datetime

STATUSES = tuple(s.value for s in Status)


def article_filter(
    *,
    section: str | None = None,
    hashtag: str | None = None,
    status: str | None = None,
    since: str | None = None,
    query: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> ArticleFilter:
    """Build a filter from text as a person types it; every bad value is named at once.

    Empty strings mean "any". A hashtag may be given with its `#`.
    """
    errors: dict[str, str] = {}
    given = {"section": section, "hashtag": hashtag, "status": status, "since": since, "q": query}
    for name, value in given.items():
        if value is not None and "\x00" in value:  # PostgreSQL refuses NUL in a parameter
            errors[name] = "must not contain NUL"
    if status and status not in STATUSES:
        errors["status"] = f"must be one of {', '.join(STATUSES)}"
    after = parse_datetime(since.strip(), "since", errors) if since and since.strip() else None
    tag = (hashtag or "").strip().lstrip("#")
    if errors:
        raise ValidationError(errors)
    return ArticleFilter(
        section=(section or "").strip() or None,
        hashtag=normalize_key(tag) if tag else None,
        status=Status(status) if status else None,
        since=after,
        query=(query or "").strip() or None,
        limit=limit,
        offset=offset,
    )
