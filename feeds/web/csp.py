"""Content-Security-Policy for every response: no page on our origin may run script.

Two policies. Public pages, feeds, feed pages and API answers (`PUBLIC`) forbid script
and every other fetch but images and inline styles. The admin UI (`ADMIN`) runs only its
own script files: no inline script, style or handler, and it may not be framed.

The policies are a second wall behind escaping and sanitising, not a replacement: a
value that reached a page unescaped would still be a bug.
"""

from __future__ import annotations

from flask import Flask, Response

HEADER = "Content-Security-Policy"

PUBLIC = (
    "default-src 'none'; img-src * data:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
ADMIN = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def register(app: Flask) -> None:
    @app.after_request
    def default_policy(response: Response) -> Response:
        # Blueprints and views that need another policy set theirs first.
        response.headers.setdefault(HEADER, PUBLIC)
        return response
