"""Counting who polls each feed, from an after_request hook on the feed routes.

The hook does one dict lookup for every other request and one locked dict update for a
feed response; nothing touches the database on the feed hot path.
"""

from __future__ import annotations

from typing import cast

from flask import Flask, Response, current_app, request

from feeds.models import FeedKey, FeedKind
from feeds.service import Service
from feeds.service.pollers import PollerStats

ENDPOINTS = {
    "feeds.all_feed": (FeedKind.ALL, None),
    "feeds.trending_feed": (FeedKind.TRENDING, None),
    "feeds.section_feed": (FeedKind.SECTION, "slug"),
    "feeds.tag_feed": (FeedKind.TAG, "tag"),
    "feeds.custom_feed": (FeedKind.CUSTOM, "slug"),
    "feeds.author_feed": (FeedKind.AUTHOR, "slug"),
}
EXTENSION = "feeds_pollers"


def poller_stats() -> PollerStats:
    return cast(PollerStats, current_app.extensions[EXTENSION])


def register(app: Flask) -> None:
    svc = cast(Service, app.extensions["feeds"])
    stats = PollerStats(svc.ctx.now)
    app.extensions[EXTENSION] = stats

    @app.after_request
    def count_poller(response: Response) -> Response:
        found = ENDPOINTS.get(request.endpoint or "")
        # Only feeds that exist: counting 404s would let anyone grow the table at will.
        if found is None or response.status_code not in (200, 304):
            return response
        kind, arg = found
        value = str((request.view_args or {}).get(arg, "")) if arg else ""
        stats.record(
            FeedKey(kind, value).storage_key,
            request.headers.get("User-Agent", ""),
            request.remote_addr or "",
            response.status_code,
        )
        return response
