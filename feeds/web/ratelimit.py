"""Per-client rate limits on the API, the admin's sign-in and WebSub subscription
requests, with Flask-Limiter.

Counters live where every process sees them (the store, or Redis when configured), so
four workers do not grant four times the limit. Only `/api/` and the login form are
limited: feeds are served to anyone as often as they ask (conditional GETs are cheap,
and nginx serves them in production).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

from flask import Blueprint, Flask, Response, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from feeds.service import Service
from feeds.settings import Settings
from feeds.web.errors import error_response

LOGIN_ENDPOINT = "admin.login"
# Subscription requests to the built-in WebSub hub: public writes, each of which makes
# the hub call someone's callback.
HUB_ENDPOINT = "hub.websub"


def _limited() -> bool:
    return request.path.startswith("/api/") or request.endpoint in (LOGIN_ENDPOINT, HUB_ENDPOINT)


def _unauthenticated(response: Response) -> bool:
    return response.status_code == 401


def register(
    app: Flask,
    settings: Settings,
    service: Service,
    api_blueprints: Iterable[Blueprint],
    admin_blueprint: Blueprint,
    hub_blueprint: Blueprint,
) -> Limiter:
    uri, options = service.rate_limit_storage()
    limiter = Limiter(
        # The client's address; behind a proxy, `proxy_hops` makes it X-Forwarded-For's.
        key_func=get_remote_address,
        storage_uri=uri,
        storage_options=options,
        strategy="fixed-window",
        headers_enabled=True,
        key_prefix="feeds",
    )
    # Everything else skips the limiter before any lookup: feeds stay one stat away.
    limiter.request_filter(lambda: not _limited())
    for blueprint in api_blueprints:
        if settings.api_rate_limit.strip():
            limiter.shared_limit(settings.api_rate_limit, scope="api")(blueprint)
        if settings.api_auth_failure_limit.strip():
            # Checked on every API request, counted only when the token was refused:
            # guessing tokens stops, honest clients never notice.
            limiter.shared_limit(
                settings.api_auth_failure_limit,
                scope="api-auth-failures",
                deduct_when=_unauthenticated,
            )(blueprint)
    if settings.login_rate_limit.strip():
        limiter.limit(
            settings.login_rate_limit,
            exempt_when=lambda: (
                not (request.endpoint == LOGIN_ENDPOINT and request.method == "POST")
            ),
        )(admin_blueprint)
    if settings.api_rate_limit.strip():
        limiter.limit(
            settings.api_rate_limit,
            exempt_when=lambda: request.endpoint != HUB_ENDPOINT,
        )(hub_blueprint)
    limiter.init_app(app)

    @app.errorhandler(RateLimitExceeded)
    def too_many(exc: RateLimitExceeded) -> Response:
        current = limiter.current_limit
        wait = math.ceil(current.reset_at - time.time()) if current else 60
        return error_response(
            429,
            f"too many requests from your address (limit: {exc.description}); slow down",
            retry_after=max(1, wait),
        )

    return limiter
