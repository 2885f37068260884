"""Admin changes that leave a trace: every write here records who, when, before and after.

The admin UI and the admin API both call these methods rather than the catalog or the
article service directly, so neither can forget the audit entry or the file-managed
check. Config-file applies are not audited here: the file's history is in version control.
"""

from __future__ import annotations

import hashlib
from typing import Any

from feeds.errors import Conflict
from feeds.models import Article, TagFeed
from feeds.service.articles import ArticleService
from feeds.service.catalog import CatalogService
from feeds.service.context import Context
from feeds.service.tagfeed_input import parse_tag_feed, tag_feed_to_dict
from feeds.store import audit as audit_store
from feeds.store.audit import AuditEntry

READ_ONLY = ("id", "managed_by")


def note(
    ctx: Context,
    actor: str | None,
    action: str,
    target: tuple[str, str],
    *,
    before: Any = None,
    after: Any = None,
) -> None:
    """Log a change when someone made it (`actor` given), in the change's own unit of
    work: the entry and the change are written together or not at all.

    `target` is (kind, id). Changes made without an actor (tests, start-up) are not
    logged: there is nobody to name. Called outside a unit of work, it raises.
    """
    if actor is None:
        return
    kind, target_id = target
    audit_store.record(
        ctx.connection(), at=ctx.now(), actor=actor, action=action, target_kind=kind,
        target_id=target_id, before=before, after=after,
    )  # fmt: skip


def file_managed(feed: TagFeed) -> Conflict:
    return Conflict(
        f"tag feed {feed.slug!r} is managed by {feed.managed_by}; "
        "change it there and run `feeds config apply`"
    )


def _article_state(article: Article) -> dict[str, Any]:
    # The fields an admin changes; the body would bloat the log without helping anyone.
    return {
        "title": article.title,
        "slug": article.slug,
        "status": article.status.value,
        "section": article.section,
        "updated_at": article.updated_at.isoformat(),
    }


def _edit_state(article: Article) -> dict[str, Any]:
    # What the edit form changes. The body is logged by size and digest: enough to see
    # that it changed without copying every article into the log.
    body = article.content_html.encode()
    return _article_state(article) | {
        "summary": article.summary,
        "hashtags": [tag.display for tag in article.hashtags],
        "image": article.image.url if article.image else None,
        "published_at": article.published_at.isoformat(),
        "content": f"{len(body)} bytes, sha256 {hashlib.sha256(body).hexdigest()[:12]}",
    }


class AuditService:
    def __init__(self, ctx: Context, catalog: CatalogService, articles: ArticleService) -> None:
        self.ctx = ctx
        self.catalog = catalog
        self.articles = articles

    # -- the log ----------------------------------------------------------------------

    def entries(
        self, limit: int = 100, offset: int = 0, target_kind: str | None = None
    ) -> list[AuditEntry]:
        with self.ctx.store.read() as conn:
            return audit_store.entries(conn, limit=limit, offset=offset, target_kind=target_kind)

    # -- tag feeds --------------------------------------------------------------------

    def parse_tag_feed(self, payload: Any) -> TagFeed:
        """Validate an admin payload (the file-only `managed_by` is never taken from it)."""
        return parse_tag_feed(payload, max_limit=self.ctx.settings.feed_limit_max)

    def create_tag_feed(self, actor: str, payload: Any) -> TagFeed:
        feed = self.parse_tag_feed(payload)
        with self.ctx.unit_of_work():
            stored = self.catalog.create_tag_feed(feed)
            note(
                self.ctx,
                actor,
                "create",
                ("tag_feed", stored.slug),
                after=tag_feed_to_dict(stored),
            )
        return stored

    def update_tag_feed(
        self, actor: str, slug: str, payload: Any, *, partial: bool = False
    ) -> TagFeed:
        """Replace (or with `partial`, merge into) a tag feed; file-managed ones refuse."""
        with self.ctx.unit_of_work():
            current = self._editable(slug)
            if isinstance(payload, dict):
                base = tag_feed_to_dict(current) if partial else {"slug": slug}
                payload = {k: v for k, v in (base | payload).items() if k not in READ_ONLY}
            feed = self.parse_tag_feed(payload)
            stored = self.catalog.update_tag_feed(slug, feed)
            if stored != current:
                note(
                    self.ctx,
                    actor,
                    "update",
                    ("tag_feed", slug),
                    before=tag_feed_to_dict(current),
                    after=tag_feed_to_dict(stored),
                )
        return stored

    def delete_tag_feed(self, actor: str, slug: str) -> None:
        with self.ctx.unit_of_work():
            current = self._editable(slug)
            self.catalog.delete_tag_feed(slug)
            note(
                self.ctx,
                actor,
                "delete",
                ("tag_feed", slug),
                before=tag_feed_to_dict(current),
            )

    def _editable(self, slug: str) -> TagFeed:
        # Inside the caller's unit of work: the feed as the change will find it.
        current = self.catalog.tag_feed(slug)
        if current.managed_by:
            raise file_managed(current)
        return current

    # -- articles ---------------------------------------------------------------------

    def withdraw_article(self, actor: str, article_id: int, reason: str = "") -> Article:
        """Withdraw; the editor's reason, when given, is kept in the audit entry."""
        return self._article_change(
            actor, article_id, "withdraw", self.articles.withdraw, reason=reason.strip()
        )

    def restore_article(self, actor: str, article_id: int) -> Article:
        """Restore to the status before withdrawal (see ArticleService.restore)."""
        return self._article_change(actor, article_id, "restore", self.articles.restore)

    def edit_article(self, actor: str, article_id: int, changes: dict[str, Any]) -> Article:
        """Apply an editor's changes (API field names, as a PATCH) and log them."""
        return self._article_change(
            actor, article_id, "edit", lambda i: self.articles.patch(i, changes), state=_edit_state
        )

    def _article_change(
        self,
        actor: str,
        article_id: int,
        action: str,
        change: Any,
        reason: str = "",
        state: Any = _article_state,
    ) -> Article:
        # The change joins this unit of work: it and its entry are written together or
        # not at all.
        with self.ctx.unit_of_work():
            before = self.articles.get(article_id)
            after: Article = change(article_id)
            if after != before:
                note(
                    self.ctx,
                    actor,
                    action,
                    ("article", str(article_id)),
                    before=state(before),
                    after=state(after) | ({"reason": reason} if reason else {}),
                )
        return after
