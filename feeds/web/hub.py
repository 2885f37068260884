"""The built-in WebSub hub's endpoint, and its subscribers in the API.

`POST /websub` takes a subscriber's form (W3C WebSub 5.1) and answers 202 once the
intent is recorded; the scheduler verifies it and delivers (see feeds.service.hub).
A malformed request is a 400 naming the field. The hub is on unless `hub_enabled` is
off, in which case `/websub` is a 404.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, request

from feeds.errors import ValidationError
from feeds.service.feeds import HUB_PATH
from feeds.service.hub import HubSubscriptionListAnswer
from feeds.web import service
from feeds.web.answer import answer
from feeds.web.auth import require

blueprint = Blueprint("hub", __name__)
api_blueprint = Blueprint("api_hub", __name__)
ROUTE = "/" + HUB_PATH


@blueprint.post(ROUTE)
def websub() -> Response:
    svc = service()
    if not svc.settings.hub_enabled:
        abort(404)
    try:
        svc.hub.request(request.form.to_dict())
    except ValidationError as exc:
        detail = "; ".join(f"{name} {problem}" for name, problem in exc.errors.items())
        return Response(f"400: {detail}\n", status=400, content_type="text/plain; charset=utf-8")
    return Response("Accepted: the callback will be asked to confirm.\n", status=202,
                    content_type="text/plain; charset=utf-8")  # fmt: skip


@blueprint.get(f"{ROUTE}/callback/<token>")
def callback_verify(token: str) -> Response:
    """An outside hub verifying a subscription we asked for: echo its challenge."""
    params = {key: request.args.get(key, "") for key in request.args}
    body = service().push.verify(token, params)
    if body is None:
        abort(404)
    return Response(body, content_type="text/plain; charset=utf-8")


@blueprint.post(f"{ROUTE}/callback/<token>")
def callback_deliver(token: str) -> Response:
    """An outside hub delivering a source's new content (ingested when signed by it)."""
    svc = service()
    limit = svc.settings.fetch_max_bytes
    if request.content_length is not None and request.content_length > limit:
        abort(413, f"a delivery may be at most {limit} bytes")
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        abort(413, f"a delivery may be at most {limit} bytes")
    status = svc.push.receive(
        token, body, request.headers.get("X-Hub-Signature", ""), request.content_type or None
    )
    if status == 202:
        return Response("Accepted.\n", status=202, content_type="text/plain; charset=utf-8")
    if status == 503:
        return Response("Busy: retry.\n", status=503, headers={"Retry-After": "60"})
    abort(status)


@blueprint.get(ROUTE)
def about() -> Response:
    if not service().settings.hub_enabled:
        abort(404)
    text = "WebSub hub for this service's feeds: POST hub.mode, hub.topic, hub.callback.\n"
    return Response(text, content_type="text/plain; charset=utf-8")


@api_blueprint.get("/websub/subscriptions")
@require("admin")
def list_subscriptions() -> Response:
    found = service().hub.subscriptions()
    return answer(HubSubscriptionListAnswer, {"items": found, "count": len(found)})
