"""An in-memory cache of rendered feeds, bounded in bytes, least recently used out first.

Entries are keyed by the feed's version, so a stale entry is never served: it simply
stops being asked for and ages out. Compressed variants are made once per entry.
"""

from __future__ import annotations

import gzip
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import datetime

import brotli


@dataclass
class CachedFeed:
    body: bytes
    etag: str
    last_modified: datetime
    media_type: str
    _encoded: dict[str, bytes] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(v) for v in self._encoded.values())

    def encoded(self, coding: str) -> bytes:
        """The body in `coding` ("br", "gzip" or "identity"), compressed at most once."""
        if coding == "identity":
            return self.body
        cached = self._encoded.get(coding)
        if cached is None:
            if coding == "br":
                # Quality 5 compresses a large feed to within a few percent of 11 at a
                # fraction of the time, which matters on a cache miss.
                cached = brotli.compress(self.body, quality=5)
            elif coding == "gzip":
                # mtime=0 keeps the bytes identical from one process to the next.
                cached = gzip.compress(self.body, compresslevel=6, mtime=0)
            else:
                raise ValueError(f"unknown content coding {coding!r}")
            self._encoded[coding] = cached
        return cached


class FeedCache:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, CachedFeed] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> CachedFeed | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, key: Hashable, entry: CachedFeed) -> CachedFeed:
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old.size
            if entry.size > self.max_bytes:
                return entry
            self._entries[key] = entry
            self._bytes += entry.size
            self._evict()
            return entry

    def encoded(self, entry: CachedFeed, coding: str) -> bytes:
        """Compress through the cache so the byte bound counts compressed variants."""
        if coding == "identity":
            return entry.body
        ready = entry._encoded.get(coding)
        if ready is not None:
            return ready
        with self._lock:
            before = entry.size
            data = entry.encoded(coding)
            if any(e is entry for e in self._entries.values()):
                self._bytes += entry.size - before
                self._evict()
            return data

    def _evict(self) -> None:
        while self._bytes > self.max_bytes and self._entries:
            _, dropped = self._entries.popitem(last=False)
            self._bytes -= dropped.size

    @property
    def bytes_used(self) -> int:
        return self._bytes

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
