"""JSON API, version 1: articles. Every route needs a bearer token."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, request, url_for

from feeds.errors import Conflict, ValidationError
from feeds.service.article_filter import list_query
from feeds.service.article_input import ArticleAnswer, ArticleListAnswer
from feeds.web import service
from feeds.web.answer import answer
from feeds.web.auth import require
from feeds.web.errors import error_response
from feeds.web.jsonbody import json_body
from feeds.web.params import whole_number

blueprint = Blueprint("api", __name__)
# Ids beyond 32 bits are answered 404 by the service, before they reach the driver; a
# converter limit would instead let other rules match and answer 405.
ARTICLE = "/articles/<int:article_id>"
# An unencoded '+' in a query string arrives as a space: `since=...T10:00:00+09:00`.
PLUS_AS_SPACE = re.compile(r"([Tt ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d:?\d\d)$")


@blueprint.errorhandler(Conflict)
def conflict(exc: Conflict) -> Response:
    # The app-wide handler has no field to name; a slug clash knows its field.
    field = getattr(exc, "field", None)
    return error_response(409, str(exc), {field: str(exc)} if field else None)


@blueprint.get("/articles")
@require()
def list_articles() -> Response:
    # A query string carries text: numbers are read here, anything else is left for the
    # check to refuse by name (NUL in any parameter was refused before, by inputguard).
    given: dict[str, Any] = request.args.to_dict()
    for name in ("limit", "offset"):
        if name in given:
            number = whole_number(given[name])
            given[name] = given[name] if number is None else number
    if "since" in given:
        given["since"] = PLUS_AS_SPACE.sub(r"\1+\2", given["since"].strip())
    svc = service()
    errors: dict[str, str] = {}
    try:
        query = list_query(given)
    except ValidationError as exc:
        errors = exc.errors
        query = None
    section = given.get("section")
    if (
        section
        and "section" not in errors
        and section not in {s.slug for s in svc.catalog.sections()}
    ):
        errors["section"] = f"unknown section {section!r}"
    if errors or query is None:
        raise ValidationError(errors)
    flt = query.to_filter()
    items = svc.articles.list(flt)
    total = svc.articles.count(flt)
    following = flt.offset + len(items)
    next_url = None
    if items and following < total:
        wanted = request.args.to_dict() | {"offset": str(following), "limit": str(flt.limit)}
        next_url = f"{svc.settings.public_root}api/v1/articles?{urlencode(wanted)}"
    return answer(ArticleListAnswer, {"items": items, "count": total, "next": next_url})


@blueprint.post("/articles")
@require("articles:write")
def create_article() -> tuple[Response, int, dict[str, str]]:
    article = service().articles.create(json_body())
    location = url_for("api.get_article", article_id=article.id)
    return answer(ArticleAnswer, article), 201, {"Location": location}


@blueprint.get(ARTICLE)
@require()
def get_article(article_id: int) -> Response:
    return answer(ArticleAnswer, service().articles.get(article_id))


@blueprint.put(ARTICLE)
@require("articles:write")
def replace_article(article_id: int) -> Response:
    return answer(ArticleAnswer, service().articles.replace(article_id, json_body()))


@blueprint.patch(ARTICLE)
@require("articles:write")
def patch_article(article_id: int) -> Response:
    return answer(ArticleAnswer, service().articles.patch(article_id, json_body()))


@blueprint.delete(ARTICLE)
@require("articles:write")
def withdraw_article(article_id: int) -> Response:
    return answer(ArticleAnswer, service().articles.withdraw(article_id))
