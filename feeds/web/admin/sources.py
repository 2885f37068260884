"""Admin UI pages for outside sources: list, add, edit, enable/disable, remove, refresh.

Routes on the admin blueprint (see feeds.web.admin.base for the session and CSRF rules).
The form becomes the same payload the JSON API takes, so parse_source validates both;
every change is audited by SourceService under the signed-in user's name. Sources
declared in sources.toml are shown read-only, naming the file.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from flask import abort, flash, redirect, request, session, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as BaseResponse

from feeds.errors import Conflict, NotFound, ValidationError
from feeds.models import CategoryMode, Source
from feeds.service.source_health import entry_summary, health
from feeds.service.sources import ManagedByFile, parse_source
from feeds.web import service
from feeds.web.admin.base import actor, blueprint, render_page
from feeds.web.params import whole_number

_TAG_SPLIT = re.compile(r"[\s,#]+")
INT_FIELDS = ("interval_minutes", "retention_days", "max_items")
# The refresh result survives the redirect to the source page in the session.
REFRESHED = "source_refreshed"


def _mapping(text: str, errors: dict[str, str]) -> dict[str, str]:
    """`Category = Hashtag` lines as a dict; a line without `=` is a form error."""
    mapping: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        category, sep, tag = line.partition("=")
        if not sep or not category.strip() or not tag.strip(" #\t"):
            errors["categories"] = f"line {number}: write Category = Hashtag"
            continue
        mapping[category.strip()] = tag.strip(" #\t")
    return mapping


def form_payload(form: MultiDict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The source form as the payload parse_source takes, plus errors only a form can have."""
    errors: dict[str, str] = {}
    payload: dict[str, Any] = {
        "url": form.get("url", "").strip(),
        "name": form.get("name", "").strip(),
        "section": form.get("section", ""),
        "hashtags": [t for t in _TAG_SPLIT.split(form.get("hashtags", "")) if t],
        "enabled": form.get("enabled") == "on",
    }
    for name in INT_FIELDS:
        value = form.get(name, "").strip()
        # A non-number goes through as text so parse_source reports it on the field.
        number = whole_number(value)
        payload[name] = value if number is None else number
    mode = form.get("categories", "none")
    if mode == CategoryMode.MAP.value:
        mapping = _mapping(form.get("category_map", ""), errors)
        if not mapping and "categories" not in errors:
            errors["categories"] = "add at least one Category = Hashtag line"
        payload["categories"] = mapping or "none"
    else:
        payload["categories"] = mode
    if not payload["section"]:
        # No section is chosen for the editor: one picked silently files items wrongly.
        errors["section"] = "choose the section this source's items are filed under"
    return payload, errors


def _checked(payload: dict[str, Any], form_errors: dict[str, str]) -> None:
    """Raise every problem of the form at once: the form's own and the validator's."""
    try:
        parse_source(payload)
    except ValidationError as exc:
        raise ValidationError(exc.errors | form_errors) from None
    if form_errors:
        raise ValidationError(form_errors)


def _values(source: Source | None, form: MultiDict[str, str] | None) -> dict[str, Any]:
    if form is not None:
        values: dict[str, Any] = dict(form.items())
        values["enabled"] = form.get("enabled") == "on"
        return values
    if source is None:
        return {
            "categories": "none", "enabled": True, "interval_minutes": 15,
            "retention_days": 30, "max_items": 100,
        }  # fmt: skip
    rule = source.categories
    return {
        "url": source.url,
        "name": source.name,
        "section": source.section,
        "hashtags": " ".join(f"#{t.display}" for t in source.hashtags),
        "categories": rule.mode.value,
        "category_map": "\n".join(f"{c} = {t}" for c, t in rule.mapping),
        "interval_minutes": source.interval_seconds // 60,
        "retention_days": source.retention_days,
        "max_items": source.max_items,
        "enabled": source.enabled,
    }


def _form(source: Source | None, form: Any = None, errors: Any = None, probe: Any = None) -> str:
    svc = service()
    context: dict[str, Any] = {}
    if source is not None and source.id is not None:
        refreshed = session.get(REFRESHED)
        if isinstance(refreshed, dict) and refreshed.get("source_id") == source.id:
            outcome = session.pop(REFRESHED)
            # The session holds text; the page shows the time in the admin's zone.
            raw = outcome.get("next_check_at")
            outcome["next_check"] = datetime.fromisoformat(raw) if raw else None
            context["outcome"] = outcome
        context["health"] = health(source, svc.now())
        context["last_errors"] = svc.sources.last_errors(source)
    return render_page(
        "sources_form",
        source=source,
        values=_values(source, form),
        errors=errors or {},
        sections=svc.catalog.sections(),
        modes=[m.value for m in CategoryMode],
        probe=probe,
        **context,
    )


