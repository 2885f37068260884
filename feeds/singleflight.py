"""Single flight: concurrent callers asking for the same missing thing share one render."""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterator
from contextlib import contextmanager


class SingleFlight:
    """At most one caller at a time does the work for a key; the others wait for it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[Hashable, threading.Event] = {}
        self.waiting = 0  # callers waiting for another's work (tests watch it)

    @contextmanager
    def one(self, key: Hashable) -> Iterator[bool]:
        """Yields True to the caller that does the work, False to one that waited."""
        with self._lock:
            running = self._running.get(key)
            if running is None:
                done = self._running[key] = threading.Event()
            else:
                self.waiting += 1
        if running is not None:
            running.wait()
            with self._lock:
                self.waiting -= 1
            yield False
            return
        try:
            yield True
        finally:
            with self._lock:
                del self._running[key]
            done.set()
