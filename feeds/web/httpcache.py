"""Conditional GET, compression and the caching headers every feed response carries."""

from __future__ import annotations

from flask import Request, Response

from feeds.feedcache import CachedFeed, FeedCache

# A suffix per content coding (and one for the application/xml variant served to
# browsers) keeps each representation's ETag distinct, as a strong validator must be;
# 304 decisions compare the content hash before the first "-", shared by all of them.
CODING_SUFFIX = {"identity": "", "gzip": "-gzip", "br": "-br"}
BROWSER_SUFFIX = "-xml"


def choose_coding(request: Request) -> str:
    accept = request.accept_encodings
    for coding in ("br", "gzip"):
        if accept.quality(coding) > 0:
            return coding
    return "identity"


XML_FEED_TYPES = ("application/rss+xml", "application/atom+xml")
BROWSER_XML_TYPE = "application/xml; charset=utf-8"


def media_type_for(request: Request, media_type: str) -> str:
    """The Content-Type to send: a browser opening an RSS or Atom feed gets application/xml.

    Chromium shows application/rss+xml and application/atom+xml documents as raw text
    and never applies the feed's stylesheet, while it does for application/xml. A
    browser navigating ranks text/html above the feed's own type; feed readers do not,
    so they keep the feed type.
    """
    feed_type = media_type.split(";", 1)[0]
    if feed_type not in XML_FEED_TYPES:
        return media_type
    accept = request.accept_mimetypes
    if accept.quality("text/html") > accept.quality(feed_type):
        return BROWSER_XML_TYPE
    return media_type


def _variant_etag(etag: str, coding: str, browser: bool) -> str:
    return etag[:-1] + (BROWSER_SUFFIX if browser else "") + CODING_SUFFIX[coding] + '"'


def _base_hashes(request: Request) -> set[str]:
    # Content hashes are hex digits, so everything from the first "-" is a suffix. An
    # empty tag ("" or W/"") comes back as None: it matches nothing.
    tags = request.if_none_match.as_set(include_weak=True)
    return {tag.split("-", 1)[0] for tag in tags if tag}


def not_modified(request: Request, entry: CachedFeed) -> bool:
    if request.if_none_match:
        if request.if_none_match.star_tag:
            return True
        return entry.etag.strip('"') in _base_hashes(request)
    since = request.if_modified_since
    return since is not None and entry.last_modified <= since


def feed_response(request: Request, entry: CachedFeed, cache: FeedCache, max_age: int) -> Response:
    coding = choose_coding(request)
    is_xml = entry.media_type.split(";", 1)[0] in XML_FEED_TYPES
    media_type = media_type_for(request, entry.media_type)
    headers = {
        "ETag": _variant_etag(entry.etag, coding, media_type != entry.media_type),
        "Cache-Control": f"public, max-age={max_age}",
        # XML feeds also vary by Accept (see media_type_for): shared caches keep both.
        "Vary": "Accept-Encoding, Accept" if is_xml else "Accept-Encoding",
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Expose-Headers": "ETag, Last-Modified",
        "X-Content-Type-Options": "nosniff",
    }
    response = Response(status=304, headers=headers)
    response.last_modified = entry.last_modified
    if not_modified(request, entry):
        return response
    body = cache.encoded(entry, coding)
    response.status_code = 200
    response.set_data(body)
    response.content_type = media_type
    if coding != "identity":
        response.headers["Content-Encoding"] = coding
    return response
