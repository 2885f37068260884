"""Who polls each feed: distinct (User-Agent, address) pairs and the share of 304s.

Counted in memory by the web process, per worker: recording is one dict update under
a lock, so the feed hot path stays cheap. The numbers are an at-a-glance estimate
(a restart forgets them; each gunicorn worker counts the requests it served).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

WINDOW = timedelta(days=1)
# Beyond this many pollers of one feed, new ones are not tracked: a flood of forged
# User-Agents must not grow memory without bound.
MAX_POLLERS_PER_FEED = 50_000


@dataclass(frozen=True)
class PollSummary:
    pollers: int
    requests: int
    not_modified: int

    @property
    def ratio_304(self) -> float | None:
        return self.not_modified / self.requests if self.requests else None


@dataclass
class _FeedCounts:
    # poller id -> (last seen, requests, 304s) within the window
    seen: dict[int, tuple[datetime, int, int]]


class PollerStats:
    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._feeds: dict[str, _FeedCounts] = {}

    def record(self, feed: str, user_agent: str, address: str, status: int) -> None:
        poller = hash((user_agent, address))
        now = self._clock()
        with self._lock:
            counts = self._feeds.setdefault(feed, _FeedCounts({}))
            old = counts.seen.get(poller)
            if old is None:
                if len(counts.seen) >= MAX_POLLERS_PER_FEED:
                    return
                old = (now, 0, 0)
            elif old[0] < now - WINDOW:
                old = (now, 0, 0)
            counts.seen[poller] = (now, old[1] + 1, old[2] + (status == 304))

    def summary(self) -> dict[str, PollSummary]:
        """Per feed, pollers seen within the last day; prunes older ones on the way."""
        cutoff = self._clock() - WINDOW
        out: dict[str, PollSummary] = {}
        with self._lock:
            for feed, counts in list(self._feeds.items()):
                counts.seen = {k: v for k, v in counts.seen.items() if v[0] >= cutoff}
                if not counts.seen:
                    del self._feeds[feed]
                    continue
                out[feed] = PollSummary(
                    pollers=len(counts.seen),
                    requests=sum(v[1] for v in counts.seen.values()),
                    not_modified=sum(v[2] for v in counts.seen.values()),
                )
        return out
