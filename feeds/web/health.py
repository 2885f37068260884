"""Health and Prometheus metrics."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, generate_latest

from feeds.web import service

blueprint = Blueprint("health", __name__)

FEED_REQUESTS = Counter(
    "feeds_feed_requests_total", "Feed responses by format and status", ["format", "status"]
)
CACHE_BYTES = Gauge("feeds_render_cache_bytes", "Bytes held by the rendered-feed cache")
CACHE_HITS = Gauge("feeds_render_cache_hits", "Rendered-feed cache hits since start")
CACHE_MISSES = Gauge("feeds_render_cache_misses", "Rendered-feed cache misses since start")
HEALTH = Gauge(
    "feeds_health_check_ok", "1 when a health check passes, 0 when it fails", ["check", "state"]
)


@blueprint.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 when everything serving needs is there, 503 when something is not.

    The body gives each check's state and nothing else: no file, host or port. The
    details go to the log (when a state changes), /metrics and the admin dashboard.
    An invalid config file is reported but is no 503: the service keeps its last
    good configuration.
    """
    report = service().health.check()
    response = jsonify(report.public())
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if report.ok else 503


@blueprint.get("/metrics")
def metrics() -> Response:
    svc = service()
    cache = svc.cache
    CACHE_BYTES.set(cache.bytes_used)
    CACHE_HITS.set(cache.hits)
    CACHE_MISSES.set(cache.misses)
    HEALTH.clear()
    report = svc.health.check()
    for check in report.checks + report.warnings:
        HEALTH.labels(check.name, check.state).set(1 if check.ok else 0)
    return Response(generate_latest(), content_type=CONTENT_TYPE_LATEST)
