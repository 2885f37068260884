"""Creating, changing and listing articles; every write moves the versions it affects."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import astuple, dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from feeds.absolutize import article_link, feed_copy, with_feed_copy
from feeds.errors import Conflict, NotFound, ValidationError
from feeds.ingest.sanitize import sanitize_html
from feeds.models import Article, ArticleFilter, FeedKey, FeedMoves, Status, TagFeed
from feeds.service.article_import import ImportReport, import_records
from feeds.service.article_input import ArticleDraft, article_to_dict, validate
from feeds.service.context import Context
from feeds.service.feedkeys import TRENDING, in_trending, keys_of, month_of, query_for
from feeds.settings import Settings
from feeds.slugs import slugify
from feeds.store import articles as article_store
from feeds.store import feedquery as feed_query
from feeds.store import sections as section_store
from feeds.store import tagfeeds as tagfeed_store
from feeds.store import versions as version_store
from feeds.store.articles import StoredCopy

# Articles `refresh_copies` examines per transaction: the default and the most.
COPY_BATCH = 500
COPY_BATCH_MAX = 10_000

# Ids are 32-bit integer keys on PostgreSQL; a larger id cannot exist, and passing it to
# the driver would be an out-of-range error instead of a 404.
MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class CopyReport:
    """What `refresh_copies` did, so far or in all."""

    examined: int = 0
    made: int = 0  # articles that had no feed copy (stored before copies were kept)
    remade: int = 0  # copies made against another link (a change of `public_url`)
    current: int = 0  # copies made against the article's link: left as they are
    # Articles written while the run read them: that write made their copy.
    changed: int = 0

    def __add__(self, other: CopyReport) -> CopyReport:
        return CopyReport(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))


class SlugTaken(Conflict):
    """The wanted slug belongs to another article; `field` lets callers name it."""

    field = "slug"


# What readers see of an article: a change to any of these is an edit, which moves
# `updated_at` (unless the writer sets it) and the feeds holding the article. `views`
# is not among them: it only ranks trending. Status changes (withdraw, restore) also
# stamp `updated_at`, in _set_status.
EDITORIAL_FIELDS = (
    "title", "slug", "summary", "content_html", "author", "section", "hashtags", "url",
    "image", "sponsored", "language", "published_at",
)  # fmt: skip


def is_edit(old: Article, new: Article) -> bool:
    return any(getattr(old, name) != getattr(new, name) for name in EDITORIAL_FIELDS)


def feed_moves(
    old: Article | None,
    new: Article | None,
    now: datetime,
    tag_feeds: Sequence[TagFeed],
    settings: Settings,
) -> FeedMoves:
    """How replacing *old* by *new* (either may be None) moves feed versions, and no other.

    A draft edited into another draft changes no feed; a scheduled article changes its
    feeds when it comes due, which is recorded as the feeds' next change instead. A
    change of views alone moves no timeline feed, only trending.
    """
    before = old if old is not None and old.visible_at(now) else None
    after = new if new is not None and new.visible_at(now) else None
    views_only = (
        before is not None and after is not None and replace(before, views=after.views) == after
    )
    changed: set[FeedKey] = set()
    # The archive of the month each side was shown in (both, when an edit moves the
    # date to another month); trending is a ranking and has no archives.
    months: set[tuple[FeedKey, str, datetime]] = set()
    for shown in (before, after):
        if shown is None:
            continue
        if not views_only:
            keys = keys_of(shown, tag_feeds, settings)
            changed |= keys
            month = month_of(shown.published_at)
            months |= {(key, month, now) for key in keys}
        if in_trending(shown, settings):
            changed.add(TRENDING)
    # A tag a visible article carried (before or after) has a known feed; a scheduled
    # article that came due is recorded here at its next write if no one settled it.
    public = frozenset().union(*(shown.hashtag_keys for shown in (before, after) if shown))
    expected: tuple[tuple[frozenset[FeedKey], datetime], ...] = ()
    if new is not None and new.status is Status.PUBLISHED and new.published_at > now:
        coming = keys_of(new, tag_feeds, settings)
        if in_trending(new, settings):
            coming.add(TRENDING)
        expected = ((frozenset(coming), new.published_at),)
        due = month_of(new.published_at)
        months |= {(key, due, new.published_at) for key in coming if key != TRENDING}
    return FeedMoves(frozenset(changed), public, expected, frozenset(months))


def record_change(ctx: Context, old: Article | None, new: Article | None) -> None:
    """Move the version of every feed whose content this write changes (see feed_moves),
    in the unit of work the write runs in."""
    conn, now, settings = ctx.connection(), ctx.now(), ctx.settings
    moves = feed_moves(old, new, now, tagfeed_store.all_feeds(conn), settings)
    if TRENDING in moves.changed and not _trending_moves(conn, old, new, now, settings):
        moves = replace(moves, changed=moves.changed - {TRENDING})
    version_store.move(conn, moves, now)


def _trending_moves(
    conn: Connection, old: Article | None, new: Article | None, now: datetime, settings: Settings
) -> bool:
    """Whether a write feed_moves says moves trending really changes what it shows: a
    change of views alone does only when it reorders the ranking's visible places (any
    `?limit=` up to `feed_limit_max`) within the window; other writes always may."""
    if old is None or new is None or old.id is None or replace(old, views=new.views) != new:
        return True
    refresh = timedelta(seconds=settings.trending_refresh_seconds)
    spec = query_for(TRENDING, settings, now)
    assert spec.published_after is not None
    # The window is pinned to a refresh bucket, so it may start up to one bucket earlier.
    if new.published_at < spec.published_after - refresh:
        return False
    views = (old.views, new.views)
    return feed_query.ranking_moves(
        conn, spec, now, old.id, views, settings.feed_limit_max, refresh
    )


class ArticleService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def mint_guid(self) -> str:
        # Random, so it never depends on slug, URL or title, all of which may change.
        return f"tag:{self.ctx.settings.guid_authority}:article:{uuid.uuid4()}"

    def parse(self, payload: Any) -> ArticleDraft:
        """Validate a payload (API body, import record) with this service's settings."""
        settings = self.ctx.settings
        return validate(
            payload,
            default_language=settings.language,
            max_hashtags=settings.max_hashtags_per_article,
        )

    def _check_refs(self, conn: Connection, draft: ArticleDraft) -> None:
        if section_store.get(conn, draft.section) is None:
            raise ValidationError({"section": f"unknown section {draft.section!r}"})

    def _unique_slug(self, conn: Connection, wanted: str, *, own_id: int | None) -> str:
        slug, n = wanted, 1
        while True:
            holder = article_store.get_by(conn, slug=slug)
            if holder is None or holder.id == own_id:
                return slug
            n += 1
            slug = f"{wanted}-{n}"

    def _build(
        self, conn: Connection, draft: ArticleDraft, *, guid: str, own: Article | None
    ) -> Article:
        now = self.ctx.now()
        self._check_refs(conn, draft)
        if draft.slug is not None:
            holder = article_store.get_by(conn, slug=draft.slug)
            if holder is not None and (own is None or holder.id != own.id):
                raise SlugTaken(f"slug {draft.slug!r} belongs to article {holder.id}")
            slug = draft.slug
        elif own is not None:
            slug = own.slug
        else:
            slug = self._unique_slug(conn, slugify(draft.title), own_id=None)
        published = draft.published_at or (own.published_at if own else now)
        # A new article was last changed when it was published (for a scheduled one,
        # when it comes due); an edit changes it now, and a change of views alone
        # (see EDITORIAL_FIELDS) keeps the stored time.
        updated = draft.updated_at or (own.updated_at if own else published)
        article = Article(
            id=own.id if own else None,
            guid=guid,
            slug=slug,
            title=draft.title,
            summary=draft.summary,
            content_html=draft.content_html,
            author=draft.author,
            section=draft.section,
            hashtags=draft.hashtags,
            published_at=published,
            updated_at=updated,
            url=draft.url,
            image=draft.image,
            views=draft.views,
            sponsored=draft.sponsored,
            status=draft.status,
            language=draft.language,
            origin=own.origin if own else None,
        )
        if own is not None and draft.updated_at is None and is_edit(own, article):
            article = replace(article, updated_at=now)
        return article

    def create(self, payload: Any) -> Article:
        return self.insert_draft(self.parse(payload))

    def insert_draft(self, draft: ArticleDraft) -> Article:
        """Store a validated draft as a new article (in the caller's unit of work if one
        is open).

        A new article published with neither content nor summary is refused: such a
        payload is nearly always a client that forgot its body, and publishing it would
        put an empty item in every feed at once. Drafts may be empty.
        """
        if draft.status is Status.PUBLISHED and not (draft.content_html.strip() or draft.summary):
            raise ValidationError(
                {
                    "content_html": "a published article needs content_html or a summary; "
                    'send "status": "draft" to save it without them'
                }
            )
        with self.ctx.unit_of_work() as conn:
            article = self._build(conn, draft, guid=self.mint_guid(), own=None)
            root = self.ctx.settings.public_root
            copied = with_feed_copy(article, root, absolute=_resolved(draft))
            article_id = article_store.insert_article(conn, copied)
            record_change(self.ctx, None, article)
        return replace(article, id=article_id)

    def get(self, article_id: int) -> Article:
        with self.ctx.read() as conn:
            return self._stored(conn, article_id)

    def _stored(self, conn: Connection, article_id: int) -> Article:
        """The stored article; NotFound also for an id no row can have."""
        found = article_store.get_by(conn, id=article_id) if 0 < article_id <= MAX_ID else None
        if found is None:
            raise NotFound(f"no article {article_id}")
        return found

    def get_by_slug(self, slug: str) -> Article:
        with self.ctx.store.read() as conn:
            found = article_store.get_by(conn, slug=slug)
        if found is None:
            raise NotFound(f"no article {slug!r}")
        return found

    def list(self, flt: ArticleFilter) -> list[Article]:
        with self.ctx.store.read() as conn:
            return article_store.list_articles(conn, flt)

    def replace(self, article_id: int, payload: Any) -> Article:
        draft = self.parse(payload)
        return self._update(article_id, lambda _old: draft)

    def patch(self, article_id: int, changes: Any) -> Article:
        if not isinstance(changes, dict):
            raise ValidationError({"body": "must be a JSON object"})

        def merged(old: Article) -> ArticleDraft:
            current = article_to_dict(old)
            # Unless the patch sets updated_at, _build decides it: the edit time when an
            # editorial field changed, the stored time otherwise (views alone).
            for name in ("id", "guid", "origin", "updated_at"):
                current.pop(name)
            for name in ("id", "guid", "origin"):
                if name in changes:
                    raise ValidationError({name: "is read-only"})
            return self.parse(current | changes)

        return self._update(article_id, merged)

    def withdraw(self, article_id: int) -> Article:
        """Take an article out of every feed; it stays readable through the API."""
        return self._set_status(article_id, Status.WITHDRAWN)

    def restore(self, article_id: int) -> Article:
        """Return a withdrawn article to the status it had before it was withdrawn.

        A draft comes back a draft (its hashtags stay unknown), a published or scheduled
        article comes back published. When that status is unknown (withdrawn before
        it was kept) the article comes back a draft: a restore never publishes anything
        by surprise. An article that is not withdrawn is left as it is.
        """

        def previous(conn: Connection, old: Article) -> Status:
            assert old.id is not None
            if old.status is not Status.WITHDRAWN:
                return old.status
            return article_store.status_before_withdrawal(conn, old.id) or Status.DRAFT

        return self._set_status(article_id, previous)

    def _set_status(
        self, article_id: int, status: Status | Callable[[Connection, Article], Status]
    ) -> Article:
        """Change only the status (and the update time); *status* may be a function of
        the connection and the stored article.

        The stored fields are not validated again: an ingested article may hold values
        the API would not accept (an empty title, an enclosure without a type), and
        withdrawing or restoring it must still work.
        """
        with self.ctx.unit_of_work() as conn:
            old = self._stored(conn, article_id)
            wanted = status if isinstance(status, Status) else status(conn, old)
            if old.status is wanted:
                return old
            new = replace(old, status=wanted, updated_at=self.ctx.now())
            self._write(conn, old, new)
            return new

    def _write(
        self, conn: Connection, old: Article, new: Article, *, absolute: bool = False
    ) -> None:
        """Replace `old` by `new`; `absolute`: every URL in new's content is absolute (see
        with_feed_copy), else its feed copy is made unless the stored one still holds."""
        assert old.id is not None
        # The content hash describes what ingest last fetched, not what an editor typed;
        # keeping it stops the next unchanged fetch from overwriting the edit.
        content_hash = article_store.content_hash_of(conn, old.id)
        root = self.ctx.settings.public_root
        copied = with_feed_copy(new, root, absolute=absolute, stored=old)
        article_store.update_article(conn, old.id, copied, content_hash=content_hash)
        # However it is withdrawn (here, the API's DELETE or PATCH), the status it had
        # is kept for a restore; leaving "withdrawn" any way forgets it.
        if new.status is Status.WITHDRAWN and old.status is not Status.WITHDRAWN:
            article_store.set_status_before_withdrawal(conn, old.id, old.status)
        elif old.status is Status.WITHDRAWN and new.status is not Status.WITHDRAWN:
            article_store.set_status_before_withdrawal(conn, old.id, None)
        record_change(self.ctx, old, new)

    def _update(self, article_id: int, make: Any) -> Article:
        with self.ctx.unit_of_work() as conn:
            old = self._stored(conn, article_id)
            return self.revise(old, make(old))

    def revise(self, old: Article, draft: ArticleDraft) -> Article:
        """Replace `old` by the draft (in the caller's unit of work if one is open);
        `old` itself when the draft changes nothing (no write, no version moves)."""
        with self.ctx.unit_of_work() as conn:
            new = self._build(conn, draft, guid=old.guid, own=old)
            if replace(new, updated_at=old.updated_at) == old:
                return old
            self._write(conn, old, new, absolute=_resolved(draft))
        return new

    def refresh_copies(
        self, batch: int = COPY_BATCH, progress: Callable[[CopyReport], None] | None = None
    ) -> CopyReport:
        """Give every article the feed copy a write would give it now: those stored
        before copies were kept, and those made against another public URL.

        `batch` articles are examined per transaction, in id order, so a run stopped
        midway keeps what it did and the next one finds only what is left; over a
        store whose copies are current a run writes nothing. Feeds render the same
        either way (they make a missing copy at render), only faster after.
        """
        if not 1 <= batch <= COPY_BATCH_MAX:
            raise ValidationError({"batch": f"must be a whole number from 1 to {COPY_BATCH_MAX}"})
        root = self.ctx.settings.public_root
        report = CopyReport()
        after = 0
        while True:
            with self.ctx.store.begin() as conn:
                rows = article_store.stored_copies(conn, after, batch)
                if not rows:
                    return report
                report += _refresh_batch(conn, rows, root)
            after = rows[-1].article_id
            if progress is not None:
                progress(report)

    def import_lines(self, lines: Iterable[str], *, dry_run: bool = False) -> ImportReport:
        """Create or update articles from NDJSON lines, all or nothing (see article_import)."""
        return import_records(self, self.ctx, lines, dry_run=dry_run)

    def display_html(self, article: Article, page_url: str) -> str:
        """The article's HTML made safe to show on our own pages (allow-listed by nh3).

        Stored HTML is already sanitised on write; sanitising again here costs little and
        protects the page, which shares an origin with the admin UI, from any row that
        reached the store another way.
        """
        return sanitize_html(article.content_html, article.url or page_url)

    def sanitized(self, html: str, base_url: str | None) -> str:
        """HTML as it would be stored: what an editor's preview shows before saving."""
        return sanitize_html(html, base_url)

    def count(self, flt: ArticleFilter | None = None) -> int:
        """Every article, or those `flt` matches (its limit and offset do not count)."""
        with self.ctx.store.read() as conn:
            if flt is None:
                return article_store.count(conn)
            return article_store.count_matching(conn, flt)


def _resolved(draft: ArticleDraft) -> bool:
    """Whether every URL in the draft's content is absolute: its content was sanitised
    against its URL (article_input), which resolves each one or drops it; without a
    URL, relative references are kept for the feed writers to resolve."""
    return draft.url is not None


def _refresh_batch(conn: Connection, rows: Sequence[StoredCopy], root: str) -> CopyReport:
    """Feed copies for the articles of `rows` whose copy is missing or was made against
    another link than theirs under the public base `root`."""
    links = {row.article_id: article_link(row.url, row.slug, root) for row in rows}
    stale = [row for row in rows if row.feed_base != links[row.article_id]]
    found = article_store.contents(conn, [row.article_id for row in stale])
    made = remade = changed = 0
    for row in stale:
        content = found.get(row.article_id)
        if content is None:
            changed += 1  # deleted since (a source removed with its articles)
            continue
        copy = feed_copy(content, links[row.article_id])
        if not article_store.set_feed_copy(conn, row, content, copy):
            changed += 1
        elif row.feed_base is None:
            made += 1
        else:
            remade += 1
    return CopyReport(len(rows), made, remade, len(rows) - len(stale), changed)
