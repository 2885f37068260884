"""JSON API, version 1: outside sources and their health.

Reading needs any valid token; changing or refreshing needs the `admin` scope. Sources
declared in sources.toml are read-only here (409 naming the file). Every change and
refresh is audited under the token's name.
"""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, url_for

from feeds.service.push import push_to_dict
from feeds.service.source_input import RefreshedAnswer, SourceAnswer, SourceListAnswer
from feeds.service.sources import ManagedByFile, source_to_dict
from feeds.web import service
from feeds.web.answer import answer
from feeds.web.auth import require
from feeds.web.errors import error_response
from feeds.web.jsonbody import json_body

blueprint = Blueprint("api_sources", __name__)
# Ids past the integer range are a 404 from the service, like articles.
SOURCE = "/sources/<int:source_id>"


def _actor() -> str:
    return f"token:{g.token.name}"


@blueprint.errorhandler(ManagedByFile)
def managed(exc: ManagedByFile) -> Response:
    return error_response(409, str(exc), {"managed_by": str(exc.managed_by)})


@blueprint.get("/sources")
@require()
def list_sources() -> Response:
    found = service().sources.list()
    return answer(SourceListAnswer, {"items": found, "count": len(found)})


@blueprint.post("/sources")
@require("admin")
def create_source() -> tuple[Response, int, dict[str, str]]:
    source = service().sources.add(json_body(), actor=_actor())
    location = url_for("api_sources.get_source", source_id=source.id)
    return answer(SourceAnswer, source), 201, {"Location": location}


@blueprint.get(SOURCE)
@require()
def get_source(source_id: int) -> Response:
    svc = service()
    data = source_to_dict(svc.sources.get(source_id))
    data["push"] = push_to_dict(svc.push.state(source_id))
    return jsonify(data)


@blueprint.put(SOURCE)
@require("admin")
def replace_source(source_id: int) -> Response:
    return answer(SourceAnswer, service().sources.update(source_id, json_body(), actor=_actor()))


@blueprint.patch(SOURCE)
@require("admin")
def patch_source(source_id: int) -> Response:
    changed = service().sources.update(source_id, json_body(), partial=True, actor=_actor())
    return answer(SourceAnswer, changed)


@blueprint.delete(SOURCE)
@require("admin")
def delete_source(source_id: int) -> tuple[str, int]:
    service().sources.remove(source_id, actor=_actor())
    return "", 204


@blueprint.post(f"{SOURCE}/refresh")
@require("admin")
def refresh_source(source_id: int) -> Response:
    """Fetch now. 200 whatever the outcome: the fetch failing is news, not an API error."""
    svc = service()
    outcome = svc.sources.refresh(source_id, actor=_actor())
    return answer(RefreshedAnswer, {"outcome": outcome, "source": svc.sources.get(source_id)})
