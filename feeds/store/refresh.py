"""Applying one refresh of a source: its plan, the feed versions it moves, the new state.

Everything in the caller's transaction, so a refresh is all or nothing: a job killed
before the commit leaves the store as it was (but for its lease, which lapses).

What this module does not do: decide anything (feeds/ingest/plan.py made the plan and
the service worked out which feeds move).
"""

from __future__ import annotations

from dataclasses import replace
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

    New articles go in with one statement per table (a first fetch brings hundreds).
    """
    taken = article_store.slugs_taken(conn, [s for i in plan.inserts for s in i.slugs[:-1]])
    new = []
    for insert in plan.inserts:
        # The last candidate is unique by construction; the others may be taken, also
        # by an earlier insert of this same plan.
        slug = next((s for s in insert.slugs[:-1] if s not in taken), insert.slugs[-1])
        taken.add(slug)
        article = insert.article  # planned with its first slug, usually the one kept
        if article.slug != slug:
            article = replace(article, slug=slug)
        new.append((article, insert.content_hash))
    article_store.insert_articles(conn, new)
    for update in plan.updates:
        assert update.old.id is not None
        article_store.update_article(
            conn, update.old.id, update.new, content_hash=update.content_hash
        )
    version_store.move(conn, moves, now)
    source_store.save_state(conn, source_id, state, url=url)
