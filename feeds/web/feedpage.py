"""The human view: a browser navigating to a feed's URL gets an HTML page about the feed.

Browsers rank text/html above every feed type in their Accept header; feed readers do
not (they name the feed types, or accept anything equally), so they keep the feed. The
page is a representation of the same URL, so it has its own validators and the feed
responses say `Vary: Accept`. It runs no script (the public policy forbids it): the
address to copy is a read-only text field.
"""

from __future__ import annotations

from flask import Request, Response, abort, render_template, request

from feeds.errors import NotFound
from feeds.service.feed_page import FeedPage
from feeds.service.feeds import FeedRequest
from feeds.web import service
from feeds.web.httpcache import feed_response
from feeds.web.negotiate import prefers_page


def wants_page(req: Request) -> bool:
    return prefers_page(req.headers.get("Accept"))


def _render(page: FeedPage) -> str:
    return render_template("feed_page.html", page=page, settings=service().settings)


def page_response(feed_request: FeedRequest) -> Response:
    svc = service()
    try:
        entry = svc.feed_pages.get(feed_request, _render)
    except NotFound as exc:
        abort(404, str(exc))
    settings = svc.settings
    return feed_response(
        request, entry, svc.cache, settings.cache_max_age, settings.stale_if_error_seconds
    )
