"""Error answers: JSON under /api/, the admin's own page under /admin/, a plain page
elsewhere (HTML for browsers, text for everything else); domain errors mapped to statuses.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from feeds.errors import (
    ConfigError,
    Conflict,
    FeedsError,
    InvalidValue,
    NotFound,
    StorageError,
    ValidationError,
)
from feeds.service.payload import ErrorAnswer
from feeds.web.answer import answer
from feeds.web.jsonbody import BadJSON

log = logging.getLogger(__name__)

HEADINGS = {
    400: "Bad request",
    401: "Not signed in",
    403: "Not allowed",
    404: "Page not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    422: "Invalid input",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Temporarily unavailable",
}
# Seconds a client is told to wait when the store is unavailable.
STORE_RETRY_SECONDS = 5


def _kind() -> str:
    from feeds.web.sessions import needs_session

    if request.path.startswith("/api/"):
        return "api"
    return "admin" if needs_session(request.path) else "public"


def _admin_user() -> str | None:
    """The signed-in admin, if any: error handlers run without the admin's before_request
    for URLs that match no route, and must not fail when the store is what failed."""
    user = g.get("admin_user")
    if isinstance(user, str):
        return user
    from feeds.web.admin.base import _signed_in_user

    try:
        return _signed_in_user()
    except Exception:  # an error page must render whatever broke
        return None


def _settings() -> Any:
    from feeds.web import service

    return service().settings


def _admin_page(template: str, status: int, **context: Any) -> Response:
    from feeds.web import csp
    from feeds.web.admin.base import NAV, current_part

    body = render_template(
        f"admin/{template}.html",
        settings=_settings(),
        user=_admin_user(),
        # The admin's menu, so a signed-in admin always has a way back.
        nav_items=NAV,
        current_part=current_part(request.endpoint),
        status=status,
        heading=HEADINGS.get(status, "Error"),
        login_next=request.path if request.method == "GET" else None,
        **context,
    )
    response = Response(body, status=status, content_type="text/html; charset=utf-8")
    response.headers[csp.HEADER] = csp.ADMIN
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    return response


def _public_page(status: int, message: str, retry_after: int | None) -> Response:
    wanted = request.accept_mimetypes.best_match(["text/plain", "text/html"])
    if wanted != "text/html":
        return Response(
            f"{status}: {message}\n", status=status, content_type="text/plain; charset=utf-8"
        )
    settings = _settings()
    body = render_template(
        "error.html",
        settings=settings,
        status=status,
        heading=HEADINGS.get(status, "Error"),
        message=message,
        retry_after=retry_after,
        directory=settings.public_root + "feeds/",
    )
    return Response(body, status=status, content_type="text/html; charset=utf-8")


def error_response(
    status: int,
    message: str,
    fields: dict[str, str] | None = None,
    *,
    retry_after: int | None = None,
    allowed: str | None = None,
) -> Response:
    kind = _kind()
    if kind == "api":
        payload: dict[str, object] = {"error": message, "status": status}
        if fields:
            payload["fields"] = fields
        response = answer(ErrorAnswer, payload, status)
    elif kind == "admin":
        try:
            response = _admin_page(
                "error", status, message=message, retry_after=retry_after, allowed=allowed
            )
        except Exception:  # the layout needs parts that may be what failed
            log.exception("the admin error page could not be rendered")
            response = _public_page(status, message, retry_after)
    else:
        response = _public_page(status, message, retry_after)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    if allowed:
        response.headers["Allow"] = allowed
    return response


def stale_form(exc: CSRFError) -> Response:
    """A form whose CSRF token no longer checks out (opened before a restart, a session
    that ended): under /admin the admin's own page, with everything typed kept, so the
    edit is one click from being sent again; passwords are never echoed."""
    if _kind() != "admin" or request.method != "POST":
        return error_response(400, exc.description or "the form could not be checked")
    fields = [
        (name, request.form.getlist(name))
        for name in request.form
        if name != "csrf_token" and "password" not in name
    ]
    dropped = [name for name in request.form if "password" in name]
    action = request.full_path.rstrip("?")
    message = (
        "This form was opened before the service restarted or your session ended, "
        "so it could not be checked."
    )
    log.info("stale form posted to %s: %s", request.path, exc.description)
    return _admin_page(
        "stale_form",
        400,
        message=message,
        reason=exc.description,
        fields=fields,
        dropped=dropped,
        action=action,
    )


def register(app: Flask) -> None:
    app.register_error_handler(CSRFError, stale_form)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        allowed = None
        if exc.code == 405 and exc.response is None:
            methods = getattr(exc, "valid_methods", None)
            allowed = ", ".join(methods) if methods else None
        return error_response(exc.code or 500, exc.description or exc.name, allowed=allowed)

    @app.errorhandler(ValidationError)
    def invalid(exc: ValidationError) -> Response:
        message = "invalid input" if exc.line is None else f"invalid input on line {exc.line}"
        return error_response(422, message, exc.errors)

    @app.errorhandler(BadJSON)
    def bad_json(exc: BadJSON) -> Response:
        return error_response(400, str(exc), {"body": str(exc)})

    @app.errorhandler(InvalidValue)
    def unstorable(exc: InvalidValue) -> Response:
        log.warning("refused by the store: %s", exc)
        return error_response(400, "a value in the request cannot be stored")

    @app.errorhandler(NotFound)
    def not_found(exc: NotFound) -> Response:
        return error_response(404, str(exc))

    @app.errorhandler(Conflict)
    def conflict(exc: Conflict) -> Response:
        return error_response(409, str(exc))

    @app.errorhandler(StorageError)
    def storage(exc: StorageError) -> Response:
        log.error("storage error: %s", exc)
        return error_response(
            503, "the store is unavailable; try again shortly", retry_after=STORE_RETRY_SECONDS
        )

    @app.errorhandler(ConfigError)
    def config(exc: ConfigError) -> Response:
        log.error("configuration error: %s", exc)
        return error_response(500, "the service is misconfigured")

    @app.errorhandler(FeedsError)
    def other(exc: FeedsError) -> Response:
        log.error("unhandled service error: %s", exc)
        return error_response(500, "internal error")
