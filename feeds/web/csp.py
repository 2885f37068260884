"""Content-Security-Policy for every response: no page on our origin may run script.

Three policies. Public pages and API answers (`PUBLIC`) forbid script and every other
fetch but images and inline styles. Feeds (`feed_policy`) also allow one script-like
resource: the XSLT stylesheet that shows RSS and Atom in a browser, which Chromium loads
under `script-src`. The admin UI (`ADMIN`) runs only its own script files: no inline
script, style or handler, and it may not be framed.

The policies are a second wall behind escaping and sanitising, not a replacement: a
value that reached a page unescaped would still be a bug.
"""

from __future__ import annotations

import re

from flask import Flask, Response

HEADER = "Content-Security-Policy"
# What a source expression may hold; the URL comes from the request's Host header, and
# anything else (a space, ';', ',') could add directives of the client's choosing.
_SOURCE = re.compile(r"https?://[A-Za-z0-9.\[\]:_~%-]+/[A-Za-z0-9._~%/-]*")

PUBLIC = (
    "default-src 'none'; img-src * data:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
ADMIN = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def feed_policy(stylesheet_url: str) -> str:
    """Like PUBLIC, with the feed stylesheet (and nothing else) allowed as a script."""
    script = stylesheet_url if _SOURCE.fullmatch(stylesheet_url) else "'none'"
    return (
        f"default-src 'none'; script-src {script}; style-src 'unsafe-inline'; "
        "base-uri 'none'; form-action 'none'"
    )


def register(app: Flask) -> None:
    @app.after_request
    def default_policy(response: Response) -> Response:
        # Blueprints and views that need another policy set theirs first.
        response.headers.setdefault(HEADER, PUBLIC)
        return response
