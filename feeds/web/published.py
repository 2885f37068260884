"""Published feeds answered from the tree: a stat, a read, headers made with the bytes.

`PublishedFeeds` sits in front of Flask as WSGI middleware: a GET or HEAD of
`/feeds/<...>.<fmt>` (or of a monthly archive, `/feeds/<...>/archive/<YYYY-MM>.<fmt>`)
with no query string, from a client that does not prefer HTML, whose file is
published, is answered here without a database, a render, a Flask
request context or a session. Everything else goes on to Flask: a feed not published
(it renders on demand), `?limit=` and `?before=` pages, another spelling of a tag (a
redirect), and browsers (see `feeds.web.negotiate`).

The answer is nginx's for the same file (config/nginx.example.conf), header for
header: `ETag` `"<hex mtime>-<hex size>"` and `Last-Modified` from the file actually
sent, the precompressed `.br` or `.gz` sibling when Accept-Encoding allows, and a 304
when every validator the request gives matches, as nginx decides it. A month that has
ended is sent with `max-age=<archive_max_age>`, as nginx's configuration sends it.
"""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

from flask import Flask, current_app

from feeds.hashtags import normalize_key
from feeds.models import FeedFormat, FeedKey, FeedKind, author_slug
from feeds.published import (
    FOLDERS,
    HEARTBEAT,
    SUFFIXES,
    PublishedTree,
    archive_relative_path,
    etag_for,
    http_date,
    relative_path,
)
from feeds.service.archives import month_range
from feeds.service.feeds import archive_path, feed_path, link_header
from feeds.settings import Settings
from feeds.web import csp
from feeds.web.httpcache import cache_control
from feeds.web.negotiate import prefers_page

PATH = re.compile(
    r"/feeds/(?:(?P<general>all|trending)|(?P<folder>[a-z]+)/(?P<name>[^/]+))"
    r"\.(?P<fmt>rss|atom|json)"
)
# A monthly archive: /feeds/all/archive/2026-03.rss, /feeds/tags/<tag>/archive/...
ARCHIVE_PATH = re.compile(
    r"/feeds/(?:(?P<general>all)|(?P<folder>[a-z]+)/(?P<name>[^/]+))"
    r"/archive/(?P<month>\d{4}-\d{2})\.(?P<fmt>rss|atom|json)"
)
KINDS = {folder: kind for kind, folder in FOLDERS.items()}
# A name whose URL form is not its canonical one is redirected by the Flask route.
CANONICAL: dict[FeedKind, Callable[[str], str]] = {
    FeedKind.TAG: normalize_key,
    FeedKind.AUTHOR: author_slug,
}
# Served by nginx as the same types (config/nginx.example.conf `types`).
CONTENT_TYPES = {fmt: fmt.media_type for fmt in FeedFormat}

# The least time without a successful publisher round before answers carry `Age`.
STALE_AFTER_SECONDS = 60.0

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# Told of every answer given here: (feed, format, status, environ).
Served = Callable[[FeedKey, FeedFormat, int, dict[str, Any]], None]


# Content codings in the order they are offered, with the file suffix of each.
CODINGS = (*SUFFIXES.items(), ("identity", ""))


def _signature(info: os.stat_result) -> tuple[int, int, int]:
    return (info.st_mtime_ns, info.st_size, info.st_ino)


@dataclass(frozen=True)
class _Prepared:
    """A published file read once, with the headers of its 200 and its 304."""

    signature: tuple[int, int, int]
    past: bool  # an archive of a month that has ended (a long max-age)
    body: bytes
    etag: str
    mtime: int
    ok: list[tuple[str, str]]
    not_modified: list[tuple[str, str]]


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@lru_cache(maxsize=1 << 16)  # pure, and paths repeat: polls ask for the same feeds
def feed_of(path_info: str) -> tuple[FeedKey, FeedFormat] | None:
    """The feed a WSGI PATH_INFO names, when it is the feed's one canonical URL."""
    return _named(PATH.fullmatch(path_info))


@lru_cache(maxsize=1 << 12)
def archive_of(path_info: str) -> tuple[FeedKey, FeedFormat, str] | None:
    """The feed and month a WSGI PATH_INFO names, when it is a monthly archive's one
    canonical URL."""
    match = ARCHIVE_PATH.fullmatch(path_info)
    found = _named(match)
    if match is None or found is None:
        return None
    try:
        month_range(match["month"])
    except ValueError:
        return None
    return found[0], found[1], match["month"]


def _named(match: re.Match[str] | None) -> tuple[FeedKey, FeedFormat] | None:
    if match is None:
        return None
    fmt = FeedFormat(match["fmt"])
    if match["general"]:
        return FeedKey(FeedKind(match["general"])), fmt
    kind = KINDS.get(match["folder"])
    if kind is None:
        return None
    try:
        # WSGI hands the decoded path as latin-1 code points of its bytes.
        name = match["name"].encode("latin-1").decode("utf-8")
    except UnicodeError:
        return None
    canonical = CANONICAL.get(kind)
    if canonical is not None and canonical(name) != name:
        return None
    return FeedKey(kind, name), fmt


