"""JSON answers written by their declared models (feeds.service answer models)."""

from __future__ import annotations

from typing import Any

from flask import Response

from feeds.service.payload import Answer


def answer(model: type[Answer], value: Any, status: int = 200) -> Response:
    """*value* (a dataclass or a mapping of the fields) as *model*'s JSON."""
    return Response(model.json_bytes(value), status=status, mimetype="application/json")
