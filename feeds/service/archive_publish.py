"""Monthly archives published into the tree, exactly the months writes changed.

Every write records the (feed, month) archives it changed in its own transaction
(table archive_moves: an article's published month, both months of an edit that moves
its date, the month of a withdrawal or restore; a scheduled article's month when it
comes due; every month of a feed whose definition changed). A publisher round reads the
moves that are due, renders those months in every format and writes the ones whose
bytes changed with the same atomic writer and validators as the feeds, then forgets the
moves it published.

A month that appears or empties changes its neighbours' `next-archive`/`prev-archive`
links, and a month's Last-Modified counts the first article of the next month: so the
month before a changed one is rendered too, and the month after it when the changed one
appeared or went. A render giving the bytes already published writes nothing (the
files keep their validators). A feed published for the first time, and every feed
under `feeds publish --all`, gets every month; each month's render is bounded by
`publish_timeout_seconds` like a feed's.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feeds.errors import FeedsError, NotFound, StorageError
from feeds.models import FeedFormat, FeedKey
from feeds.published import MONTH_FILE, PublishedTree, archive_folder
from feeds.service.archives import ArchiveService, FeedMonths, MonthRender
from feeds.service.bounded import bounded
from feeds.service.context import Context
from feeds.store import archive_moves
from feeds.store.versions import parse_key

log = logging.getLogger(__name__)
EVERY = archive_moves.EVERY
SECOND = timedelta(seconds=1)


@dataclass
class ArchiveRound:
    """What one round did to archives, as `<feed storage key>/<YYYY-MM>`."""

    published: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    # (feed storage key, month, due) of the months that failed, moved again for later.
    retry: list[tuple[str, str, datetime]] = field(default_factory=list)


class ArchivePublisher:
    def __init__(self, ctx: Context, archives: ArchiveService, tree: PublishedTree) -> None:
        self.ctx = ctx
        self.archives = archives
        self.tree = tree

    def run(self, published: Iterable[FeedKey], whole: Iterable[FeedKey]) -> ArchiveRound:
        """Publish the months moved of the feeds that are published, and every month of
        the feeds in `whole` (published for the first time, or everything rewritten)."""
        present = set(published)
        now = self.ctx.now()
        with self.ctx.store.read() as conn:
            moves = archive_moves.due(conn, now)
        wanted: dict[FeedKey, set[str]] = {}
        for move in moves:
            keys = present if move.key == EVERY else {parse_key(move.key)}
            for key in keys & present:
                wanted.setdefault(key, set()).add(move.month)
        for key in whole:
            wanted[key] = {EVERY}
        done = ArchiveRound()
        for key, months in wanted.items():
            if archive_folder(key) is None:
                continue  # trending, or a name that cannot be a file
            try:
                self._feed(key, months, done)
            except NotFound:
                continue  # gone since the round listed it: its removal takes the folder
            except StorageError:
                raise  # the store is down: the moves stay for a later round
            except FeedsError as exc:
                # Reading the feed or listing its months failed: the months it wanted
                # (every one, for a whole feed) again next round.
                log.error("publishing the archives of %s failed: %s", key.storage_key, exc)
                done.failed.append((key.storage_key, str(exc)))
                done.retry.extend((key.storage_key, month, now) for month in sorted(months))
        # Every move read is done with: published, or (a feed not published, gone or
        # waiting for its first round) not needed, since a first publish writes every
        # month. A month that failed is moved again, alone, for the next round.
        if moves or done.retry:
            with self.ctx.store.begin() as conn:
                archive_moves.done(conn, moves)
                archive_moves.add(conn, done.retry)
        return done

    def _feed(self, key: FeedKey, months: set[str], done: ArchiveRound) -> None:
        seen: set[str] = set()
        # What its months share (its name, walks, section titles), read once for all.
        shared = bounded(
            lambda: self.archives.feed_months(key),
            self.ctx.settings.publish_timeout_seconds,
            key.storage_key,
        )
        if EVERY in months:
            listed = self.archives.months(key, shared)
            for month in self._published_months(key):
                if month not in listed:
                    self._month(shared, month, seen, done, follow=False)  # emptied: removed
            for month in listed:
                self._month(shared, month, seen, done, follow=False)
            return
        for month in sorted(months, reverse=True):
            self._month(shared, month, seen, done, follow=True)

    def _published_months(self, key: FeedKey) -> list[str]:
        folder = archive_folder(key)
        if folder is None:
            return []
        return sorted(
            path.stem
            for path in (self.tree.root / folder).glob("*.rss")
            if MONTH_FILE.fullmatch(path.name)
        )

    def _month(
        self, shared: FeedMonths, month: str, seen: set[str], done: ArchiveRound, *, follow: bool
    ) -> None:
        if month in seen:
            return
        seen.add(month)
        key = shared.key
        name = f"{key.storage_key}/{month}"
        try:
            published = datetime.fromtimestamp(self._identity(key, month).stat().st_mtime, UTC)
        except OSError:
            published = None
        existed = published is not None
        try:
            rendered = self._render(shared, month, published)
            # New bytes under the published date (only a link changed) take a later
            # one, or caches would keep the old bytes for the same validators.
            if (
                published is not None
                and rendered.bodies
                and rendered.last_modified <= published
                and not self._same(rendered)
            ):
                later = max(self.ctx.now().replace(microsecond=0), published + SECOND)
                rendered = self._render(shared, month, later)
        except NotFound:
            return  # the feed went since the round listed it; its removal takes the folder
        except ValueError:
            return  # not a month (a stray file name)
        except StorageError:
            raise
        except FeedsError as exc:  # too slow to render (or broken): later, alone
            log.error("publishing %s failed: %s", name, exc)
            done.failed.append((name, str(exc)))
            done.retry.append((key.storage_key, month, self.ctx.now()))
            return
        if not rendered.bodies:
            if self.tree.remove_archive(key, month):
                done.removed.append(name)
        elif self._write(rendered):
            done.published.append(name)
        if follow:
            # The month before shows this month's first article (its next link and its
            # Last-Modified); the month after links back here only if this one exists.
            if rendered.prev_month is not None:
                self._month(shared, rendered.prev_month, seen, done, follow=False)
            if rendered.next_month is not None and existed != bool(rendered.bodies):
                self._month(shared, rendered.next_month, seen, done, follow=False)

    def _render(self, shared: FeedMonths, month: str, not_before: datetime | None) -> MonthRender:
        seconds = self.ctx.settings.publish_timeout_seconds
        key = shared.key
        return bounded(
            lambda: self.archives.render_month(key, month, not_before, shared),
            seconds,
            f"{key.storage_key}/{month}",
        )

    def _same(self, rendered: MonthRender) -> bool:
        """Whether every format's published file holds these bytes."""
        for fmt, body in rendered.bodies.items():
            path = self.tree.archive_path(rendered.key, rendered.month, fmt)
            try:
                if path is None or path.read_bytes() != body:
                    return False
            except OSError:
                return False
        return True

    def _identity(self, key: FeedKey, month: str) -> Path:
        path = self.tree.archive_path(key, month, FeedFormat.RSS)
        assert path is not None  # checked by run()
        return path

    def _write(self, rendered: MonthRender) -> bool:
        """Write every format unless all hold these bytes already (the same document:
        its files keep their validators); whether it wrote."""
        if self._same(rendered):
            return False
        for fmt, body in rendered.bodies.items():
            path = self.tree.archive_path(rendered.key, rendered.month, fmt)
            assert path is not None
            self.tree.write_file(path, body, rendered.last_modified)
        return True
