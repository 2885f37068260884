"""Which articles a listing asks for: the one declaration of the list filters, read from
the API's query string (ArticleQuery) and from the command line (TypedArticleQuery)."""

from __future__ import annotations

import difflib
from datetime import datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema, model_validator

from feeds.hashtags import normalize_key
from feeds.models import ArticleFilter, Status
from feeds.service.article_input import STATUSES, parse_status, rfc3339
from feeds.service.payload import Payload, Text, Whole, check

LIST_LIMIT = 500
# The command line's longest list (`feeds articles list --limit`): beyond this, a listing
# belongs in a file made with --json and paged with --offset.
TYPED_LIST_LIMIT = 1000


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


class TypedArticleQuery(ArticleQuery):
    """The same filters as a person types them on the command line: spaces around a
    value are dropped and an empty value means any (`--since ""`), and a list may be
    longer, since it is printed rather than paged over HTTP."""

    limit: Annotated[int, Whole(1, TYPED_LIST_LIMIT)] = 50

    @model_validator(mode="before")
    @classmethod
    def _as_typed(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        trimmed = {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}
        return {k: v for k, v in trimmed.items() if v not in (None, "")}


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
    """A filter from text as a person types it (TypedArticleQuery); ValidationError
    names every bad value at once. A hashtag may be given with its `#`."""
    given: dict[str, Any] = {"section": section, "hashtag": hashtag, "status": status}
    given |= {"since": since}
    given |= {"q": query, "limit": limit, "offset": offset}
    return check(TypedArticleQuery, given).to_filter()
