"""The publisher: every feed whose version moved, rendered once, written to the tree.

A round compares each feed that exists with what the tree's manifest says was published
for it: a feed never published, one whose version moved (an article written or
withdrawn, an ingest, a tag-feed rule changed), one whose next change by time alone has
come (a scheduled article coming due) and trending whose window slid are rendered, in
every format from one query, each within `publish_timeout_seconds`, and written with
their compressed variants (see feeds.published). A render whose content is the same as
the one published (a version moved by a change nobody can see) leaves the files and
their validators alone. Feeds that no longer exist are removed. A feed that came into
being since the last round (a new hashtag, author or tag feed) is found by the version
row its write made, so it is published by the next round; listing every feed there is
(`discover`) runs every few minutes as the repair path.

A round reads the version rows that moved since the last round (`moved_at`, indexed) and
those whose next change has come, not every feed's: its cost follows what changed, not
how many feeds there are. The rows it reads are those moved at or after the last round's
start less `MOVED_MARGIN`, which covers a write that took its time before that round
read and committed after it (on PostgreSQL a later-stamped write can become visible
first); the bound relied on is that a write commits within `MOVED_MARGIN` of the time it
stamps, by this clock. Every row is read on the first round, with `everything`, after
another process published this tree, and every `FULL_READ_EVERY` as the backstop for
anything that bound missed.

The publisher does not serve anything and never runs on a request: `feeds scheduler`
runs it every `publish_interval_seconds` and right after each ingest, `feeds serve`
in a thread of its own, and `feeds publish` by hand. One round at a time runs on a tree,
even across processes (a file lock).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from feeds.errors import FeedsError, NotFound, StorageError
from feeds.models import FeedFormat, FeedKey, FeedKind
from feeds.published import PublishedTree, Record, etag_for, relative_path
from feeds.service.archive_publish import ArchivePublisher
from feeds.service.archives import ArchiveService
from feeds.service.bounded import bounded
from feeds.service.context import Context
from feeds.service.feedkeys import ALL, TRENDING, query_for
from feeds.service.feeds import FeedService, RenderedFeed
from feeds.store import feedquery
from feeds.store import hashtags as hashtag_store
from feeds.store import sections as section_store
from feeds.store import tagfeeds as tagfeed_store
from feeds.store import versions as version_store

log = logging.getLogger(__name__)
# Called after each format of a feed is published, with the file and its validators.
PublishHook = Callable[[FeedKey, FeedFormat, Path, str, datetime], None]
# How long before a round's start a row's move may be stamped and still be read by the
# next round: writes stamp their clock and commit within a second or two (SQLite's busy
# timeout is 10 s), so a minute covers them and small clock differences between processes.
MOVED_MARGIN = timedelta(seconds=60)
# Every this long a round reads every version row, whatever moved.
FULL_READ_EVERY = timedelta(minutes=10)


@dataclass(frozen=True)
class PublishReport:
    """What one round did, feed by feed."""

    published: tuple[FeedKey, ...] = ()
    unchanged: tuple[FeedKey, ...] = ()  # moved, but rendered to the same content
    removed: tuple[FeedKey, ...] = ()
    failed: tuple[tuple[FeedKey, str], ...] = ()
    waiting: int = 0  # feeds never published, left for later rounds
    # Monthly archives written, removed (emptied) and failed, as `<feed>/<YYYY-MM>`.
    archives: tuple[str, ...] = ()
    archives_removed: tuple[str, ...] = ()
    archives_failed: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "published": [key.storage_key for key in self.published],
            "unchanged": [key.storage_key for key in self.unchanged],
            "removed": [key.storage_key for key in self.removed],
            "failed": [{"feed": key.storage_key, "error": error} for key, error in self.failed],
            "waiting": self.waiting,
            "archives": {
                "published": list(self.archives),
                "removed": list(self.archives_removed),
                "failed": [{"archive": a, "error": e} for a, e in self.archives_failed],
            },
        }


@dataclass(frozen=True)
class PublisherStatus:
    """The publisher's heartbeat, as any process reading the tree sees it."""

    beat_at: datetime | None = None  # the last round's end, successful or not
    checked_at: datetime | None = None  # the last round that compared every feed
    error: str | None = None  # why the last round failed; None when it did not

    def to_dict(self) -> dict[str, str | None]:
        return {
            "beat_at": self.beat_at.isoformat() if self.beat_at else None,
            "checked_at": self.checked_at.isoformat() if self.checked_at else None,
            "error": self.error,
        }