def _source(source_id: int) -> Source:
    try:
        return service().sources.get(source_id)
    except NotFound:
        abort(404)


@blueprint.get("/sources")
def sources() -> str:
    svc = service()
    now = svc.now()
    rows = [(s, health(s, now)) for s in svc.sources.list()]
    return render_page("sources", rows=rows)


@blueprint.route("/sources/new", methods=["GET", "POST"])
def new_source() -> Any:
    if request.method == "GET":
        return _form(None)
    payload, form_errors = form_payload(request.form)
    try:
        _checked(payload, form_errors)
        source = service().sources.add(payload, actor=actor())
    except ValidationError as exc:
        return _form(None, request.form, exc.errors), 422
    except Conflict as exc:
        return _form(None, request.form, {"url": str(exc)}), 409
    flash(f"Added source {source.name}: it is fetched on the next scheduler tick.")
    return redirect(url_for("admin.edit_source", source_id=source.id))


@blueprint.route("/sources/<int:source_id>", methods=["GET", "POST"])
def edit_source(source_id: int) -> Any:
    current = _source(source_id)
    if request.method == "GET":
        return _form(current)
    payload, form_errors = form_payload(request.form)
    try:
        _checked(payload, form_errors)
        saved = service().sources.update(source_id, payload, actor=actor())
    except ValidationError as exc:
        return _form(current, request.form, exc.errors), 422
    except ManagedByFile as exc:
        return _form(current, request.form, {"form": str(exc)}), 409
    except Conflict as exc:
        return _form(current, request.form, {"url": str(exc)}), 409
    flash(f"Saved source {saved.name}.")
    return redirect(url_for("admin.edit_source", source_id=source_id))


@blueprint.post("/sources/check")
@blueprint.post("/sources/<int:source_id>/check")
def check_source_url(source_id: int | None = None) -> str:
    """Try the form's URL (or a feed the page named, `use_url`) without saving anything:
    the form comes back as typed, with what the URL turned out to be."""
    current = _source(source_id) if source_id is not None else None
    form = request.form.copy()
    chosen = form.get("use_url", "").strip()
    if chosen:
        form["url"] = chosen
    url = form.get("url", "").strip()
    if not url:
        return _form(current, form, {"url": "type the URL to check"})
    found = service().sources.probe(url)
    if found.kind == "feed" and not form.get("name", "").strip() and found.title:
        form["name"] = found.title[:200]  # a starting point the editor may change
    return _form(current, form, probe=found)


@blueprint.post("/sources/<int:source_id>/<any(enable,disable):action>")
def toggle_source(source_id: int, action: str) -> BaseResponse:
    sources = service().sources
    change = sources.enable if action == "enable" else sources.disable
    try:
        source = change(source_id, actor=actor())
    except NotFound:
        abort(404)
    except ManagedByFile as exc:
        flash(str(exc), "error")
    else:
        flash(f"{source.name}: {'enabled' if source.enabled else 'disabled'}.")
    return redirect(url_for("admin.edit_source", source_id=source_id))


@blueprint.post("/sources/<int:source_id>/delete")
def delete_source(source_id: int) -> BaseResponse:
    name = _source(source_id).name
    try:
        service().sources.remove(source_id, actor=actor())
    except NotFound:
        abort(404)
    except ManagedByFile as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.edit_source", source_id=source_id))
    flash(f"Removed source {name} and its articles.")
    return redirect(url_for("admin.sources"))


@blueprint.post("/sources/<int:source_id>/refresh")
def refresh_source(source_id: int) -> BaseResponse:
    """Fetch now (file-managed sources too: refreshing changes no configuration)."""
    try:
        outcome = service().sources.refresh(source_id, actor=actor())
    except NotFound:
        abort(404)
    session[REFRESHED] = outcome.to_dict() | {"summary": entry_summary(outcome.counts)}
    return redirect(url_for("admin.edit_source", source_id=source_id))
