"""HTTP: public feeds, the JSON API, health and metrics."""

from __future__ import annotations

from typing import cast

from flask import Flask, current_app, request
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from feeds.service import Service
from feeds.settings import Settings


def service() -> Service:
    return cast(Service, current_app.extensions["feeds"])


def register(app: Flask, settings: Settings) -> None:
    from feeds.web.admin import blueprint as admin_blueprint
    from feeds.web.api import blueprint as api_blueprint
    from feeds.web.api_admin import blueprint as api_admin_blueprint
    from feeds.web.api_sources import blueprint as api_sources_blueprint
    from feeds.web.csp import register as register_csp
    from feeds.web.errors import register as register_errors
    from feeds.web.feeds import blueprint as feeds_blueprint
    from feeds.web.health import blueprint as health_blueprint
    from feeds.web.hub import api_blueprint as api_hub_blueprint
    from feeds.web.hub import blueprint as hub_blueprint
    from feeds.web.inputguard import register as register_inputguard
    from feeds.web.pollstats import register as register_pollstats
    from feeds.web.published import register as register_published
    from feeds.web.ratelimit import register as register_ratelimit
    from feeds.web.sessions import SharedKeySessionInterface

    register_published(app, settings)  # inside ProxyFix: it needs the client's address
    if settings.proxy_hops:
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops
        )
    register_inputguard(app)  # first: no other hook sees a NUL
    app.register_blueprint(feeds_blueprint)
    app.register_blueprint(api_blueprint, url_prefix="/api/v1")
    app.register_blueprint(health_blueprint)
    app.register_blueprint(api_admin_blueprint, url_prefix="/api/v1")
    app.register_blueprint(api_sources_blueprint, url_prefix="/api/v1")
    app.register_blueprint(admin_blueprint, url_prefix="/admin")
    app.register_blueprint(hub_blueprint)
    app.register_blueprint(api_hub_blueprint, url_prefix="/api/v1")
    app.session_interface = SharedKeySessionInterface()
    register_csrf(app)
    api = [api_blueprint, api_admin_blueprint, api_sources_blueprint, api_hub_blueprint]
    svc = cast(Service, app.extensions["feeds"])
    register_ratelimit(app, settings, svc, api, admin_blueprint, hub_blueprint)
    register_pollstats(app)
    register_errors(app)
    register_csp(app)


def register_csrf(app: Flask) -> None:
    """CSRF tokens on every form-posting route; the JSON API under /api/ is exempt.

    The API authenticates with bearer tokens, which a browser never sends on its own,
    so a forged cross-site request cannot carry them. Exempting by path rather than by
    blueprint keeps API blueprints added later exempt, and everything else protected.
    """
    from feeds.web.sessions import ensure_secret_key, needs_session

    csrf = CSRFProtect()
    # Tokens live as long as the session: an admin form left open over lunch still posts.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)

    @app.before_request
    def csrf_protect() -> None:
        if needs_session(request.path):
            # Raises StorageError (a 503 page) when the shared key cannot be read.
            ensure_secret_key(app)
        # The WebSub hub and callbacks take posts from other servers, never from a browser.
        exempt = request.path.startswith(("/api/", "/websub/")) or request.path == "/websub"
        if app.config["WTF_CSRF_ENABLED"] and not exempt:
            if request.method not in app.config["WTF_CSRF_METHODS"]:
                return
            ensure_secret_key(app)
            csrf.protect(apply_exemptions=True)
