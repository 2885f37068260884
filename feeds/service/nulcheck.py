"""Finding NUL characters in a payload before it reaches the store.

PostgreSQL cannot store NUL in text (SQLite can), so a NUL anywhere would otherwise
fail only on one database, and only at the write. Validators call this to refuse it
naming the field, on every database alike.
"""

from __future__ import annotations

from typing import Any

PROBLEM = "must not contain NUL characters"


def fields_with_nul(data: Any, prefix: str = "") -> dict[str, str]:
    """{field path: problem} for every string (or key) in *data* that holds a NUL.

    Paths read like the validators' own: `title`, `categories.Politics`, `hashtags[2]`.
    """
    found: dict[str, str] = {}
    if isinstance(data, str):
        if "\x00" in data:
            found[prefix or "body"] = PROBLEM
    elif isinstance(data, dict):
        for key, value in data.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(key, str) and "\x00" in key:
                found[name.replace("\x00", "\\0")] = PROBLEM
                continue
            found |= fields_with_nul(value, name)
    elif isinstance(data, list | tuple):
        for position, value in enumerate(data):
            found |= fields_with_nul(value, f"{prefix}[{position}]")
    return found
