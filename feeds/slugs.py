"""URL slugs made from titles, for articles written through the API and ingested alike."""

from __future__ import annotations

import re
import unicodedata


def slugify(text: str) -> str:
    """Lowercase ASCII words joined by hyphens, at most 80 characters; "article" if none."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:80].strip("-") or "article"


# An author's slug is an identity, not a title: it keeps every script (a byline in
# Hangul gets its own feed rather than the shared fallback) and ignores case and spacing.
AUTHOR_SLUG_LENGTH = 100


def author_slug(name: str) -> str:
    """The author feed's slug: NFKC, casefolded, words joined by hyphens ("" if none)."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    slug = re.sub(r"[\W_]+", "-", folded).strip("-")
    return slug[:AUTHOR_SLUG_LENGTH].strip("-")
