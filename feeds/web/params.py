"""Reading whole numbers from query strings and forms."""

from __future__ import annotations


def whole_number(raw: str | None, *, maximum: int = 10**9) -> int | None:
    """`raw` as a non-negative integer up to `maximum`, or None.

    Only ASCII digits count: str.isdigit() also accepts characters such as '²' that
    int() refuses, which would turn a bad query string into a 500.
    """
    if raw is None or not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        return None
    value = int(raw)
    return value if value <= maximum else None
