"""What every part of the service shares: settings, the store, the clock, the cache,
and the unit of work its writes run in."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection

from feeds.feedcache import FeedCache
from feeds.settings import Settings
from feeds.store import Store


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Context:
    settings: Settings
    store: Store
    cache: FeedCache
    clock: Callable[[], datetime] = utcnow
    # The connection of the unit of work open in each thread (see unit_of_work).
    _open: threading.local = field(
        default_factory=threading.local, init=False, repr=False, compare=False
    )

    def now(self) -> datetime:
        return self.clock()

    @contextmanager
    def unit_of_work(self) -> Iterator[Connection]:
        """One transaction for a service call and every service call it makes.

        The outermost block begins the transaction and commits it when the block ends
        (or rolls everything back on an exception); a block opened inside it, by a
        method the first one calls, joins it. So every public write method opens its
        own, takes no connection from its caller, and is still all or nothing with a
        caller that composes several (a change and its audit entry, a config apply).
        """
        joined: Connection | None = getattr(self._open, "conn", None)
        if joined is not None:
            try:
                yield joined
            except BaseException:
                # Caught by a caller inside the unit or not, a failed part dooms the whole:
                # the outermost block then writes nothing.
                self._open.failed = True
                raise
            return
        with self.store.begin() as conn:
            self._open.conn, self._open.failed = conn, False
            try:
                yield conn
                if self._open.failed:
                    raise RuntimeError(
                        "a call inside this unit of work failed; nothing was written"
                    )
            finally:
                self._open.conn = None

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection to read with: the open unit of work's, so a read inside a change
        sees what the change wrote so far; else the open read's, so a service call made
        inside another's read shares its connection; else a new one for this block.
        No generator may stay suspended inside a block: a later read in its thread would
        share a connection about to close."""
        joined: Connection | None = getattr(self._open, "conn", None) or getattr(
            self._open, "reading", None
        )
        if joined is not None:
            yield joined
            return
        with self.store.read() as conn:
            self._open.reading = conn
            try:
                yield conn
            finally:
                self._open.reading = None

    def connection(self) -> Connection:
        """The open unit of work's connection, for a write that must be part of a change
        already running (an audit entry); RuntimeError when none is open."""
        joined: Connection | None = getattr(self._open, "conn", None)
        if joined is None:
            raise RuntimeError("no unit of work is open: this write belongs to a change")
        return joined
