"""Liveness and Prometheus metrics."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, generate_latest
from sqlalchemy import text

from feeds.web import service

blueprint = Blueprint("health", __name__)

FEED_REQUESTS = Counter(
    "feeds_feed_requests_total", "Feed responses by format and status", ["format", "status"]
)
CACHE_BYTES = Gauge("feeds_render_cache_bytes", "Bytes held by the rendered-feed cache")
CACHE_HITS = Gauge("feeds_render_cache_hits", "Rendered-feed cache hits since start")
CACHE_MISSES = Gauge("feeds_render_cache_misses", "Rendered-feed cache misses since start")


@blueprint.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Cheap: one trivial query and a stat() per config file, no feed work.

    `config` says whether the config files are valid now; when they are not, the
    service keeps running on its last good configuration, so this stays a 200.
    """
    svc = service()
    config = svc.setup.config_status().to_dict()
    try:
        with svc.ctx.store.read() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        failing = {"status": "failing", "database": str(exc).splitlines()[0], "config": config}
        return jsonify(failing), 503
    return jsonify({"status": "ok", "database": "ok", "config": config}), 200


@blueprint.get("/metrics")
def metrics() -> Response:
    cache = service().ctx.cache
    CACHE_BYTES.set(cache.bytes_used)
    CACHE_HITS.set(cache.hits)
    CACHE_MISSES.set(cache.misses)
    return Response(generate_latest(), content_type=CONTENT_TYPE_LATEST)
