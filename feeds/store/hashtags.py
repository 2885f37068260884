"""The hashtag table: one row per normalised key, the first display form kept."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from feeds.models import Article, Hashtag, Status
from feeds.store.schema import article_hashtags, hashtags


def ensure(conn: Connection, tags: Iterable[Hashtag]) -> dict[str, int]:
    """Ids of the given tags, inserting the keys that are new."""
    wanted = {tag.key: tag for tag in tags}
    if not wanted:
        return {}
    rows = conn.execute(
        select(hashtags.c.key, hashtags.c.id).where(hashtags.c.key.in_(list(wanted)))
    ).all()
    ids = {key: id_ for key, id_ in rows}
    for key, tag in wanted.items():
        if key not in ids:
            ids[key] = conn.execute(
                insert(hashtags).values(key=key, display=tag.display).returning(hashtags.c.id)
            ).scalar_one()
    return ids


def feed_columns(article: Article) -> dict[str, Any]:
    """The article's columns each of its hashtag links carries for the feed queries."""
    return {
        "status": article.status.value,
        "published_at": article.published_at,
        "sponsored": article.sponsored,
        "section": article.section,
    }


def set_for_article(conn: Connection, article_id: int, article: Article) -> None:
    """Write the article's links, with its feed columns; every article write calls this."""
    tags = article.hashtags
    ids = ensure(conn, tags)
    conn.execute(delete(article_hashtags).where(article_hashtags.c.article_id == article_id))
    if tags:
        copied = feed_columns(article)
        conn.execute(
            insert(article_hashtags),
            [
                {
                    "article_id": article_id,
                    "hashtag_id": ids[tag.key],
                    "position": position,
                    **copied,
                }
                for position, tag in enumerate(tags)
            ],
        )


def for_articles(conn: Connection, article_ids: Sequence[int]) -> dict[int, tuple[Hashtag, ...]]:
    if not article_ids:
        return {}
    rows = conn.execute(
        select(article_hashtags.c.article_id, hashtags.c.key, hashtags.c.display)
        .join(hashtags, hashtags.c.id == article_hashtags.c.hashtag_id)
        .where(article_hashtags.c.article_id.in_(list(article_ids)))
        .order_by(article_hashtags.c.article_id, article_hashtags.c.position)
    ).all()
    out: dict[int, list[Hashtag]] = {}
    for article_id, key, display in rows:
        out.setdefault(article_id, []).append(Hashtag(key=key, display=display))
    return {article_id: tuple(tags) for article_id, tags in out.items()}


def get(conn: Connection, key: str) -> Hashtag | None:
    row = conn.execute(
        select(hashtags.c.key, hashtags.c.display).where(hashtags.c.key == key)
    ).first()
    return Hashtag(key=row.key, display=row.display) if row else None


def all_in_use(
    conn: Connection, visible_at: datetime | None = None, include_sponsored: bool = True
) -> list[tuple[Hashtag, int]]:
    """Every hashtag with at least one article, with its article count.

    With `visible_at`, only articles a hashtag feed would show at that instant count.
    """
    count = func.count(article_hashtags.c.article_id)
    query = (
        select(hashtags.c.key, hashtags.c.display, count.label("n"))
        .join(article_hashtags, article_hashtags.c.hashtag_id == hashtags.c.id)
        .group_by(hashtags.c.key, hashtags.c.display)
        .order_by(hashtags.c.key)
    )
    if visible_at is not None:
        # The links carry what visibility needs: no join with the articles.
        query = query.where(
            article_hashtags.c.status == Status.PUBLISHED.value,
            article_hashtags.c.published_at <= visible_at,
        )
        if not include_sponsored:
            query = query.where(article_hashtags.c.sponsored.is_(False))
    rows = conn.execute(query).all()
    return [(Hashtag(key=row.key, display=row.display), row.n) for row in rows]


def is_public(conn: Connection, key: str, now: datetime) -> bool:
    """Whether the tag's feed is known: a visible article has carried the tag.

    The flag is set when such an article is written; a scheduled one coming due is
    found here by the query instead (and marked, when `conn` may write).
    """
    row = conn.execute(
        select(hashtags.c.id, hashtags.c.public).where(hashtags.c.key == key)
    ).first()
    if row is None:
        return False
    if row.public:
        return True
    found = conn.execute(
        select(article_hashtags.c.article_id)
        .where(
            article_hashtags.c.hashtag_id == row.id,
            article_hashtags.c.status == Status.PUBLISHED.value,
            article_hashtags.c.published_at <= now,
        )
        .limit(1)
    ).first()
    return found is not None


def mark_public(conn: Connection, keys: Iterable[str]) -> None:
    wanted = sorted(set(keys))
    if wanted:
        conn.execute(
            update(hashtags)
            .where(hashtags.c.key.in_(wanted), hashtags.c.public.is_(False))
            .values(public=True)
        )
