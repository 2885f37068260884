"""Monthly archives writes changed (table archive_moves), until the publisher has them.

A write adds its (feed, month, instant) in its own transaction, so a committed change
is never missed by the publisher; the publisher reads the moves that are due, publishes
those months and deletes exactly the rows it read (a write meanwhile moved `version`,
and its row stays for the next round). The table holds only what is waiting: its size
follows the writes since the last round, not the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from feeds.models import FeedKey
from feeds.store.schema import archive_moves as am

# A move of every month of a feed, or (as the key) of every feed.
EVERY = "*"


@dataclass(frozen=True)
class ArchiveMove:
    key: str  # a feed's storage key, or EVERY
    month: str  # YYYY-MM, or EVERY
    due_at: datetime
    version: int


def add(conn: Connection, moves: Iterable[tuple[str, str, datetime]]) -> None:
    """Record (storage key, month, due) moves in the caller's transaction."""
    rows = [{"key": k, "month": m, "due_at": d, "version": 1} for k, m, d in sorted(set(moves))]
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(am)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[am.c.key, am.c.month, am.c.due_at],
            set_={"version": am.c.version + 1},
        ),
        rows,
    )


def add_feeds(conn: Connection, keys: Iterable[FeedKey], now: datetime) -> None:
    """Every month of these feeds changed (a definition or what every item shows)."""
    add(conn, [(key.storage_key, EVERY, now) for key in keys])


def due(conn: Connection, now: datetime) -> list[ArchiveMove]:
    rows = conn.execute(select(am).where(am.c.due_at <= now).order_by(am.c.due_at)).all()
    return [ArchiveMove(r.key, r.month, r.due_at, r.version) for r in rows]


def done(conn: Connection, moves: Sequence[ArchiveMove]) -> None:
    """Forget moves that were published, unless a write moved them again since."""
    for start in range(0, len(moves), 200):
        batch = moves[start : start + 200]
        conn.execute(
            delete(am).where(
                or_(
                    *(
                        and_(
                            am.c.key == m.key,
                            am.c.month == m.month,
                            am.c.due_at == m.due_at,
                            am.c.version == m.version,
                        )
                        for m in batch
                    )
                )
            )
        )
