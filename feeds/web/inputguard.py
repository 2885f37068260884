"""NUL characters in a request's path, query string or form are refused before any view.

Nothing we store can contain NUL (PostgreSQL refuses it in text), so a path holding
one names nothing (404), and a parameter or form field holding one is refused naming
it: 422 under /api/ like every invalid API field, 400 elsewhere. JSON bodies are
checked by the validators, which know the fields.
"""

from __future__ import annotations

from flask import Flask, Response, abort, request

from feeds.web.errors import error_response


def register(app: Flask) -> None:
    @app.before_request
    def refuse_nul() -> Response | None:
        if "\x00" in request.path:
            abort(404)
        for where, values in (("query parameter", request.args), ("form field", request.form)):
            for name, value in values.items(multi=True):
                if "\x00" in name or "\x00" in value:
                    shown = name.replace("\x00", "\\0")
                    problem = "must not contain NUL characters"
                    status = 422 if request.path.startswith("/api/") else 400
                    message = f"{where} {shown!r} {problem}"
                    return error_response(status, message, {shown: problem})
        return None
