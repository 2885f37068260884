"""JSON API, version 1: tag feeds, and the OpenAPI document of the whole API.

Reads need any valid token; writes need the `admin` scope. Tag feeds from
config/tag_feeds.toml are read-only here (409 naming the file).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from flask import Blueprint, Response, g, jsonify, url_for

from feeds.models import FeedFormat, FeedKey, FeedKind, TagFeed
from feeds.service.articles import article_to_dict
from feeds.service.catalog import tag_feed_to_dict
from feeds.web import service
from feeds.web.auth import require
from feeds.web.jsonbody import json_body

blueprint = Blueprint("api_admin", __name__)


def _actor() -> str:
    return f"token:{g.token.name}"


def _feed(feed: TagFeed) -> dict[str, Any]:
    key = FeedKey(FeedKind.CUSTOM, feed.slug)
    data = tag_feed_to_dict(feed)
    data["urls"] = {fmt.value: service().feeds.url(key, fmt) for fmt in FeedFormat}
    return data


@blueprint.get("/tag-feeds")
@require()
def list_tag_feeds() -> Response:
    feeds = service().catalog.tag_feeds()
    return jsonify({"items": [_feed(f) for f in feeds], "count": len(feeds)})


@blueprint.post("/tag-feeds")
@require("admin")
def create_tag_feed() -> tuple[Response, int, dict[str, str]]:
    feed = service().audit.create_tag_feed(_actor(), json_body())
    location = url_for("api_admin.get_tag_feed", slug=feed.slug)
    return jsonify(_feed(feed)), 201, {"Location": location}


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
    return jsonify({"items": [article_to_dict(a) for a in items], "count": len(items)})


@blueprint.get("/tag-feeds/<slug>")
@require()
def get_tag_feed(slug: str) -> Response:
    return jsonify(_feed(service().catalog.tag_feed(slug)))


@blueprint.put("/tag-feeds/<slug>")
@require("admin")
def replace_tag_feed(slug: str) -> Response:
    return jsonify(_feed(service().audit.update_tag_feed(_actor(), slug, json_body())))


@blueprint.patch("/tag-feeds/<slug>")
@require("admin")
def patch_tag_feed(slug: str) -> Response:
    feed = service().audit.update_tag_feed(_actor(), slug, json_body(), partial=True)
    return jsonify(_feed(feed))


@blueprint.delete("/tag-feeds/<slug>")
@require("admin")
def delete_tag_feed(slug: str) -> tuple[str, int]:
    service().audit.delete_tag_feed(_actor(), slug)
    return "", 204


@cache
def _openapi() -> dict[str, Any]:
    text = resources.files("feeds.web").joinpath("static/openapi.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@blueprint.get("/openapi.json")
@require()
def openapi() -> Response:
    """The API's description; behind a token like every /api/ route, so none is forgotten."""
    document = dict(_openapi())
    document["servers"] = [{"url": service().settings.public_root + "api/v1"}]
    return jsonify(document)
