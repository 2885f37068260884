"""Parse and normalise hashtags.

Writers run tags together (`#latest#SouthKorea`) and use every script (`#서울`, `#東京`),
so a tag is a `#` followed by letters, marks, numbers and underscores in any script,
and its identity is the NFKC-casefolded form.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from feeds.models import Hashtag

MAX_LENGTH = 100


def normalize_key(text: str) -> str:
    """The case-insensitive identity of a tag (NFKC + casefold, to a fixed point)."""
    key = unicodedata.normalize("NFKC", text).lstrip("#")
    # casefold can produce text that NFKC changes again (and the reverse); a couple of
    # rounds reach the fixed point for every code point in current Unicode.
    for _ in range(4):
        folded = unicodedata.normalize("NFKC", key.casefold())
        if folded == key:
            break
        key = folded
    return key


def _is_tag_char(char: str) -> bool:
    return char == "_" or unicodedata.category(char)[0] in "LMN"


def _starts_tag(char: str) -> bool:
    return char == "_" or unicodedata.category(char)[0] in "LN"


def parse_hashtags(text: str) -> tuple[Hashtag, ...]:
    """Tags in `text`, in order of first appearance, without duplicates by key."""
    # Normalising first means a token's display form never contains characters
    # that would split it differently when parsed again.
    text = unicodedata.normalize("NFKC", text)
    found: dict[str, Hashtag] = {}
    position = 0
    length = len(text)
    while True:
        start = text.find("#", position)
        if start < 0 or start + 1 >= length:
            break
        end = start + 1
        if not _starts_tag(text[end]):
            position = end
            continue
        while end < length and _is_tag_char(text[end]):
            end += 1
        display = text[start + 1 : end][:MAX_LENGTH]
        key = normalize_key(display)
        if key and key not in found:
            found[key] = Hashtag(key=key, display=display)
        position = end
    return tuple(found.values())


def hashtag(value: str) -> Hashtag:
    """One tag from a string such as `SouthKorea` or `#SouthKorea`; raises ValueError."""
    tags = parse_hashtags("#" + value.strip().lstrip("#"))
    if len(tags) != 1 or len(tags[0].display) != len(
        unicodedata.normalize("NFKC", value.strip().lstrip("#"))
    ):
        raise ValueError(f"{value!r} is not a single hashtag")
    return tags[0]


def merge(*groups: Iterable[Hashtag]) -> tuple[Hashtag, ...]:
    """Concatenate tag lists, keeping the first display form of each key."""
    seen: dict[str, Hashtag] = {}
    for group in groups:
        for tag in group:
            seen.setdefault(tag.key, tag)
    return tuple(seen.values())
