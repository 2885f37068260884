"""Who polls each feed (table feed_pollers): counts added in batches, read per feed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, case, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from feeds.store.schema import feed_pollers as fp


@dataclass(frozen=True)
class PollerDelta:
    """What one process saw of one poller of one feed since its last flush."""

    feed: str
    poller: str
    agent: str
    user_agent: str
    subscribers: int | None
    first_seen: datetime
    last_seen: datetime
    requests: int
    not_modified: int


@dataclass(frozen=True)
class AgentCount:
    """Pollers of one feed sharing a product name (`Feedly`), within the window."""

    feed: str
    agent: str
    pollers: int
    requests: int
    not_modified: int
    subscribers: int  # the sum of the counts those pollers report
    reporting: int  # how many of them report one


def add(conn: Connection, deltas: Sequence[PollerDelta], window_start: datetime) -> None:
    """Add the deltas; a poller last seen before `window_start` starts counting afresh."""
    if not deltas:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(fp)
    stale = fp.c.last_seen < window_start
    stmt = stmt.on_conflict_do_update(
        index_elements=[fp.c.feed, fp.c.poller],
        set_={
            "agent": stmt.excluded.agent,
            "user_agent": stmt.excluded.user_agent,
            # The latest report wins; a poller that stops reporting keeps its last one.
            "subscribers": func.coalesce(stmt.excluded.subscribers, fp.c.subscribers),
            "first_seen": case((stale, stmt.excluded.first_seen), else_=fp.c.first_seen),
            "last_seen": case(
                (fp.c.last_seen > stmt.excluded.last_seen, fp.c.last_seen),
                else_=stmt.excluded.last_seen,
            ),
            "requests": case(
                (stale, stmt.excluded.requests), else_=fp.c.requests + stmt.excluded.requests
            ),
            "not_modified": case(
                (stale, stmt.excluded.not_modified),
                else_=fp.c.not_modified + stmt.excluded.not_modified,
            ),
        },
    )
    # Sorted, so two processes flushing at once take row locks in the same order.
    rows = sorted(deltas, key=lambda d: (d.feed, d.poller))
    conn.execute(stmt, [d.__dict__ for d in rows])


def agent_counts(conn: Connection, since: datetime) -> list[AgentCount]:
    """Per feed and agent, pollers seen since `since` (one row per pair, not per poller)."""
    query = (
        select(
            fp.c.feed,
            fp.c.agent,
            func.count(),
            func.sum(fp.c.requests),
            func.sum(fp.c.not_modified),
            func.coalesce(func.sum(fp.c.subscribers), 0),
            func.count(fp.c.subscribers),
        )
        .where(fp.c.last_seen >= since)
        .group_by(fp.c.feed, fp.c.agent)
    )
    return [AgentCount(*row) for row in conn.execute(query)]


def pollers_of(conn: Connection, feed: str) -> int:
    return int(
        conn.execute(select(func.count()).select_from(fp).where(fp.c.feed == feed)).scalar_one()
    )


def prune(conn: Connection, before: datetime) -> int:
    """Forget pollers not seen since `before`."""
    return conn.execute(delete(fp).where(fp.c.last_seen < before)).rowcount or 0


def known(conn: Connection, feed: str, pollers: Sequence[str]) -> set[str]:
    """Which of `pollers` the store already holds for `feed`."""
    found: set[str] = set()
    for start in range(0, len(pollers), 500):
        chunk = pollers[start : start + 500]
        query = select(fp.c.poller).where(fp.c.feed == feed, fp.c.poller.in_(chunk))
        found.update(conn.execute(query).scalars())
    return found
