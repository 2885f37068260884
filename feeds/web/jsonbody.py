"""Reading a request's JSON body, bounded in nesting depth.

No payload of ours nests more than a few levels. A deeper document is refused before
it is parsed: Python's parser recurses once per level and fails with RecursionError
near a thousand, and code walking the result would recurse as deeply again.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import request

MAX_DEPTH = 32
# A JSON string, escapes included: brackets inside one do not nest anything.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_BRACKET = re.compile(r"[\[\]{}]")


class BadJSON(Exception):
    """The body is not JSON we accept; the message says why (answered 400)."""


def nesting_depth_exceeds(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether arrays and objects in *text* nest deeper than *limit* (stops early)."""
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub('""', text)):
        if match.group() in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def json_body() -> Any:
    """The request's JSON; a body that is not JSON, or nests too deeply, is a 400."""
    if not request.is_json:
        raise BadJSON("the body must be JSON (Content-Type: application/json)")
    raw = request.get_data(cache=True)
    try:
        text = raw.decode(json.detect_encoding(raw))
    except (UnicodeDecodeError, LookupError):
        raise BadJSON("the body is not UTF-8, UTF-16 or UTF-32 JSON") from None
    if nesting_depth_exceeds(text):
        raise BadJSON(f"the body is nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise BadJSON("the body must be JSON (Content-Type: application/json)") from None
