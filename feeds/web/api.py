"""JSON API, version 1: articles. Every route needs a bearer token."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for

from feeds.errors import ValidationError
from feeds.hashtags import normalize_key
from feeds.models import ArticleFilter, Status
from feeds.service.article_input import parse_datetime
from feeds.service.articles import article_to_dict
from feeds.web import service
from feeds.web.auth import require
from feeds.web.errors import error_response

blueprint = Blueprint("api", __name__)


def json_body() -> Any:
    """The request's JSON; a body that is not JSON is a 400, not a 422."""
    data = request.get_json(silent=True)
    if data is None:
        raise BadJSON()
    return data


class BadJSON(Exception):
    pass


@blueprint.errorhandler(BadJSON)
def bad_json(_exc: BadJSON) -> Response:
    return error_response(400, "the body must be JSON (Content-Type: application/json)")


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ValidationError({name: f"must be a whole number from {low} to {high}"})
    return int(raw)


@blueprint.get("/articles")
@require()
def list_articles() -> Response:
    errors: dict[str, str] = {}
    status = request.args.get("status")
    if status is not None and status not in {s.value for s in Status}:
        errors["status"] = "must be one of draft, published, withdrawn"
    since = parse_datetime(request.args.get("since"), "since", errors)
    if errors:
        raise ValidationError(errors)
    hashtag = request.args.get("hashtag")
    flt = ArticleFilter(
        section=request.args.get("section") or None,
        hashtag=normalize_key(hashtag) if hashtag else None,
        status=Status(status) if status else None,
        since=since,
        query=request.args.get("q") or None,
        limit=_int_arg("limit", 50, 1, 500),
        offset=_int_arg("offset", 0, 0, 10**9),
    )
    items = service().articles.list(flt)
    return jsonify({"items": [article_to_dict(a) for a in items], "count": len(items)})


@blueprint.post("/articles")
@require("articles:write")
def create_article() -> tuple[Response, int, dict[str, str]]:
    article = service().articles.create(json_body())
    location = url_for("api.get_article", article_id=article.id)
    return jsonify(article_to_dict(article)), 201, {"Location": location}


@blueprint.get("/articles/<int:article_id>")
@require()
def get_article(article_id: int) -> Response:
    return jsonify(article_to_dict(service().articles.get(article_id)))


@blueprint.put("/articles/<int:article_id>")
@require("articles:write")
def replace_article(article_id: int) -> Response:
    return jsonify(article_to_dict(service().articles.replace(article_id, json_body())))


@blueprint.patch("/articles/<int:article_id>")
@require("articles:write")
def patch_article(article_id: int) -> Response:
    return jsonify(article_to_dict(service().articles.patch(article_id, json_body())))


@blueprint.delete("/articles/<int:article_id>")
@require("articles:write")
def withdraw_article(article_id: int) -> Response:
    return jsonify(article_to_dict(service().articles.withdraw(article_id)))
