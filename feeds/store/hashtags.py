"""The hashtag table: one row per normalised key, the first display form kept."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from feeds.models import Article, Hashtag, Status
from feeds.store.schema import article_hashtags, hashtags

# Keys per statement: bound parameters are limited (SQLite 32766, PostgreSQL 65535).
CHUNK = 1000


def _chunks(keys: Sequence[Any]) -> Iterable[Sequence[Any]]:
    return (keys[start : start + CHUNK] for start in range(0, len(keys), CHUNK))


def ensure(conn: Connection, tags: Iterable[Hashtag]) -> dict[str, int]:
    """Ids of the given tags, inserting the keys that are new."""
    wanted = {tag.key: tag for tag in tags}
    ids: dict[str, int] = {}
    for chunk in _chunks(sorted(wanted)):
        rows = conn.execute(select(hashtags.c.key, hashtags.c.id).where(hashtags.c.key.in_(chunk)))
        ids.update({key: id_ for key, id_ in rows})
    missing = [
        {"key": key, "display": tag.display} for key, tag in wanted.items() if key not in ids
    ]
    if missing:
        conn.execute(insert(hashtags), missing)
        for chunk in _chunks([row["key"] for row in missing]):
            rows = conn.execute(
                select(hashtags.c.key, hashtags.c.id).where(hashtags.c.key.in_(chunk))
            )
            ids.update({key: id_ for key, id_ in rows})
    return ids


def feed_columns(article: Article) -> dict[str, Any]:
    """The article's columns each of its hashtag links carries for the feed queries."""
    return {
        "status": article.status.value,
        "published_at": article.published_at,
        "sponsored": article.sponsored,
        "section": article.section,
    }


def link_rows(
    article_id: int, article: Article, tag_ids: Mapping[str, int]
) -> list[dict[str, Any]]:
    """The article's hashtag links, in its order, each with the article's feed columns."""
    copied = feed_columns(article)
    return [
        {"article_id": article_id, "hashtag_id": tag_ids[tag.key], "position": position, **copied}
        for position, tag in enumerate(article.hashtags)
    ]


def set_for_article(conn: Connection, article_id: int, article: Article) -> None:
    """Write the article's links, with its feed columns; every article write calls this."""
    ids = ensure(conn, article.hashtags)
    conn.execute(delete(article_hashtags).where(article_hashtags.c.article_id == article_id))
    if article.hashtags:
        conn.execute(insert(article_hashtags), link_rows(article_id, article, ids))


def link_new(conn: Connection, written: Sequence[tuple[int, Article]]) -> None:
    """The links of articles just inserted (they have none yet): one statement for all."""
    ids = ensure(conn, (tag for _, article in written for tag in article.hashtags))
    links = [link for id_, article in written for link in link_rows(id_, article, ids)]
    if links:
        conn.execute(insert(article_hashtags), links)


class _rows_as_json(FunctionElement[Any]):
    """An aggregate of one JSON array per row (its arguments) into one JSON array:
    `json_group_array(json_array(...))` in SQLite, `json_agg(json_build_array(...))` in
    PostgreSQL."""

    inherit_cache = True


@compiles(_rows_as_json, "sqlite")
def _rows_as_json_sqlite(element: _rows_as_json, compiler: Any, **kw: Any) -> str:
    return f"json_group_array(json_array({compiler.process(element.clauses, **kw)}))"


@compiles(_rows_as_json, "postgresql")
def _rows_as_json_postgresql(element: _rows_as_json, compiler: Any, **kw: Any) -> str:
    return f"json_agg(json_build_array({compiler.process(element.clauses, **kw)}))"


def listed(article_id: Any) -> Any:
    """The article's hashtags as one value of the row that reads it (decoded by
    `from_listed`): a feed page reads its articles and their tags in one statement,
    the article's links by its key and each link's tag by the tag's."""
    link = article_hashtags
    rows = _rows_as_json(link.c.position, hashtags.c.key, hashtags.c.display)
    return (
        select(rows)
        .select_from(link.join(hashtags, hashtags.c.id == link.c.hashtag_id))
        .where(link.c.article_id == article_id)
        .scalar_subquery()
    )