def _accepts(header: str, coding: str) -> bool:
    """Whether Accept-Encoding admits `coding` (named with a quality above 0)."""
    for part in header.split(","):
        name, _, params = part.partition(";")
        if name.strip().lower() != coding:
            continue
        quality = params.strip().lower()
        if quality.startswith("q="):
            try:
                return float(quality[2:]) > 0
            except ValueError:
                return False
        return True
    return False


def _not_modified(environ: dict[str, Any], etag: str, mtime: int) -> bool:
    """nginx's rule: a 304 when each validator given matches (If-Modified-Since: the
    file is not newer; If-None-Match: `*` or the ETag, weakly compared)."""
    none_match = environ.get("HTTP_IF_NONE_MATCH")
    since = environ.get("HTTP_IF_MODIFIED_SINCE")
    if none_match is None and since is None:
        return False
    if since is not None:
        try:
            when = parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        if mtime > when.timestamp():
            return False
    if none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in none_match.split(",")}
        if "*" not in tags and etag not in tags:
            return False
    return True


class PublishedFiles:
    """Answers for published files; shared by the middleware and the Flask routes."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime]) -> None:
        self.root = settings.publish_dir
        self.settings = settings
        # Files read, with their headers; bounded like the render cache.
        self._prepared: OrderedDict[str, _Prepared] = OrderedDict()
        self._bytes = 0
        self.max_bytes = settings.cache_bytes
        self._lock = threading.Lock()
        self.clock = clock
        self.tree = PublishedTree(Path(self.root))
        # How long the store may go unconfirmed before answers say how old they are:
        # a few rounds, so a slow round is not an outage.
        self.grace = max(STALE_AFTER_SECONDS, 5 * settings.publish_interval_seconds)
        self._beat_signature: tuple[int, int, int] | None = None
        self._confirmed_at: float | None = None
        self._failing = False
        stale_if_error = settings.stale_if_error_seconds
        self._cache_control = cache_control(settings.cache_max_age, stale_if_error)
        # A month that has ended changes only when one of its articles is corrected or
        # withdrawn: nginx's configuration gives the same max-age.
        self._past_cache_control = cache_control(settings.archive_max_age, stale_if_error)
        self._common = [
            ("Vary", "Accept-Encoding, Accept"),
            ("Access-Control-Allow-Origin", "*"),
            ("Access-Control-Expose-Headers", "ETag, Last-Modified"),
            ("X-Content-Type-Options", "nosniff"),
            (csp.HEADER, csp.PUBLIC),
        ]

    def answer(
        self, key: FeedKey, fmt: FeedFormat, environ: dict[str, Any], month: str | None = None
    ) -> Answer | None:
        """The published file's answer, or None when the feed (or its `month`'s
        archive) is not published.

        A hit costs a stat: the bytes and every header but `Age` were prepared when
        the file was first read, and stay as long as the file has not changed (and,
        for an archive, its month has not ended since).
        """
        base = self._base(key, fmt, month)
        if base is None:
            return None
        try:
            past = month is not None and month_range(month)[1] <= self.clock()
        except ValueError:
            return None  # not a month: the route answers 404
        accept = environ.get("HTTP_ACCEPT_ENCODING", "")
        for coding, suffix in CODINGS:
            if suffix and not (accept and _accepts(accept, coding)):
                continue
            path = base + suffix
            try:
                info = os.stat(path)
            except (FileNotFoundError, NotADirectoryError):
                continue
            except OSError:
                return None  # unreadable: let the route try the store
            prepared = self._prepared.get(path)
            if prepared is None or (prepared.signature, prepared.past) != (_signature(info), past):
                prepared = self._prepare(path, key, fmt, coding, month, past)
                if prepared is None:
                    continue  # removed since the stat
            age = self.age()
            if _not_modified(environ, prepared.etag, prepared.mtime):
                status, headers, body = 304, prepared.not_modified, b""
            else:
                status, headers, body = 200, prepared.ok, prepared.body
                if environ.get("REQUEST_METHOD") == "HEAD":
                    body = b""
            if age is not None:
                headers = [*headers, ("Age", str(age))]
            return Answer(status, headers, body)
        return None

    def _base(self, key: FeedKey, fmt: FeedFormat, month: str | None) -> str | None:
        if month is None:
            relative = relative_path(key, fmt)
        else:
            relative = archive_relative_path(key, month, fmt)
        return None if relative is None else os.path.join(self.root, relative)

    def _prepare(
        self,
        path: str,
        key: FeedKey,
        fmt: FeedFormat,
        coding: str,
        month: str | None = None,
        past: bool = False,
    ) -> _Prepared | None:
        try:
            with open(path, "rb") as handle:
                info = os.fstat(handle.fileno())
                body = handle.read()
        except OSError:
            return None
        mtime = int(info.st_mtime)
        etag = etag_for(mtime, len(body))
        if month is None:
            self_url = self.settings.public_root + feed_path(key, fmt)
        else:
            self_url = self.settings.public_root + archive_path(key, month, fmt)
        not_modified = [
            ("ETag", etag),
            ("Last-Modified", http_date(mtime)),
            ("Cache-Control", self._past_cache_control if past else self._cache_control),
            *self._common,
            ("Link", link_header(self.settings, self_url)),
        ]
        ok = [
            *not_modified,
            ("Content-Type", CONTENT_TYPES[fmt]),
            ("Content-Length", str(len(body))),
        ]
        if coding != "identity":
            ok.append(("Content-Encoding", coding))
        prepared = _Prepared(_signature(info), past, body, etag, mtime, ok, not_modified)
        self._keep(path, prepared)
        return prepared

    def _keep(self, path: str, prepared: _Prepared) -> None:
        """Remember a prepared file, within `cache_bytes` (oldest first out)."""
        with self._lock:
            old = self._prepared.pop(path, None)
            if old is not None:
                self._bytes -= len(old.body)
            if len(prepared.body) > self.max_bytes:
                return
            self._prepared[path] = prepared
            self._bytes += len(prepared.body)
            while self._bytes > self.max_bytes:
                _, dropped = self._prepared.popitem(last=False)
                self._bytes -= len(dropped.body)

    def age(self) -> int | None:
        """Seconds since the publisher last confirmed the tree against the store, when
        that is longer ago than it should be (the store is down, or nothing publishes).

        Published files are current while the publisher's rounds succeed; once they
        stop, answers carry `Age` so caches and readers can tell. The heartbeat is read
        again only when its file changed (one stat per answer).
        """
        try:
            info = os.stat(os.path.join(self.root, HEARTBEAT))
        except OSError:
            return None  # nothing has ever published here
        signature = _signature(info)
        if signature != self._beat_signature:
            self._beat_signature = signature
            self._confirmed_at = self._confirmed()
        if self._confirmed_at is None:
            return None
        age = int(self.clock().timestamp() - self._confirmed_at)
        return age if age > self.grace or self._failing else None

    def _confirmed(self) -> float | None:
        """When the last successful round ended, by the heartbeat (None if unknown)."""
        beat = self.tree.heartbeat() or {}
        self._failing = bool(beat.get("error"))
        checked = beat.get("checked_at")
        try:
            return datetime.fromisoformat(str(checked)).timestamp() if checked else None
        except ValueError:
            return None


STATUS_LINES = {200: "200 OK", 304: "304 Not Modified"}


class PublishedFeeds:
    """WSGI middleware: published feeds answered before Flask is entered."""

    def __init__(self, app: WSGIApp, files: PublishedFiles, served: Served) -> None:
        self.app = app
        self.files = files
        self.served = served

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if (
            environ.get("REQUEST_METHOD") in ("GET", "HEAD")
            and not environ.get("QUERY_STRING")
            and environ.get("PATH_INFO", "").startswith("/feeds/")
            and not prefers_page(environ.get("HTTP_ACCEPT"))
        ):
            path = environ["PATH_INFO"]
            found = feed_of(path)
            answer = self.files.answer(*found, environ) if found else None
            if found is None and "/archive/" in path:
                archive = archive_of(path)
                answer = self.files.answer(*archive[:2], environ, archive[2]) if archive else None
                if answer is not None:
                    # Not counted as a poll of the feed: a client walking the history
                    # is no subscriber.
                    start_response(STATUS_LINES[answer.status], answer.headers)
                    return [answer.body]
            if found is not None and answer is not None:
                self.served(found[0], found[1], answer.status, environ)
                start_response(STATUS_LINES[answer.status], answer.headers)
                return [answer.body]
        return self.app(environ, start_response)


EXTENSION = "feeds_published"


def published_files() -> PublishedFiles:
    return cast(PublishedFiles, current_app.extensions[EXTENSION])


def register(app: Flask, settings: Settings) -> None:
    """Put the fast path in front of the app; the routes share its `PublishedFiles`."""
    from feeds.web.health import FEED_REQUESTS
    from feeds.web.pollstats import RECORD

    svc = app.extensions["feeds"]
    files = app.extensions[EXTENSION] = PublishedFiles(settings, svc.now)

    counters: dict[tuple[FeedFormat, int], Any] = {}

    def served(key: FeedKey, fmt: FeedFormat, status: int, environ: dict[str, Any]) -> None:
        counter = counters.get((fmt, status))
        if counter is None:
            counter = counters[fmt, status] = FEED_REQUESTS.labels(fmt.value, str(status))
        counter.inc()
        record = app.extensions.get(RECORD)  # registered after this, before any request
        if record is not None:
            user_agent = environ.get("HTTP_USER_AGENT", "")
            record(key.storage_key, user_agent, environ.get("REMOTE_ADDR", ""), status)

    app.wsgi_app = PublishedFeeds(app.wsgi_app, files, served)  # type: ignore[method-assign]
