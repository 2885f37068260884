"""Resolving URLs and srcset candidates; shared by the feed writers and the ingest sanitiser."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

# An absolute URL with a host, its scheme in lower case, and nothing that parsing it
# again would drop or change (an empty query, fragment or parameters, brackets, the
# tab and line breaks urlsplit removes): urljoin would hand it back as it is.
_PLAIN_ABSOLUTE = re.compile(r"[a-z][a-z0-9+.\-]*://[^/?#\[\]]")
_REPARSED = re.compile(r"[;?#\[\]\t\r\n]")
# A base whose origin a root-relative reference keeps: urljoin resolves against
# http(s) bases only by these rules.
_WEB_BASE = re.compile(r"https?://[^/?#\[\]]")


def absolute_url(url: str, base: str) -> str:
    """Resolve *url* against *base* per RFC 3986; absolute URLs come back unchanged.

    An empty reference stays empty (an ``<img src="">`` should not become the article
    page), and a reference that urljoin cannot parse is returned as given.
    """
    stripped = url.strip()
    if not stripped:
        return url
    if plain_absolute(stripped):
        # Most URLs a feed shows are absolute already: skip parsing them and the base
        # (tests/test_render_content.py checks this agrees with urljoin).
        return stripped
    if (
        stripped[0] == "/"
        and stripped[1:2] != "/"
        and "/." not in stripped  # dot segments are urljoin's to remove
        and _unparsed(stripped)
        and _WEB_BASE.match(base)
        and plain_absolute(base)
    ):
        # A path from the root (a newsroom's images are "/media/..."): the base's
        # scheme and host, then the path, as urljoin gives it.
        end = _path_start(base)
        return (base if end < 0 else base[:end]) + stripped
    try:
        return urljoin(base, stripped)
    except ValueError:
        return url


def plain_absolute(url: str) -> bool:
    """Whether *url* is absolute with a host, in a form urljoin hands back unchanged
    whatever the base (so it need not be parsed), its scheme being what precedes ":"."""
    return bool(_PLAIN_ABSOLUTE.match(url)) and _unparsed(url)


def _unparsed(text: str) -> bool:
    """Whether *text* holds nothing a URL parser would read apart or drop."""
    return text.isascii() and not _REPARSED.search(text)


def _path_start(url: str) -> int:
    """Where a plain absolute URL's path starts (-1: it has none)."""
    return url.find("/", url.index("://") + 3)


def url_path(url: str) -> str:
    """`urlsplit(url).path`; a plain absolute URL's is read off without parsing it (no
    query, fragment or parameters follow its path)."""
    if plain_absolute(url):
        start = _path_start(url)
        return url[start:] if start >= 0 else ""
    return urlsplit(url).path


def absolutize_srcset(srcset: str, base: str) -> str:
    """Resolve each image candidate of a ``srcset`` value, keeping its descriptor."""
    candidates = []
    for url, descriptor in parse_srcset(srcset):
        resolved = absolute_url(url, base)
        candidates.append(f"{resolved} {descriptor}" if descriptor else resolved)
    return ", ".join(candidates)


def parse_srcset(value: str) -> list[tuple[str, str]]:
    """Split a srcset into (url, descriptor) pairs, following the WHATWG outline.

    A URL is a run of non-space characters and may itself contain commas; trailing
    commas end the candidate. Descriptors run to the next comma outside parentheses.
    """
    pairs: list[tuple[str, str]] = []
    pos, end = 0, len(value)
    while pos < end:
        while pos < end and (value[pos].isspace() or value[pos] == ","):
            pos += 1
        start = pos
        while pos < end and not value[pos].isspace():
            pos += 1
        url = value[start:pos]
        if not url:
            break
        if url.endswith(","):
            pairs.append((url.rstrip(","), ""))
            continue
        depth, start = 0, pos
        while pos < end and not (value[pos] == "," and depth == 0):
            depth += {"(": 1, ")": -1}.get(value[pos], 0)
            pos += 1
        pairs.append((url, " ".join(value[start:pos].split())))
        pos += 1
    return pairs
