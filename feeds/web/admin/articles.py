"""Admin UI pages for articles: the list (totals, filters, pages), withdrawing (confirmed,
with a reason) and restoring. Editing and previewing one article are in article_edit.

Routes on the admin blueprint (see feeds.web.admin.base for the session and CSRF rules).
Withdrawing asks first on a page of its own, rendered by the server: the admin's
Content-Security-Policy runs no inline script, and the question works without any.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from flask import abort, flash, redirect, request, url_for

from feeds.errors import Conflict, NotFound, ValidationError
from feeds.hashtags import normalize_key
from feeds.models import Article, ArticleFilter, Status
from feeds.web import service
from feeds.web.admin.base import PAGE, actor, blueprint, page_number, render_page, safe_next

REASON_MAX = 500


def state(article: Article, now: datetime) -> str:
    """What an editor calls the article's state: a published article whose time has not
    come is "scheduled", not published."""
    if article.status is Status.PUBLISHED and article.published_at > now:
        return "scheduled"
    return article.status.value


@blueprint.get("/articles")
def articles() -> Any:
    args = request.args
    status = args.get("status", "")
    page = page_number(args.get("page"))
    hashtag = args.get("hashtag", "").strip().lstrip("#")
    flt = ArticleFilter(
        query=args.get("q", "").strip() or None,
        section=args.get("section") or None,
        hashtag=normalize_key(hashtag) if hashtag else None,
        status=Status(status) if status in {s.value for s in Status} else None,
        limit=PAGE,
        offset=(page - 1) * PAGE,
    )
    svc = service()
    total = svc.articles.count(flt)
    pages = max(1, -(-total // PAGE))
    if page > pages:
        # A page past the end (a bookmark from when there were more) shows the last one,
        # saying so in the address rather than silently showing something else.
        wanted: dict[str, Any] = args.to_dict() | {"page": pages}
        return redirect(url_for("admin.articles", **wanted))
    found = svc.articles.list(flt)
    now = svc.now()
    by_status = {
        s.value: svc.articles.count(replace(flt, status=s, limit=1, offset=0)) for s in Status
    }
    return render_page(
        "articles",
        articles=[(article, state(article, now)) for article in found],
        total=total,
        by_status=by_status,
        page=page,
        pages=pages,
        first=(page - 1) * PAGE + 1,
        last=(page - 1) * PAGE + len(found),
        args=args,
        sections=svc.catalog.sections(),
        statuses=[s.value for s in Status],
    )


def _withdrawable(article_id: int) -> Article:
    try:
        article = service().articles.get(article_id)
    except NotFound:
        abort(404)
    return article


@blueprint.get("/articles/<int:article_id>/withdraw")
def confirm_withdraw(article_id: int) -> Any:
    article = _withdrawable(article_id)
    back = safe_next(request.args.get("next"))
    if article.status is not Status.PUBLISHED:
        flash(f"{article.title}: {article.status.value}, so there is nothing to withdraw.")
        return redirect(back)
    return render_page(
        "withdraw", article=article, state=state(article, service().now()), back=back
    )


@blueprint.post("/articles/<int:article_id>/<any(withdraw,restore):action>")
def change_article(article_id: int, action: str) -> Any:
    audit = service().audit
    back = safe_next(request.form.get("next"))
    article = _withdrawable(article_id)
    if action == "withdraw":
        if article.status is not Status.PUBLISHED:
            # Drafts are kept out of feeds already; withdrawing one would only let a
            # later restore decide its fate.
            flash(f"{article.title}: {article.status.value}, so there is nothing to withdraw.")
            return redirect(back)
        reason = request.form.get("reason", "").strip()
        if len(reason) > REASON_MAX:
            error = f"The reason is longer than {REASON_MAX} characters."
            page = render_page(
                "withdraw", article=article, state=state(article, service().now()),
                back=back, reason=reason, error=error,
            )  # fmt: skip
            return page, 400
    try:
        if action == "withdraw":
            changed = audit.withdraw_article(actor(), article_id, reason=reason)
        else:
            changed = audit.restore_article(actor(), article_id)
    except NotFound:
        abort(404)
    except (ValidationError, Conflict) as exc:
        flash(f"Could not {action} article {article_id}: {exc}", "error")
    else:
        flash(f"{changed.title}: now {state(changed, service().now())}.")
    return redirect(back)
