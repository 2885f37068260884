"""Applying one refresh of a source: its plan, the feed versions it moves, the new state.

Everything in the caller's transaction, so a refresh is all or nothing: a job killed
before the commit leaves the store as it was (but for its lease, which lapses).

What this module does not do: decide anything (feeds/ingest/plan.py made the plan and
the service worked out which feeds move).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from feeds.models import FeedMoves, SourceState
from feeds.refresh_plan import RefreshPlan
from feeds.store import articles as article_store
from feeds.store import sources as source_store
from feeds.store import versions as version_store


def apply_refresh(
    conn: Connection,
    source_id: int,
    plan: RefreshPlan,
    moves: FeedMoves,
    state: SourceState,
    *,
    now: datetime,
    url: str | None = None,
) -> None:
    """Write the plan's articles, move the feeds, store the state and give the lease back.

    New articles go in with one statement per table (a first fetch brings hundreds), with
    the slugs and feed copies the plan settled (feeds/ingest/plan.py `settle`).
    """
    new = [(insert.article, insert.content_hash) for insert in plan.inserts]
    article_store.insert_articles(conn, new)
    for update in plan.updates:
        assert update.old.id is not None
        article_store.update_article(
            conn, update.old.id, update.new, content_hash=update.content_hash
        )
    version_store.move(conn, moves, now)
    source_store.save_state(conn, source_id, state, url=url)
