"""JSON API, version 1: articles. Every route needs a bearer token."""

from __future__ import annotations

import difflib
import re
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, request, url_for

from feeds.errors import Conflict, ValidationError
from feeds.hashtags import normalize_key
from feeds.models import ArticleFilter, Status
from feeds.service.article_input import parse_datetime
from feeds.service.articles import article_to_dict
from feeds.web import service
from feeds.web.auth import require
from feeds.web.errors import error_response
from feeds.web.jsonbody import json_body
from feeds.web.params import whole_number

blueprint = Blueprint("api", __name__)
# Ids beyond 32 bits are answered 404 by the service, before they reach the driver; a
# converter limit would instead let other rules match and answer 405.
ARTICLE = "/articles/<int:article_id>"
# An unencoded '+' in a query string arrives as a space: `since=...T10:00:00+09:00`.
LIST_PARAMETERS = ("section", "hashtag", "status", "since", "q", "limit", "offset")
PLUS_AS_SPACE = re.compile(r"([Tt ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d:?\d\d)$")


@blueprint.errorhandler(Conflict)
def conflict(exc: Conflict) -> Response:
    # The app-wide handler has no field to name; a slug clash knows its field.
    field = getattr(exc, "field", None)
    return error_response(409, str(exc), {field: str(exc)} if field else None)


def _int_arg(name: str, default: int, low: int, high: int, errors: dict[str, str]) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    value = whole_number(raw, maximum=high)
    if value is None or value < low:
        errors[name] = f"must be a whole number from {low} to {high}"
        return default
    return value


def _unknown_parameters(errors: dict[str, str]) -> None:
    # A misspelt parameter would otherwise be ignored and answer a list that looks right.
    for name in request.args:
        if name not in LIST_PARAMETERS:
            close = difflib.get_close_matches(name, LIST_PARAMETERS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            errors[name] = f"unknown parameter{hint} (known: {', '.join(LIST_PARAMETERS)})"


@blueprint.get("/articles")
@require()
def list_articles() -> Response:
    errors: dict[str, str] = {}  # NUL in any parameter was refused before (inputguard)
    _unknown_parameters(errors)
    status = request.args.get("status")
    if status is not None and status not in {s.value for s in Status}:
        errors["status"] = "must be one of draft, published, withdrawn"
    since_raw = request.args.get("since")
    if since_raw is not None:
        since_raw = PLUS_AS_SPACE.sub(r"\1+\2", since_raw.strip())
    since = parse_datetime(since_raw, "since", errors)
    limit = _int_arg("limit", 50, 1, 500, errors)
    offset = _int_arg("offset", 0, 0, 10**9, errors)
    svc = service()
    section = request.args.get("section") or None
    if section is not None and section not in {s.slug for s in svc.catalog.sections()}:
        errors["section"] = f"unknown section {section!r}"
    if errors:
        raise ValidationError(errors)
    hashtag = (request.args.get("hashtag") or "").strip().lstrip("#")
    flt = ArticleFilter(
        section=section,
        hashtag=normalize_key(hashtag) if hashtag else None,
        status=Status(status) if status else None,
        since=since,
        query=request.args.get("q") or None,
        limit=limit,
        offset=offset,
    )
    items = svc.articles.list(flt)
    total = svc.articles.count(flt)
    following = offset + len(items)
    next_url = None
    if items and following < total:
        wanted = request.args.to_dict() | {"offset": str(following), "limit": str(limit)}
        next_url = f"{svc.settings.public_root}api/v1/articles?{urlencode(wanted)}"
    return jsonify({"items": [article_to_dict(a) for a in items], "count": total, "next": next_url})


@blueprint.post("/articles")
@require("articles:write")
def create_article() -> tuple[Response, int, dict[str, str]]:
    article = service().articles.create(json_body())
    location = url_for("api.get_article", article_id=article.id)
    return jsonify(article_to_dict(article)), 201, {"Location": location}


@blueprint.get(ARTICLE)
@require()
def get_article(article_id: int) -> Response:
    return jsonify(article_to_dict(service().articles.get(article_id)))


@blueprint.put(ARTICLE)
@require("articles:write")
def replace_article(article_id: int) -> Response:
    return jsonify(article_to_dict(service().articles.replace(article_id, json_body())))


@blueprint.patch(ARTICLE)
@require("articles:write")
def patch_article(article_id: int) -> Response:
    return jsonify(article_to_dict(service().articles.patch(article_id, json_body())))


@blueprint.delete(ARTICLE)
@require("articles:write")
def withdraw_article(article_id: int) -> Response:
    return jsonify(article_to_dict(service().articles.withdraw(article_id)))