@dataclass
class _Round:
    published: list[FeedKey] = field(default_factory=list)
    unchanged: list[FeedKey] = field(default_factory=list)
    removed: list[FeedKey] = field(default_factory=list)
    failed: list[tuple[FeedKey, str]] = field(default_factory=list)


class Publisher:
    def __init__(
        self, ctx: Context, feeds: FeedService, archives: ArchiveService | None = None
    ) -> None:
        self.ctx = ctx
        self.feeds = feeds
        self.tree = PublishedTree(Path(ctx.settings.publish_dir))
        self.archives = ArchivePublisher(ctx, archives or ArchiveService(ctx, feeds), self.tree)
        self.hooks: list[PublishHook] = []
        self._records: dict[FeedKey, Record] = {}
        self._stamp: int | None = None
        self._known: list[FeedKey] | None = None
        # When the last round started and the last that read every version row did, to
        # read only the rows moved since.
        self._read_at: datetime | None = None
        self._full_at: datetime | None = None
        self._bucket: datetime | None = None
        self._failed: set[FeedKey] = set()
        # Version rows of feeds that did not exist when looked at (a deleted tag feed, a
        # hashtag only a scheduled article carries), with the version seen and when its
        # first scheduled article comes due: looked at again only once the version moves
        # or that time comes, or when the next discovery starts over.
        self._absent: dict[FeedKey, tuple[int, datetime | None]] = {}
        self._lock = threading.Lock()

    def add_hook(self, hook: PublishHook) -> None:
        """Call `hook(key, fmt, path, etag, last_modified)` after each publish."""
        self.hooks.append(hook)

    def current(self, key: FeedKey, fmt: FeedFormat) -> bytes | None:
        """The published bytes of a feed when they hold its current version, else None
        (never published, or moved since the last round)."""
        record = self._records.get(key) or self.tree.record_of(key)
        path = self.tree.path(key, fmt)
        if record is None or path is None:
            return None
        try:
            if record.token != self.feeds.token(key, self.feeds.current(key)):
                return None
            return path.read_bytes()
        except (NotFound, OSError):
            return None

    # -- status -------------------------------------------------------------------------

    def status(self) -> PublisherStatus:
        """The heartbeat of whichever process publishes this tree."""
        beat = self.tree.heartbeat() or {}

        def instant(name: str) -> datetime | None:
            value = beat.get(name)
            try:
                return datetime.fromisoformat(value) if isinstance(value, str) else None
            except ValueError:
                return None

        error = beat.get("error")
        return PublisherStatus(
            instant("beat_at"), instant("checked_at"), error if isinstance(error, str) else None
        )

    def _beat(self, error: str | None) -> None:
        now = self.ctx.now().isoformat()
        checked = now if error is None else self.status().to_dict()["checked_at"]
        try:
            self.tree.beat({"beat_at": now, "checked_at": checked, "error": error})
        except OSError as exc:
            log.error("cannot write the publisher heartbeat: %s", exc)

    # -- a round ------------------------------------------------------------------------

    def run(
        self, *, everything: bool = False, new_limit: int | None = None, discover: bool = True
    ) -> PublishReport:
        """Publish every feed that moved, then up to `new_limit` never published.

        `everything` renders and rewrites every feed, whatever the manifest says.
        Without `discover`, the round does not list every author and hashtag (that reads
        more than a round should every few seconds): it looks at the feeds the last
        discovering round found, plus those whose version row appeared since (writes make
        a feed's row in their own transaction, so a new hashtag or author shows up in the
        versions the round reads anyway). Discovery stays the repair path.
        """
        with self._lock, self.tree.locked():
            try:
                report = self._round(everything, new_limit, discover)
            except FeedsError as exc:
                self._beat(str(exc))
                raise
            self._beat(None)
            return report

    def _round(self, everything: bool, new_limit: int | None, discover: bool) -> PublishReport:
        stamp = self.tree.manifest_stamp()
        # The first round, or another process published meanwhile: read the manifest,
        # and check its feeds' files are there (a tree copied or partly wiped).
        verify = stamp != self._stamp
        if verify:
            self._records = self.tree.records()
        now = self.ctx.now()
        if discover or self._known is None:
            self._known = self._existing(now)
            self._absent = {}
        full = everything or verify or self._full_due(now)
        with self.ctx.store.read() as conn:
            versions = version_store.snapshot(conn) if full else self._moved_rows(conn, now)
        self._known.extend(self._appeared(versions, now))
        existing = self._known
        moved: list[FeedKey] = [key for key in self._failed if key in self._records]
        new: list[FeedKey] = []
        for key in existing:
            record = self._records.get(key)
            if record is None:
                new.append(key)
            elif key in moved or (not full and key not in versions):
                continue  # not moved since the last round
            elif (
                everything
                or self._moved(key, record, versions.get(key), now)
                or (verify and not self._complete(key))
            ):
                moved.append(key)
        waiting = 0
        if new_limit is not None and len(new) > new_limit:
            waiting = len(new) - new_limit
            new = new[:new_limit]
        done = _Round()
        for key in moved + new:
            self._publish(key, everything, done)
        present = set(existing)
        for key in [key for key in self._records if key not in present]:
            self._remove(key, done)
        # Archives of the feeds that are published: the months writes moved, and every
        # month of a feed published for the first time (or of every feed, with --all).
        first = set(new) & set(done.published)
        months = self.archives.run(
            [key for key in existing if key in self._records],
            [key for key in existing if key in self._records and (everything or key in first)],
        )
        self._stamp = self.tree.manifest_stamp()
        self._read_at, self._bucket = now, self.feeds.trending_bucket(now)
        if full:
            self._full_at = now
        self._failed = {key for key, _ in done.failed}
        return PublishReport(
            tuple(done.published),
            tuple(done.unchanged),
            tuple(done.removed),
            tuple(done.failed),
            waiting,
            tuple(months.published),
            tuple(months.removed),
            tuple(months.failed),
        )

    def _full_due(self, now: datetime) -> bool:
        """Whether this round reads every version row: the first, or the backstop's time
        came (or the clock went back past the last one)."""
        if self._read_at is None or self._full_at is None:
            return True
        return not self._full_at <= now < self._full_at + FULL_READ_EVERY

    def _moved_rows(self, conn: Connection, now: datetime) -> version_store.Versions:
        """The version rows that can differ from what the last round saw; when there are
        none (a quiet store), found by two index lookups and no row read."""
        assert self._read_at is not None
        since = self._read_at - MOVED_MARGIN
        # Trending's token names its window: a slid window moves it with no write.
        extra = [TRENDING] if self.feeds.trending_bucket(now) != self._bucket else []
        # A feed found absent comes into being when its first article comes due.
        extra += [key for key, (_, at) in self._absent.items() if at is not None and at <= now]
        latest, soonest = version_store.marks(conn)
        if not extra and (latest is None or latest < since) and (soonest is None or soonest > now):
            return {}
        return version_store.moved_since(conn, since, now) | version_store.of(conn, extra)

    def _existing(self, now: datetime) -> list[FeedKey]:
        """Every feed there is, the few general ones first, that can be a file."""
        with self.ctx.store.read() as conn:
            keys = [ALL, TRENDING]
            keys += [FeedKey(FeedKind.SECTION, s.slug) for s in section_store.all_sections(conn)]
            keys += [FeedKey(FeedKind.CUSTOM, f.slug) for f in tagfeed_store.all_feeds(conn)]
            authors = feedquery.authors_in_use(conn, now, self.ctx.settings.include_sponsored)
            keys += [FeedKey(FeedKind.AUTHOR, slug) for slug, _, _ in authors]
            keys += [FeedKey(FeedKind.TAG, tag) for tag in hashtag_store.feed_keys(conn, now)]
        # A hashtag too long for a file name renders on request instead.
        return [key for key in keys if relative_path(key, FeedFormat.RSS) is not None]

    def _appeared(
        self, versions: dict[FeedKey, tuple[int, datetime | None]], now: datetime
    ) -> list[FeedKey]:
        """The feeds whose version rows are not among the known feeds and that exist now:
        what writes created since the last discovery (a new hashtag, author, tag feed).
        One existence check each, once per version of a row."""
        assert self._known is not None
        if not versions:
            return []  # a quiet round: no set of every known feed to build
        known = set(self._known) | set(self._records)

        def unseen(key: FeedKey, number: int) -> bool:
            if key in known or relative_path(key, FeedFormat.RSS) is None:
                return False
            absent = self._absent.get(key)
            if absent is None or absent[0] != number:
                return True
            return absent[1] is not None and absent[1] <= now  # its first article came due

        candidates = [(key, n) for key, (n, _) in versions.items() if unseen(key, n)]
        found: list[FeedKey] = []
        if not candidates:
            return found
        with self.ctx.read() as conn:  # one connection for every check
            for key, number in sorted(candidates, key=lambda pair: pair[0].storage_key):
                try:
                    self.feeds.identify(key, now)
                except NotFound:
                    self._absent[key] = (number, self._first_due(conn, key, now))
                    continue
                self._absent.pop(key, None)
                found.append(key)
        return found

    def _first_due(self, conn: Connection, key: FeedKey, now: datetime) -> datetime | None:
        """When a hashtag's or author's feed that does not exist yet comes into being: its
        first scheduled article's time (no write moves its version then)."""
        if key.kind not in (FeedKind.TAG, FeedKind.AUTHOR):
            return None
        return feedquery.next_pending(conn, query_for(key, self.ctx.settings, now), now)

    def _moved(
        self,
        key: FeedKey,
        record: Record,
        version: tuple[int, datetime | None] | None,
        now: datetime,
    ) -> bool:
        if version is None:  # the store was replaced under the tree
            return True
        number, next_change = version
        if next_change is not None and next_change <= now:
            return True
        return self.feeds.token_of(key, number, now) != record.token

    def _publish(self, key: FeedKey, everything: bool, done: _Round) -> None:
        record = self._records.get(key)
        after = record.last_modified if record else None
        seconds = self.ctx.settings.publish_timeout_seconds
        try:
            rendered = bounded(lambda: self.feeds.render_all(key, after), seconds, key.storage_key)
        except NotFound:
            self._remove(key, done)  # gone since the round listed it
            return
        except StorageError:
            raise  # the store is down: the round stops, the tree stays as it is
        except FeedsError as exc:
            log.error("publishing %s failed: %s", key.storage_key, exc)
            done.failed.append((key, str(exc)))
            return
        same = record is not None and record.fingerprint == rendered.fingerprint
        if same and not everything and record is not None and self._complete(key):
            # Nothing a reader sees changed: the files keep their validators.
            self._save(Record(key, rendered.token, record.fingerprint, record.last_modified))
            done.unchanged.append(key)
            return
        if key == TRENDING and record is not None and not same:
            rendered = self._window_slid(record, rendered)
        self._write(rendered)
        done.published.append(key)

    def _window_slid(self, record: Record, rendered: RenderedFeed) -> RenderedFeed:
        """Trending changed as its window slid (to an article published since the last
        window, or past one leaving it), which no write's version move carried: a
        write's move was seen, and delivered, at the earlier window. Move the version
        now, so what delivers on version moves (the WebSub hub) sends the new ranking.
        Dated by the window's instant, the render's Last-Modified, so the bytes stay."""
        bucket = rendered.token.partition("@")[2]
        if record.token.partition("@")[2] == bucket:
            return rendered  # the same window: only writes changed it
        with self.ctx.store.begin() as conn:
            version_store.bump(conn, [TRENDING], rendered.last_modified)
            moved = version_store.get(conn, TRENDING)
        if moved is None:
            return rendered
        return replace(rendered, token=f"{moved.version}@{bucket}")

    def _complete(self, key: FeedKey) -> bool:
        """Whether each format's file is there and not empty (writes are not synced one
        by one: after a crash, a file may be left empty)."""
        for fmt in FeedFormat:
            path = self.tree.path(key, fmt)
            try:
                if path is None or path.stat().st_size == 0:
                    return False
            except OSError:
                return False
        return True

    def _write(self, rendered: RenderedFeed) -> None:
        key, last_modified = rendered.key, rendered.last_modified
        paths = [
            (fmt, self.tree.write(key, fmt, body, last_modified)) for fmt, body in rendered.bodies
        ]
        self._save(Record(key, rendered.token, rendered.fingerprint, last_modified))
        for fmt, path in paths:
            stat = path.stat()
            etag = etag_for(int(stat.st_mtime), stat.st_size)
            for hook in self.hooks:
                try:
                    hook(key, fmt, path, etag, last_modified)
                except Exception:
                    # One failing subscriber of the hook must not stop the others, nor
                    # the feeds after this one.
                    log.exception("publish hook %r failed for %s", hook, key.storage_key)

    def _save(self, record: Record) -> None:
        self.tree.record(record)
        self._records[record.key] = record

    def _remove(self, key: FeedKey, done: _Round) -> None:
        self.tree.remove(key)
        self._records.pop(key, None)
        if self._known is not None and key in self._known:
            self._known.remove(key)
        done.removed.append(key)
