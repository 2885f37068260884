"""The one image an outside entry is shown with, from whatever the feed offers.

What this module does not do: fetch the image or learn its size (fetch.py probes sizes
the feed did not state).
"""

from __future__ import annotations

import html
import mimetypes
import re

from feeds.ingest.parsed import MediaRef, ParsedEntry
from feeds.ingest.sanitize import safe_url
from feeds.models import Image
from feeds.urls import url_path

# Sanitised HTML always quotes attribute values with ", so plain patterns can read it.
_IMG = re.compile(r"<img\b[^>]*>")
_SRC = re.compile(r'\ssrc="([^"]+)"')
_ALT = re.compile(r'\salt="([^"]*)"')
_IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif", ".svg")


def pick_image(entry: ParsedEntry, content_html: str) -> Image | None:
    """Enclosure, then media:content, then media:thumbnail, then the first <img>."""
    candidates = [m for m in entry.enclosures if _is_image(m)]
    candidates += [m for m in entry.media_content if _is_image(m)]
    candidates += list(entry.media_thumbnails)
    for media in candidates:
        url = safe_url(media.url, entry.content_base)
        if url:
            mime = media.type or _guess_type(url)
            return Image(url=url, mime_type=mime, length=media.length or None)
    for tag in _IMG.findall(content_html):
        src, alt = _SRC.search(tag), _ALT.search(tag)
        if src:
            url = html.unescape(src.group(1))
            alt_text = html.unescape(alt.group(1)) if alt else ""
            return Image(url=url, mime_type=_guess_type(url), length=None, alt=alt_text)
    return None


def _is_image(media: MediaRef) -> bool:
    if media.medium or media.type:
        return media.medium == "image" or media.type.startswith("image/")
    return url_path(media.url).lower().endswith(_IMAGE_EXTENSIONS)


def _guess_type(url: str) -> str:
    # An image whose type nobody stated: JPEG is by far the most common, and readers sniff.
    return mimetypes.guess_type(url_path(url))[0] or "image/jpeg"
