"""URL slugs made from titles, for articles written through the API and ingested alike.

An author feed's slug is `feeds.models.author_slug`: an identity, not a title."""

from __future__ import annotations

import re
import unicodedata


def slugify(text: str) -> str:
    """Lowercase ASCII words joined by hyphens, at most 80 characters; "article" if none."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:80].strip("-") or "article"
