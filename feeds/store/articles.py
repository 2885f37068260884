"""The articles table: rows to Article and back, lookups, filtered lists."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Row, Select, bindparam, exists, func, insert, select, update

from feeds.models import Article, ArticleFilter, FeedContent, Hashtag, Image, Origin, Status
from feeds.store import hashtags as hashtag_store
from feeds.store.schema import article_hashtags, articles, hashtags, sources


def row_values(article: Article) -> dict[str, Any]:
    """The articles row for `article` (without its id and content hash). Its feed copy is
    the one it carries, made by whoever built it (NULLs without one)."""
    image = article.image
    origin = article.origin
    copy = article.feed_content
    return {
        "feed_base": copy.base if copy else None,
        "feed_content": copy.html if copy else None,
        "guid": article.guid,
        "slug": article.slug,
        "title": article.title,
        "summary": article.summary,
        "content_html": article.content_html,
        "author": article.author,
        "author_slug": article.author_slug,
        "section": article.section,
        "url": article.url,
        "image_url": image.url if image else None,
        "image_type": image.mime_type if image else None,
        "image_length": image.length if image else None,
        "image_alt": image.alt if image else None,
        "views": article.views,
        "sponsored": article.sponsored,
        "status": article.status.value,
        "language": article.language,
        "published_at": article.published_at,
        "updated_at": article.updated_at,
        "source_id": origin.source_id if origin else None,
        "origin_id": origin.origin_id if origin else None,
        "origin_link": origin.link if origin else None,
        "origin_date": origin.original_date if origin else None,
    }


def insert_article(conn: Connection, article: Article, *, content_hash: str | None = None) -> int:
    values = row_values(article) | {"content_hash": content_hash}
    article_id: int = conn.execute(
        insert(articles).values(**values).returning(articles.c.id)
    ).scalar_one()
    hashtag_store.set_for_article(conn, article_id, article)
    return article_id


def insert_articles(conn: Connection, batch: Sequence[tuple[Article, str | None]]) -> list[int]:
    """Insert new articles (each with its content hash) and their hashtag links, one
    statement per table however many there are; their ids, in the order given."""
    if not batch:
        return []
    rows = [row_values(article) | {"content_hash": hashed} for article, hashed in batch]
    # Without RETURNING, both drivers take the rows as one batch (SQLAlchemy would send
    # SQLite one INSERT per row to return ids in order); the GUIDs, unique, give the ids.
    conn.execute(insert(articles), rows)
    guids = [row["guid"] for row in rows]
    found: dict[str, int] = {}
    for start in range(0, len(guids), hashtag_store.CHUNK):
        chunk = guids[start : start + hashtag_store.CHUNK]
        query = select(articles.c.guid, articles.c.id).where(articles.c.guid.in_(chunk))
        found.update({guid: int(id_) for guid, id_ in conn.execute(query)})
    ids = [found[guid] for guid in guids]
    hashtag_store.link_new(conn, list(zip(ids, (article for article, _ in batch), strict=True)))
    return ids


def update_article(
    conn: Connection, article_id: int, article: Article, *, content_hash: str | None = None
) -> None:
    values = row_values(article) | {"content_hash": content_hash}
    values.pop("guid")  # a GUID never changes
    conn.execute(update(articles).where(articles.c.id == article_id).values(**values))
    hashtag_store.set_for_article(conn, article_id, article)


# The columns an Article is made of, read by position: a feed page turns 50 rows into
# articles, and named access on SQLAlchemy rows costs a Python call per column.
_FIELDS = (
    "id", "guid", "slug", "title", "summary", "content_html", "author", "section",
    "published_at", "updated_at", "url", "image_url", "image_type", "image_length",
    "image_alt", "views", "sponsored", "status", "language", "source_id", "source_name",
    "feed_url", "origin_id", "origin_link", "origin_date", "feed_base", "feed_content",
)  # fmt: skip


def _select() -> Select[Any]:
    # Only the columns an Article is made of: every column read is converted per row.
    # Its hashtags come in the same statement, a few primary-key lookups per row read.
    own = [articles.c[name] for name in _FIELDS if name in articles.c]
    return select(
        *own,
        sources.c.name.label("source_name"),
        sources.c.url.label("feed_url"),
        hashtag_store.listed(articles.c.id).label("tag_list"),
    ).outerjoin(sources, sources.c.id == articles.c.source_id)


# Built once: a feed page only adds its conditions, order and limit.
_SELECT = _select()
_POSITIONS = {column.key: n for n, column in enumerate(_SELECT.selected_columns)}
_values = itemgetter(*(_POSITIONS[name] for name in _FIELDS))
_TAG_LIST = _POSITIONS["tag_list"]
# A dict lookup, not a call of the enum class, per row.
_STATUSES = {status.value: status for status in Status}
# Built once, for every feed page.
_BY_IDS = _SELECT.where(articles.c.id.in_(bindparam("ids", expanding=True)))


def _from_row(row: Row[Any], tags: tuple[Hashtag, ...]) -> Article:
    (
        id_, guid, slug, title, summary, content_html, author, section, published_at,
        updated_at, url, image_url, image_type, image_length, image_alt, views, sponsored,
        status, language, source_id, source_name, feed_url, origin_id, origin_link,
        origin_date, feed_base, feed_content,
    ) = _values(row)  # fmt: skip
    image = None
    if image_url:
        image = Image(
            url=image_url,
            mime_type=image_type or "",
            length=image_length or None,  # 0 was written for "unknown" once
            alt=image_alt or "",
        )
    origin = None
    if source_id is not None:
        origin = Origin(
            source_id=source_id,
            source_title=source_name or "",
            feed_url=feed_url or "",
            origin_id=origin_id or "",
            link=origin_link,
            original_date=origin_date,
        )
    return Article(
        id=id_,
        guid=guid,
        slug=slug,
        title=title,
        summary=summary,
        content_html=content_html,
        author=author,
        section=section,
        hashtags=tags,
        published_at=published_at,
        updated_at=updated_at,
        url=url,
        image=image,
        views=views,
        sponsored=sponsored,
        status=_STATUSES[status],
        language=language,
        origin=origin,
        feed_content=FeedContent(feed_base, feed_content) if feed_base else None,
    )


def load(
    conn: Connection, query: Select[Any], parameters: dict[str, Any] | None = None
) -> list[Article]:
    rows = conn.execute(query, parameters).all()
    tags = hashtag_store.from_listed([row[_TAG_LIST] for row in rows])
    return [_from_row(row, found) for row, found in zip(rows, tags, strict=True)]


def by_ids(conn: Connection, ids: Sequence[int]) -> list[Article]:
    """The articles with these ids, in the order given (missing ones left out)."""
    if not ids:
        return []
    found = {a.id: a for a in load(conn, _BY_IDS, {"ids": list(ids)})}
    return [found[i] for i in ids if i in found]


def page_query(where: Sequence[Any], order: Sequence[Any]) -> Select[Any]:
    """The first `:limit` articles matching `where` in `order` (conditions on the
    articles table that an index walks in that order): a feed page in one statement."""
    return _SELECT.where(*where).order_by(*order).limit(bindparam("limit"))


def get_by(conn: Connection, **where: Any) -> Article | None:
    query = _SELECT
    for column, value in where.items():
        query = query.where(articles.c[column] == value)
    found = load(conn, query.limit(1))
    return found[0] if found else None


def get_many(conn: Connection, ids: Sequence[int]) -> list[Article]:
    """The articles with these ids (in no particular order); missing ids are left out."""
    found: list[Article] = []
    for start in range(0, len(ids), 500):  # SQLite caps bound parameters per statement
        found += load(conn, _SELECT.where(articles.c.id.in_(list(ids[start : start + 500]))))
    return found


def status_before_withdrawal(conn: Connection, article_id: int) -> Status | None:
    value = conn.execute(
        select(articles.c.status_before_withdrawal).where(articles.c.id == article_id)
    ).scalar_one_or_none()
    return Status(value) if value else None


def set_status_before_withdrawal(conn: Connection, article_id: int, status: Status | None) -> None:
    conn.execute(
        update(articles)
        .where(articles.c.id == article_id)
        .values(status_before_withdrawal=status.value if status else None)
    )


@dataclass(frozen=True)
class StoredCopy:
    """What says whether an article's feed copy still holds: the fields its link is made
    of, and the link its copy was made against (None: it has none)."""

    article_id: int
    url: str | None
    slug: str
    feed_base: str | None


def stored_copies(conn: Connection, after_id: int, limit: int) -> list[StoredCopy]:
    """The first `limit` articles with an id above `after_id`, in id order."""
    query = (
        select(articles.c.id, articles.c.url, articles.c.slug, articles.c.feed_base)
        .where(articles.c.id > after_id)
        .order_by(articles.c.id)
        .limit(limit)
    )
    return [StoredCopy(*row) for row in conn.execute(query)]


def contents(conn: Connection, ids: Sequence[int]) -> dict[int, str]:
    """The stored content of these articles, by id (missing ones left out)."""
    found: dict[int, str] = {}
    for start in range(0, len(ids), hashtag_store.CHUNK):
        chunk = list(ids[start : start + hashtag_store.CHUNK])
        query = select(articles.c.id, articles.c.content_html).where(articles.c.id.in_(chunk))
        found.update({int(id_): content for id_, content in conn.execute(query)})
    return found


def set_feed_copy(
    conn: Connection, stored: StoredCopy, content_html: str, copy: FeedContent
) -> bool:
    """Give the article `copy` (made from `content_html`) unless its link fields or its
    content changed since they were read, a write whose copy stands; whether it did."""
    result = conn.execute(
        update(articles)
        .where(
            articles.c.id == stored.article_id,
            articles.c.slug == stored.slug,
            articles.c.url.is_not_distinct_from(stored.url),
            articles.c.content_html == content_html,
        )
        .values(feed_base=copy.base, feed_content=copy.html)
    )
    return result.rowcount == 1


def content_hash_of(conn: Connection, article_id: int) -> str | None:
    value: str | None = conn.execute(
        select(articles.c.content_hash).where(articles.c.id == article_id)
    ).scalar_one_or_none()
    return value


def has_tag(key: str) -> Any:
    return exists(
        select(article_hashtags.c.article_id)
        .join(hashtags, hashtags.c.id == article_hashtags.c.hashtag_id)
        .where(article_hashtags.c.article_id == articles.c.id, hashtags.c.key == key)
    )


def _matching(query: Select[Any], flt: ArticleFilter) -> Select[Any]:
    if flt.section:
        query = query.where(articles.c.section == flt.section)
    if flt.hashtag:
        query = query.where(has_tag(flt.hashtag))
    if flt.status:
        query = query.where(articles.c.status == flt.status.value)
    if flt.since:
        query = query.where(articles.c.updated_at >= flt.since)
    if flt.query:
        pattern = "%" + flt.query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(articles.c.title.ilike(pattern + "%", escape="\\"))
    return query


def list_articles(conn: Connection, flt: ArticleFilter) -> list[Article]:
    query = _matching(_SELECT, flt)
    query = query.order_by(articles.c.published_at.desc(), articles.c.id.desc())
    return load(conn, query.limit(flt.limit).offset(flt.offset))


def count_matching(conn: Connection, flt: ArticleFilter) -> int:
    """How many articles the filter matches, whatever its limit and offset."""
    query = _matching(select(func.count()).select_from(articles), flt)
    return int(conn.execute(query).scalar_one())


def newsroom_ids_with_url(conn: Connection, url: str) -> list[int]:
    """Ids of the newsroom's own articles whose canonical URL is `url` (at most two:
    one is a match, two say the URL is not a key)."""
    query = (
        select(articles.c.id)
        .where(articles.c.url == url, articles.c.source_id.is_(None))
        .order_by(articles.c.id)
        .limit(2)
    )
    return list(conn.execute(query).scalars())


def slug_taken(conn: Connection, slug: str) -> bool:
    return conn.execute(select(articles.c.id).where(articles.c.slug == slug)).first() is not None


def slugs_taken(conn: Connection, slugs: Sequence[str]) -> set[str]:
    """Which of these slugs stored articles already have."""
    wanted = sorted(set(slugs))
    taken: set[str] = set()
    for start in range(0, len(wanted), hashtag_store.CHUNK):
        chunk = wanted[start : start + hashtag_store.CHUNK]
        taken.update(
            conn.execute(select(articles.c.slug).where(articles.c.slug.in_(chunk))).scalars()
        )
    return taken


def count(conn: Connection) -> int:

    return int(conn.execute(select(func.count()).select_from(articles)).scalar_one())


def ingested_before(conn: Connection, source_id: int, cutoff: datetime) -> list[Article]:
    query = _SELECT.where(articles.c.source_id == source_id, articles.c.updated_at < cutoff)
    return load(conn, query)
