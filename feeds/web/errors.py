"""Errors as JSON under /api/, as short text elsewhere; domain errors mapped to statuses."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
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
from feeds.web.jsonbody import BadJSON

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, message: str, fields: dict[str, str] | None = None) -> Response:
    if _wants_json():
        payload: dict[str, object] = {"error": message, "status": status}
        if fields:
            payload["fields"] = fields
        response = jsonify(payload)
    else:
        response = Response(f"{status}: {message}\n", content_type="text/plain; charset=utf-8")
    response.status_code = status
    return response


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        response = error_response(exc.code or 500, exc.description or exc.name)
        if exc.code == 405 and exc.response is None:
            allowed = getattr(exc, "valid_methods", None)
            if allowed:
                response.headers["Allow"] = ", ".join(allowed)
        return response

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
        return error_response(503, "the store is unavailable; try again shortly")

    @app.errorhandler(ConfigError)
    def config(exc: ConfigError) -> Response:
        log.error("configuration error: %s", exc)
        return error_response(500, "the service is misconfigured")

    @app.errorhandler(FeedsError)
    def other(exc: FeedsError) -> Response:
        log.error("unhandled service error: %s", exc)
        return error_response(500, "internal error")
