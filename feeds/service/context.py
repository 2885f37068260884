"""What every part of the service shares: settings, the store, the clock, the cache."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

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

    def now(self) -> datetime:
        return self.clock()
