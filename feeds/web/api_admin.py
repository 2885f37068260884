"""JSON API, version 1: tag feeds, and the OpenAPI document of the whole API.

Reads need any valid token; writes need the `admin` scope. Tag feeds from
config/tag_feeds.toml are read-only here (409 naming the file).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, render_template, url_for

from feeds.models import FeedFormat, FeedKey, FeedKind, TagFeed
from feeds.service.article_input import ArticleListAnswer
from feeds.service.tagfeed_input import TagFeedAnswer, TagFeedListAnswer
from feeds.web import service
from feeds.web.answer import answer
from feeds.web.auth import public, require
from feeds.web.jsonbody import json_body
from feeds.web.openapi import document as build_document

blueprint = Blueprint("api_admin", __name__)


def _actor() -> str:
    return f"token:{g.token.name}"


def _urls(slug: str) -> dict[str, str]:
    key = FeedKey(FeedKind.CUSTOM, slug)
    return {fmt.value: service().feeds.url(key, fmt) for fmt in FeedFormat}


def _feed(feed: TagFeed) -> Response:
    return answer(TagFeedAnswer, feed, feed_urls=_urls)


@blueprint.get("/tag-feeds")
@require()
def list_tag_feeds() -> Response:
    feeds = service().catalog.tag_feeds()
    return answer(TagFeedListAnswer, {"items": feeds, "count": len(feeds)}, feed_urls=_urls)


@blueprint.post("/tag-feeds")
@require("admin")
def create_tag_feed() -> tuple[Response, int, dict[str, str]]:
    feed = service().audit.create_tag_feed(_actor(), json_body())
    location = url_for("api_admin.get_tag_feed", slug=feed.slug)
    return _feed(feed), 201, {"Location": location}


@blueprint.post("/tag-feeds/preview")
@require()
def preview_tag_feed() -> Response:
    """The articles a rule would hold now; nothing is saved, so any token may ask."""
    body = json_body()
    if isinstance(body, dict):
        body = {"slug": "preview", "title": "Preview"} | body
    svc = service()
    feed = svc.audit.parse_tag_feed(body)
    items = svc.catalog.preview(feed)
    return answer(ArticleListAnswer, {"items": items, "count": len(items)})


@blueprint.get("/tag-feeds/<slug>")
@require()
def get_tag_feed(slug: str) -> Response:
    return _feed(service().catalog.tag_feed(slug))


@blueprint.put("/tag-feeds/<slug>")
@require("admin")
def replace_tag_feed(slug: str) -> Response:
    return _feed(service().audit.update_tag_feed(_actor(), slug, json_body()))


@blueprint.patch("/tag-feeds/<slug>")
@require("admin")
def patch_tag_feed(slug: str) -> Response:
    feed = service().audit.update_tag_feed(_actor(), slug, json_body(), partial=True)
    return _feed(feed)


@blueprint.delete("/tag-feeds/<slug>")
@require("admin")
def delete_tag_feed(slug: str) -> tuple[str, int]:
    service().audit.delete_tag_feed(_actor(), slug)
    return "", 204


def openapi_document() -> dict[str, Any]:
    """The API's description, built from the payload declarations and the settings."""
    settings = service().settings
    return build_document(settings, settings.public_root + "api/v1")


@blueprint.get("/openapi.json")
@public
def openapi() -> Response:
    """The API's description, open to all: a client needs it before it has a token."""
    return jsonify(openapi_document())


@blueprint.get("/docs")
@public
def docs() -> str:
    """The OpenAPI document as a page to read, rendered on the server (pages run no script)."""
    document = openapi_document()
    return render_template(
        "api_docs.html",
        doc=document,
        operations=operations(document),
        schemas=document.get("components", {}).get("schemas", {}),
        type_name=type_name,
        settings=service().settings,
    )


METHODS = ("get", "post", "put", "patch", "delete")


def operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every operation in path order, with its references reduced to schema names."""
    found = []
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            found.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "anchor": op.get("operationId") or f"{method}-{path}",
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "token": op.get("security", document.get("security")) != [],
                    "parameters": [
                        {
                            "name": p.get("name"),
                            "in": p.get("in"),
                            "type": type_name(p.get("schema", {})),
                            "required": p.get("required", False),
                            "description": p.get("description", ""),
                        }
                        for p in op.get("parameters", []) + item.get("parameters", [])
                    ],
                    "body": type_name(body.get("schema", {})) if body else "",
                    "responses": [
                        (
                            code,
                            answer.get("description", ""),
                            type_name(
                                answer.get("content", {})
                                .get("application/json", {})
                                .get("schema", {})
                            ),
                        )
                        for code, answer in op.get("responses", {}).items()
                    ],
                }
            )
    return found


def type_name(schema: dict[str, Any]) -> str:
    """A schema in a few words: `Article`, `list of string`, `draft | published`."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"])
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return " or ".join(type_name(s) for s in schema[key])
    kind = schema.get("type", "")
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind == "array":
        return f"list of {type_name(schema.get('items', {}))}"
    return str(kind)
