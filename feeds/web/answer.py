"""JSON answers written by their declared models (feeds.service answer models)."""

from __future__ import annotations

from typing import Any

from flask import Response

from feeds.service.payload import Answer


def answer(model: type[Answer], value: Any, status: int = 200, **context: Any) -> Response:
    """*value* (a dataclass or a mapping of the fields) as *model*'s JSON; *context*
    reaches the model's validators (what the face adds, such as a feed's addresses)."""
    body = model.json_bytes(value, **context)
    return Response(body, status=status, mimetype="application/json")
