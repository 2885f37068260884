"""Admin UI pages for tag feeds: list, create, edit, delete, live preview.

Routes on the admin blueprint (see feeds.web.admin.base for the session and CSRF rules).
The form becomes the same payload the JSON API takes, so one validator serves both.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Response, abort, flash, jsonify, redirect, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as BaseResponse

from feeds.errors import Conflict, NotFound, ValidationError
from feeds.models import FeedFormat, FeedKey, FeedKind, TagFeed
from feeds.web import service
from feeds.web.admin.base import actor, blueprint, render_page
from feeds.web.params import whole_number

# -- tag feeds ------------------------------------------------------------------------

_TAG_SPLIT = re.compile(r"[\s,#]+")
RULE_TAGS = ("any_of", "all_of", "none_of")
# What the form calls each field; the validator (shared with the API) uses the names.
LABELS = {
    "title": "Title",
    "slug": "Slug",
    "description": "Description",
    "any_of": "Any of these hashtags",
    "all_of": "All of these hashtags",
    "none_of": "None of these hashtags",
    "sections": "Only in sections",
    "include_sponsored": "Include sponsored articles",
    "limit": "Items in the feed",
    "rule": "Rule",
    "form": "Form",
}
_NAME = re.compile(r"\b(any_of|all_of|none_of|sections)\b")


def in_words(errors: dict[str, str]) -> dict[str, str]:
    """Validator messages with the form's labels for field names ("“All of these
    hashtags”" for all_of); keys stay the field names, which the page links to."""
    return {
        name: _NAME.sub(lambda m: f"“{LABELS[m.group(1)]}”", message)
        for name, message in errors.items()
    }


def form_payload(form: MultiDict[str, str]) -> dict[str, Any]:
    """The tag feed form as the payload parse_tag_feed validates (same rules as the API)."""
    limit = form.get("limit", "").strip()
    number = whole_number(limit)
    payload: dict[str, Any] = {
        "slug": form.get("slug", "").strip(),
        "title": form.get("title", "").strip(),
        "description": form.get("description", "").strip(),
        "sections": [s for s in form.getlist("sections") if s],
        "include_sponsored": form.get("include_sponsored") == "on",
        # Left as text when it is not a number, so the validator names the field.
        "limit": number if number is not None else limit or 50,
    }
    for name in ("any_of", "all_of", "none_of"):
        payload[name] = [t for t in _TAG_SPLIT.split(form.get(name, "")) if t]
    return payload


def feed_urls(slug: str) -> dict[str, str]:
    key = FeedKey(FeedKind.CUSTOM, slug)
    return {fmt.value: service().feeds.url(key, fmt) for fmt in FeedFormat}


def _form_values(feed: TagFeed | None, payload: dict[str, Any] | None) -> dict[str, Any]:
    if payload is None and feed is not None:
        # Rules keep hashtag keys; the form shows them as articles write them.
        shown = service().catalog.hashtag_displays(
            [*feed.rule.any_of, *feed.rule.all_of, *feed.rule.none_of]
        )
        payload = {
            "slug": feed.slug,
            "title": feed.title,
            "description": feed.description,
            "any_of": [shown[k] for k in feed.rule.any_of],
            "all_of": [shown[k] for k in feed.rule.all_of],
            "none_of": [shown[k] for k in feed.rule.none_of],
            "sections": feed.rule.sections,
            "include_sponsored": feed.rule.include_sponsored,
            "limit": feed.limit,
        }
    return payload or {"limit": service().settings.feed_limit, "sections": []}


def _feed_form(feed: TagFeed | None, payload: Any = None, errors: Any = None) -> str:
    return render_page(
        "tag_feed_form",
        feed=feed,
        values=_form_values(feed, payload),
        errors=in_words(errors or {}),
        labels=LABELS,
        sections=service().catalog.sections(),
        urls=feed_urls(feed.slug) if feed else None,
    )


@blueprint.get("/tag-feeds")
def tag_feeds() -> str:
    svc = service()
    feeds = svc.catalog.tag_feeds()
    shown = svc.catalog.hashtag_displays(
        key for f in feeds for key in (*f.rule.any_of, *f.rule.all_of, *f.rule.none_of)
    )
    return render_page(
        "tag_feeds",
        feeds=feeds,
        shown=shown,
        urls={f.slug: feed_urls(f.slug) for f in feeds},
    )


@blueprint.route("/tag-feeds/new", methods=["GET", "POST"])
def new_tag_feed() -> Any:
    if request.method == "GET":
        return _feed_form(None)
    payload = form_payload(request.form)
    try:
        feed = service().audit.create_tag_feed(actor(), payload)
    except ValidationError as exc:
        return _feed_form(None, payload, exc.errors), 422
    except Conflict as exc:
        return _feed_form(None, payload, {"slug": str(exc)}), 409
    flash(f"Created tag feed {feed.title}.")
    return redirect(url_for("admin.edit_tag_feed", slug=feed.slug))


@blueprint.route("/tag-feeds/<slug>", methods=["GET", "POST"])
def edit_tag_feed(slug: str) -> Any:
    svc = service()
    try:
        feed = svc.catalog.tag_feed(slug)
    except NotFound:
        abort(404)
    if request.method == "GET":
        return _feed_form(feed)
    payload = form_payload(request.form)
    try:
        saved = svc.audit.update_tag_feed(actor(), slug, payload)
    except ValidationError as exc:
        return _feed_form(feed, payload, exc.errors), 422
    except Conflict as exc:
        return _feed_form(feed, payload, {"form": str(exc)}), 409
    flash(f"Saved tag feed {saved.title}.")
    return redirect(url_for("admin.edit_tag_feed", slug=saved.slug))


@blueprint.post("/tag-feeds/<slug>/delete")
def delete_tag_feed(slug: str) -> BaseResponse:
    try:
        service().audit.delete_tag_feed(actor(), slug)
    except NotFound:
        abort(404)
    except Conflict as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.edit_tag_feed", slug=slug))
    flash(f"Deleted tag feed {slug}.")
    return redirect(url_for("admin.tag_feeds"))


@blueprint.post("/tag-feeds/preview")
def preview_tag_feed() -> tuple[Response, int]:
    """What the form's rule would hold, as JSON for the page's live preview."""
    payload = form_payload(request.form)
    # A rule can be previewed before it has a name.
    payload["slug"] = payload["slug"] or "preview"
    payload["title"] = payload["title"] or "Preview"
    svc = service()
    try:
        feed = svc.audit.parse_tag_feed(payload)
    except ValidationError as exc:
        problems = in_words(exc.errors)
        named = {LABELS.get(name, name): message for name, message in problems.items()}
        return jsonify({"ok": False, "errors": named}), 422
    items = [
        {
            "title": a.title,
            "url": url_for("feeds.article_page", slug=a.slug),
            "section": a.section,
            "published_at": a.published_at.isoformat(),
            "hashtags": [t.display for t in a.hashtags],
        }
        for a in svc.catalog.preview(feed)
    ]
    return jsonify({"ok": True, "count": len(items), "items": items}), 200