def from_listed(values: Sequence[str | list[Any] | None]) -> list[tuple[Hashtag, ...]]:
    """The hashtags `listed` read for each of a page's rows, each in its article's order.

    SQLite hands the JSON over as text, decoded here in one call for the whole page;
    psycopg hands it over decoded. An article without tags gives NULL.
    """
    texts = [value for value in values if isinstance(value, str)]
    decoded = iter(json.loads("[" + ",".join(texts) + "]") if texts else ())
    found: list[tuple[Hashtag, ...]] = []
    for value in values:
        links = next(decoded) if isinstance(value, str) else value
        if not links:
            found.append(())
            continue
        if len(links) > 1:
            # Aggregates keep no order that both databases promise: the position does.
            links.sort()
        found.append(tuple(_hashtag(key, display) for _position, key, display in links))
    return found


@functools.lru_cache(maxsize=4096)
def _hashtag(key: str, display: str) -> Hashtag:
    """One shared value per tag: a page's hot tags recur on most of its rows, and
    making a frozen dataclass costs more than finding the one made before."""
    return Hashtag(key=key, display=display)


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
    """Whether the tag's feed is known: a visible article has carried the tag."""
    return known(conn, key, now) is not None


def known(conn: Connection, key: str, now: datetime) -> Hashtag | None:
    """The tag when its feed is known (a visible article has carried it), else None.

    The flag is set when such an article is written; a scheduled one coming due is
    found here by the query instead (and marked by the next writer that settles the
    tag's feed).
    """
    row = conn.execute(
        select(hashtags.c.id, hashtags.c.public, hashtags.c.display).where(hashtags.c.key == key)
    ).first()
    if row is None:
        return None
    tag = Hashtag(key=key, display=row.display)
    if row.public:
        return tag
    found = conn.execute(
        select(article_hashtags.c.article_id)
        .where(
            article_hashtags.c.hashtag_id == row.id,
            article_hashtags.c.status == Status.PUBLISHED.value,
            article_hashtags.c.published_at <= now,
        )
        .limit(1)
    ).first()
    return tag if found is not None else None


def mark_public(conn: Connection, keys: Iterable[str]) -> None:
    for chunk in _chunks(sorted(set(keys))):
        conn.execute(
            update(hashtags)
            .where(hashtags.c.key.in_(chunk), hashtags.c.public.is_(False))
            .values(public=True)
        )


def feed_keys(conn: Connection, now: datetime) -> list[str]:
    """Every hashtag that has a feed: public ones, and those a scheduled article made
    visible since (marked public when their feed is next resolved)."""
    public = conn.execute(select(hashtags.c.key).where(hashtags.c.public.is_(True))).scalars()
    visible_link = (
        select(article_hashtags.c.article_id)
        .where(
            article_hashtags.c.hashtag_id == hashtags.c.id,
            article_hashtags.c.status == Status.PUBLISHED.value,
            article_hashtags.c.published_at <= now,
        )
        .exists()
    )
    # Few tags are not public (only drafts or scheduled articles carry them), so this
    # probes the link index for a handful of rows.
    due = conn.execute(
        select(hashtags.c.key).where(hashtags.c.public.is_(False), visible_link)
    ).scalars()
    return sorted({*public, *due})


def displays(conn: Connection, keys: Sequence[str]) -> dict[str, str]:
    """The display form (`SouthKorea`) of each known key (`southkorea`)."""
    found: dict[str, str] = {}
    for chunk in _chunks(list(keys)):
        query = select(hashtags.c.key, hashtags.c.display).where(hashtags.c.key.in_(chunk))
        found.update({row.key: row.display for row in conn.execute(query)})
    return found
