"""Who polls each feed: distinct pollers, the share of 304s, the busiest User-Agents and
the subscriber counts that aggregators report in theirs ("Feedly/1.0 (...; 12
subscribers; ...)").

Each web process counts feed responses in memory (`PollerStats.record`: one dict update
under a lock, nothing else on the feed hot path) and adds its counts to the store every
`poller_flush_seconds` from a background thread (`PollerService.flush`), so the numbers
survive restarts and add up across processes. A poller is a User-Agent (its subscriber
count taken out, so a growing count stays one poller) and an address.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from feeds.service.context import Context
from feeds.store import pollers as poller_store
from feeds.store.pollers import AgentCount, PollerDelta

WINDOW = timedelta(days=1)
# Pollers idle this long are forgotten by the store.
KEEP = timedelta(days=7)
# A flood of forged User-Agents must not grow memory or the table without bound: past
# these, new pollers are not counted (known ones still are).
MAX_PENDING = 100_000
MAX_POLLERS_PER_FEED = 50_000
UA_MAX = 300
TOP_AGENTS = 3
SUBSCRIBERS = re.compile(r"(\d{1,9})\s+(?:subscribers?|readers?)\b", re.IGNORECASE)
AGENT = re.compile(r"\s*([A-Za-z][A-Za-z0-9._-]{0,59})")


def agent_of(user_agent: str) -> str:
    """The product name a User-Agent starts with: `Feedly`, `NewsBlur`, `curl`."""
    found = AGENT.match(user_agent)
    if found:
        return found.group(1)
    return "(none)" if not user_agent.strip() else "(other)"


def subscribers_in(user_agent: str) -> int | None:
    """The subscriber count an aggregator reports in its User-Agent, if it does."""
    found = SUBSCRIBERS.search(user_agent)
    return int(found.group(1)) if found else None


def poller_id(user_agent: str, address: str) -> str:
    steady = SUBSCRIBERS.sub("N subscribers", user_agent)
    return hashlib.sha256(f"{steady}\0{address}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class PollSummary:
    pollers: int
    requests: int
    not_modified: int
    # Readers: what aggregators report, plus one for each poller that reports nothing.
    subscribers: int = 0
    agents: tuple[AgentCount, ...] = ()

    @property
    def ratio_304(self) -> float | None:
        return self.not_modified / self.requests if self.requests else None


@dataclass(slots=True)
class _Counts:
    first_seen: datetime
    last_seen: datetime
    requests: int = 0
    not_modified: int = 0


class PollerStats:
    """Feed responses counted in memory until the next flush."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, str, str], _Counts] = {}  # (feed, UA, address)
        self.dropped = 0

    def record(self, feed: str, user_agent: str, address: str, status: int) -> None:
        key = (feed, user_agent[:UA_MAX], address)
        now = self._clock()
        with self._lock:
            counts = self._pending.get(key)
            if counts is None:
                if len(self._pending) >= MAX_PENDING:
                    self.dropped += 1
                    return
                counts = self._pending[key] = _Counts(now, now)
            counts.last_seen = now
            counts.requests += 1
            counts.not_modified += status == 304

    def drain(self) -> list[PollerDelta]:
        """Everything counted since the last drain, one delta per feed and poller."""
        with self._lock:
            pending, self._pending = self._pending, {}
        merged: dict[tuple[str, str], PollerDelta] = {}
        for (feed, user_agent, address), counts in pending.items():
            delta = PollerDelta(
                feed=feed,
                poller=poller_id(user_agent, address),
                agent=agent_of(user_agent),
                user_agent=user_agent,
                subscribers=subscribers_in(user_agent),
                first_seen=counts.first_seen,
                last_seen=counts.last_seen,
                requests=counts.requests,
                not_modified=counts.not_modified,
            )
            key = (delta.feed, delta.poller)
            before = merged.get(key)
            if before is not None:  # the same poller under two subscriber counts
                newer = delta if delta.last_seen >= before.last_seen else before
                delta = PollerDelta(
                    **(
                        newer.__dict__
                        | {
                            "first_seen": min(before.first_seen, delta.first_seen),
                            "requests": before.requests + delta.requests,
                            "not_modified": before.not_modified + delta.not_modified,
                        }
                    )
                )
            merged[key] = delta
        return list(merged.values())


class PollerService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def flush(self, stats: PollerStats) -> int:
        """Add what `stats` counted to the store; returns how many pollers it held."""
        deltas = stats.drain()
        if not deltas:
            return 0
        now = self.ctx.now()
        with self.ctx.store.begin() as conn:
            kept = []
            for feed in sorted({d.feed for d in deltas}):
                mine = [d for d in deltas if d.feed == feed]
                if poller_store.pollers_of(conn, feed) + len(mine) > MAX_POLLERS_PER_FEED:
                    known = poller_store.known(conn, feed, [d.poller for d in mine])
                    mine = [d for d in mine if d.poller in known]
                kept += mine
            poller_store.add(conn, kept, now - WINDOW)
            poller_store.prune(conn, now - KEEP)
        return len(deltas)

    def summary(self) -> dict[str, PollSummary]:
        """Per feed storage key, the pollers seen within the last day."""
        with self.ctx.store.read() as conn:
            rows = poller_store.agent_counts(conn, self.ctx.now() - WINDOW)
        by_feed: dict[str, list[AgentCount]] = {}
        for row in rows:
            by_feed.setdefault(row.feed, []).append(row)
        out: dict[str, PollSummary] = {}
        for feed, agents in by_feed.items():
            agents.sort(key=lambda a: (-a.pollers, -a.requests, a.agent))
            out[feed] = PollSummary(
                pollers=sum(a.pollers for a in agents),
                requests=sum(a.requests for a in agents),
                not_modified=sum(a.not_modified for a in agents),
                subscribers=sum(a.subscribers + a.pollers - a.reporting for a in agents),
                agents=tuple(agents[:TOP_AGENTS]),
            )
        return out
