"""Which articles a listing asks for: the one reading of filters from the CLI and admin."""

from __future__ import annotations

import difflib
from datetime import datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema

from feeds.errors import ValidationError
from feeds.hashtags import normalize_key
from feeds.models import ArticleFilter, Status
from feeds.service.article_input import STATUSES, parse_datetime, parse_status, rfc3339
from feeds.service.payload import Payload, Text, Whole, check

LIST_LIMIT = 500


class ArticleQuery(Payload):
    """The API's article list parameters. Any other parameter is refused naming it, so
    a misspelt filter is never silently ignored."""

    status: Annotated[
        Status | None,
        BeforeValidator(parse_status),
        WithJsonSchema({"type": "string", "enum": list(STATUSES)}),
    ] = Field(None, description="Any status when absent")
    section: Annotated[str, Text(strip=False)] = Field(
        "", description="A section slug; an unknown section is a 422"
    )
    hashtag: Annotated[str, Text()] = Field(
        "", description="A hashtag, with or without '#', case-insensitive"
    )
    since: Annotated[
        datetime | None,
        BeforeValidator(rfc3339),
        WithJsonSchema({"type": "string", "format": "date-time"}),
    ] = Field(
        None,
        description="Articles whose `updated_at` is at or after this instant (RFC 3339 "
        "with an offset): the last edit, withdrawal or restore, not the publish time",
    )
    q: Annotated[str, Text(strip=False)] = Field(
        "", description="Words anywhere in the title (case-insensitive)"
    )
    limit: Annotated[int, Whole(1, LIST_LIMIT)] = 50
    offset: Annotated[int, Whole(0, 10**9)] = 0

    @classmethod
    def unknown_field(cls, name: str) -> str:
        known = list(cls.model_fields)
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"unknown parameter{hint} (known: {', '.join(known)})"

    def to_filter(self) -> ArticleFilter:
        tag = self.hashtag.lstrip("#")
        return ArticleFilter(
            section=self.section or None,
            hashtag=normalize_key(tag) if tag else None,
            status=self.status,
            since=self.since,
            query=self.q or None,
            limit=self.limit,
            offset=self.offset,
        )


def list_query(parameters: dict[str, Any]) -> ArticleQuery:
    """The article list parameters checked; ValidationError names every bad one."""
    return check(ArticleQuery, parameters)


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
