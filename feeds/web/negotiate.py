"""Who gets a feed URL's page instead of the feed: the one place that decides it.

A browser navigating to a feed ranks text/html above the feed types; feed readers do
not. Such a request gets the page for the feed (feeds.web.feedpage) from the Flask
route; the published fast path and nginx (a map on `$http_accept`) hand it on.
"""

from __future__ import annotations

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json")


def prefers_page(accept: str | None) -> bool:
    """Whether an Accept header ranks text/html above every feed type."""
    # Most feed readers never name HTML: decided without parsing.
    if not accept or "html" not in accept.lower():
        return False
    ranked = parse_accept_header(accept, MIMEAccept)
    html = ranked.quality("text/html")
    return html > 0 and all(html > ranked.quality(kind) for kind in FEED_TYPES)
