"""Bearer-token checks for the JSON API."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request

from feeds.web import service
from feeds.web.errors import error_response

F = TypeVar("F", bound=Callable[..., Any])


def require(scope: str | None = None) -> Callable[[F], F]:
    """Refuse the request without a valid token (401) or without `scope` (403).

    `scope=None` admits any valid token: reading needs identification, not a grant.
    """

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            header = request.headers.get("Authorization", "")
            kind, _, raw = header.partition(" ")
            record = service().tokens.check(raw.strip()) if kind.lower() == "bearer" else None
            if record is None:
                response = error_response(401, "a valid bearer token is required")
                response.headers["WWW-Authenticate"] = 'Bearer realm="feeds"'
                return response
            # The token authenticated even if it lacks the scope: it is in use.
            service().tokens.touch(record)
            if scope is not None and scope not in record.scopes:
                return error_response(403, f"this token lacks the {scope!r} scope")
            g.token = record
            return view(*args, **kwargs)

        wrapper.required_scope = scope  # type: ignore[attr-defined]
        wrapper.requires_token = True  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def public(view: F) -> F:
    """Mark an /api/ route that answers without a token: only the API's own description
    (the OpenAPI document and its docs page), which tells nothing a client could not read
    in the source."""
    view.required_scope = None  # type: ignore[attr-defined]
    view.requires_token = False  # type: ignore[attr-defined]
    view.public = True  # type: ignore[attr-defined]
    return view
