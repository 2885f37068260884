"""HTTP: public feeds, the JSON API, health and metrics."""

from __future__ import annotations

from typing import cast

from flask import Flask, current_app
from werkzeug.middleware.proxy_fix import ProxyFix

from feeds.service import Service
from feeds.settings import Settings


def service() -> Service:
    return cast(Service, current_app.extensions["feeds"])


def register(app: Flask, settings: Settings) -> None:
    from feeds.web.api import blueprint as api_blueprint
    from feeds.web.errors import register as register_errors
    from feeds.web.feeds import blueprint as feeds_blueprint
    from feeds.web.health import blueprint as health_blueprint

    if settings.proxy_hops:
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops
        )
    app.register_blueprint(feeds_blueprint)
    app.register_blueprint(api_blueprint, url_prefix="/api/v1")
    app.register_blueprint(health_blueprint)
    register_errors(app)
