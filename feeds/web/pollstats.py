"""Counting who polls each feed, from an after_request hook on the feed routes.

The hook does one dict lookup for every other request and one locked dict update for a
feed response; nothing touches the database on the feed hot path. A background thread
(started with the first feed response) adds the counts to the store every
`poller_flush_seconds`; the dashboard flushes before it reads.
"""

from __future__ import annotations

import atexit
import logging
import threading
from typing import cast

from flask import Flask, Response, current_app, request

from feeds.models import FeedKey, FeedKind
from feeds.service import Service
from feeds.service.pollers import PollerStats
from feeds.web.feedpage import wants_page

log = logging.getLogger(__name__)

ENDPOINTS = {
    "feeds.all_feed": (FeedKind.ALL, None),
    "feeds.trending_feed": (FeedKind.TRENDING, None),
    "feeds.section_feed": (FeedKind.SECTION, "slug"),
    "feeds.tag_feed": (FeedKind.TAG, "tag"),
    "feeds.custom_feed": (FeedKind.CUSTOM, "slug"),
    "feeds.author_feed": (FeedKind.AUTHOR, "slug"),
}
EXTENSION = "feeds_pollers"
# The function that counts one feed response (the published fast path calls it too).
RECORD = "feeds_pollers_record"


class Flusher:
    """Adds a process's poller counts to the store from a daemon thread."""

    def __init__(self, svc: Service, stats: PollerStats) -> None:
        self.svc, self.stats = svc, stats
        self.started = False
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def start(self) -> None:
        with self._lock:
            if self.started:
                return
            self.started = True
        thread = threading.Thread(target=self._run, name="poller-flush", daemon=True)
        thread.start()
        atexit.register(self.flush)  # what the last interval counted is not lost

    def _run(self) -> None:
        while not self._stop.wait(self.svc.settings.poller_flush_seconds):
            if self.svc.closed:
                return
            self.flush()

    def flush(self) -> None:
        if self.svc.closed:
            return  # the app was shut down; its store is no longer ours to write
        try:
            self.svc.pollers.flush(self.stats)
        except Exception:  # a store hiccup costs one interval's counts, never the thread
            log.warning("could not store poller counts", exc_info=True)

    def stop(self) -> None:
        self._stop.set()


def poller_stats() -> PollerStats:
    return cast(PollerStats, current_app.extensions[EXTENSION])


def register(app: Flask) -> None:
    svc = cast(Service, app.extensions["feeds"])
    stats = PollerStats(svc.now)
    flusher = Flusher(svc, stats)
    app.extensions[EXTENSION] = stats

    def record(feed: str, user_agent: str, address: str, status: int) -> None:
        stats.record(feed, user_agent, address, status)
        if not flusher.started:
            flusher.start()

    app.extensions[RECORD] = record

    @app.after_request
    def count_poller(response: Response) -> Response:
        found = ENDPOINTS.get(request.endpoint or "")
        # Only feeds that exist: counting 404s would let anyone grow the table at will.
        if found is None or response.status_code not in (200, 304):
            return response
        if wants_page(request):
            return response  # a person reading the feed's page, not a poller
        kind, arg = found
        value = str((request.view_args or {}).get(arg, "")) if arg else ""
        record(
            FeedKey(kind, value).storage_key,
            request.headers.get("User-Agent", ""),
            request.remote_addr or "",
            response.status_code,
        )
        return response
