"""Conditional GET, compression and the caching headers every feed response carries."""

from __future__ import annotations

from flask import Request, Response

from feeds.feedcache import CachedFeed, FeedCache

# A suffix per content coding keeps each representation's ETag distinct, as a strong
# validator must be; 304 decisions compare the content hash before the first "-",
# shared by all of them.
CODING_SUFFIX = {"identity": "", "gzip": "-gzip", "br": "-br"}


def choose_coding(request: Request) -> str:
    accept = request.accept_encodings
    for coding in ("br", "gzip"):
        if accept.quality(coding) > 0:
            return coding
    return "identity"


def _variant_etag(etag: str, coding: str) -> str:
    return etag[:-1] + CODING_SUFFIX[coding] + '"'


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


def cache_control(max_age: int, stale_if_error: int) -> str:
    """Feeds' Cache-Control, the same for published and rendered answers.

    stale-if-error (RFC 5861) lets caches keep answering with their copy while this
    service answers errors (the database down, and a feed not published).
    """
    return f"public, max-age={max_age}, stale-if-error={stale_if_error}"


def feed_response(
    request: Request, entry: CachedFeed, cache: FeedCache, max_age: int, stale_if_error: int
) -> Response:
    coding = choose_coding(request)
    headers = {
        "ETag": _variant_etag(entry.etag, coding),
        "Cache-Control": cache_control(max_age, stale_if_error),
        # A feed's URL also answers a browser with its HTML page (feeds.web.feedpage):
        # shared caches keep the page and the feed apart.
        "Vary": "Accept-Encoding, Accept",
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
    response.content_type = entry.media_type
    if coding != "identity":
        response.headers["Content-Encoding"] = coding
    return response
