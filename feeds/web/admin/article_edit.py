"""Admin UI pages for one article: the edit form with a sanitised preview, and a
preview of the article as readers would see it, shown to signed-in admins whatever its
status (a draft or scheduled article has no public page yet).

Routes on the admin blueprint (see feeds.web.admin.base for the session and CSRF rules).
The form becomes a PATCH payload with the API's field names, so the API's validator
judges both; every problem is shown at once, next to its field.
"""

from __future__ import annotations

import mimetypes
from typing import Any
from urllib.parse import urlsplit

from flask import abort, flash, redirect, request, url_for
from werkzeug.datastructures import MultiDict

from feeds.errors import Conflict, NotFound, ValidationError
from feeds.models import Article, Status
from feeds.service.articles import article_to_dict
from feeds.web import service
from feeds.web.admin.base import actor, blueprint, render_page
from feeds.web.admin.timefmt import from_local_input, to_local_input

# API field names whose form field is named differently.
FORM_FIELD = {"image.url": "image_url", "image.alt": "image_alt", "image.mime_type": "image_url"}
IMAGE_TYPES = ".jpg, .png, .gif, .webp or .avif"


def _article(article_id: int) -> Article:
    try:
        return service().articles.get(article_id)
    except NotFound:
        abort(404)


def _image(form: MultiDict[str, str], article: Article, errors: dict[str, str]) -> Any:
    url = form.get("image_url", "").strip()
    alt = form.get("image_alt", "").strip()
    if not url:
        return None
    current = article.image
    if current is not None and current.url == url:
        # The same picture: its type and size stay what ingest or the API recorded.
        return {"url": url, "mime_type": current.mime_type, "length": current.length, "alt": alt}
    mime, _ = mimetypes.guess_type(urlsplit(url).path)
    if not mime or not mime.startswith("image/"):
        errors["image_url"] = f"must name an image file ending in {IMAGE_TYPES}"
        return None
    return {"url": url, "mime_type": mime, "length": None, "alt": alt}


Problems = dict[str, str]


def form_changes(form: MultiDict[str, str], article: Article) -> tuple[dict[str, Any], Problems]:
    """The form as PATCH changes, and the problems only the form can see (a date that is
    not one, an image URL without a type)."""
    errors: dict[str, str] = {}
    changes: dict[str, Any] = {
        name: form.get(name, "") for name in ("title", "summary", "content_html", "section")
    }
    changes["hashtags"] = form.get("hashtags", "")
    changes["status"] = form.get("status", "")
    published = from_local_input(form.get("published_at", ""))
    if published is None:
        errors["published_at"] = "must be a date and time such as 2026-01-12 17:23"
    else:
        changes["published_at"] = published.isoformat()
    image = _image(form, article, errors)
    if "image_url" not in errors:
        changes["image"] = image
    return changes, errors


def _field(name: str) -> str:
    # "hashtags[2]" is about the hashtags field; "image.url" is the image_url field.
    return FORM_FIELD.get(name, name.split("[", 1)[0])


def check(article: Article, changes: dict[str, Any]) -> dict[str, str]:
    """Every problem the API's validator finds in the article with these changes."""
    merged = {
        k: v
        for k, v in article_to_dict(article).items()
        if k not in ("id", "guid", "origin", "updated_at")
    }
    try:
        service().articles.parse(merged | changes)
    except ValidationError as exc:
        return {_field(name): message for name, message in exc.errors.items()}
    return {}


def form_values(article: Article) -> dict[str, str]:
    return {
        "title": article.title,
        "summary": article.summary,
        "content_html": article.content_html,
        "section": article.section,
        "hashtags": " ".join(f"#{tag.display}" for tag in article.hashtags),
        "status": article.status.value,
        "published_at": to_local_input(article.published_at),
        "image_url": article.image.url if article.image else "",
        "image_alt": article.image.alt if article.image else "",
    }


@blueprint.route("/articles/<int:article_id>/edit", methods=["GET", "POST"])
def edit_article(article_id: int) -> Any:
    svc = service()
    article = _article(article_id)
    values = form_values(article)
    errors: dict[str, str] = {}
    preview: str | None = None
    status = 200
    if request.method == "POST":
        values = {name: request.form.get(name, "") for name in values}
        changes, errors = form_changes(request.form, article)
        errors = check(article, changes) | errors
        if request.form.get("action") == "preview":
            preview = svc.articles.sanitized(values["content_html"], article.url)
        elif not errors:
            try:
                changed = svc.audit.edit_article(actor(), article_id, changes)
            except ValidationError as exc:
                errors = {_field(name): message for name, message in exc.errors.items()}
            except Conflict as exc:
                errors = {getattr(exc, "field", None) or "form": str(exc)}
            else:
                flash(f"Saved “{changed.title}”.")
                return redirect(url_for("admin.edit_article", article_id=article_id))
        status = 422 if errors and request.form.get("action") != "preview" else 200
    page = render_page(
        "article_form",
        article=article,
        values=values,
        errors=errors,
        preview=preview,
        sections=svc.catalog.sections(),
        statuses=[s.value for s in Status],
    )
    return page, status


@blueprint.get("/articles/<int:article_id>/preview")
def preview_article(article_id: int) -> str:
    svc = service()
    article = _article(article_id)
    public = article.visible_at(svc.now())
    return render_page(
        "article_preview",
        article=article,
        public=public,
        content=svc.articles.display_html(article, request.base_url),
    )
