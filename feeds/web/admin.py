"""The admin web UI at /admin/: login, dashboard, tag feeds, sources, articles, audit log.

Server-rendered with Jinja2. Every route but the login page needs a session; every
form carries a CSRF token (checked app-wide, see feeds.web.register_csrf). Changes go
through service.audit so each one is logged with who made it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from werkzeug.wrappers import Response as BaseResponse

from feeds.models import Source
from feeds.service import Service
from feeds.service.source_health import SourceHealth, health
from feeds.service.users import LoginThrottled
from feeds.web import csp, service
from feeds.web.params import whole_number
from feeds.web.pollstats import poller_stats

# Far beyond any real listing, and small enough that the offset fits every database.
MAX_PAGE = 100_000

blueprint = Blueprint(
    "admin",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
# A stolen session cookie stops working after this long, whatever the browser does.
SESSION_HOURS = 12
PAGE = 50
OPEN = {"admin.login", "admin.static"}


class AdminSessionInterface(SecureCookieSessionInterface):
    """Marks the session cookie Secure exactly when the request came over HTTPS.

    Decided per request rather than by a global SESSION_COOKIE_SECURE, so one
    deployment serves plain-HTTP development and HTTPS production correctly. Behind
    a TLS-terminating proxy, set `proxy_hops` so X-Forwarded-Proto is believed.
    """

    def get_cookie_secure(self, app: Any) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


def _now() -> datetime:
    return service().ctx.now()


def _signed_in_user() -> str | None:
    name, since = session.get("user"), session.get("login_at")
    if not isinstance(name, str) or not isinstance(since, int | float):
        return None
    if _now().timestamp() - since > SESSION_HOURS * 3600:
        return None
    # Re-checked on every request so disabling a user ends their sessions at once, and a
    # new password ends the sessions begun before it.
    user = service().users.active(name)
    if user is None:
        return None
    if user.password_changed_at is not None and since < user.password_changed_at.timestamp():
        return None
    return name


def _safe_next(target: str | None) -> str:
    # Only paths inside the admin UI: never an absolute or scheme-relative URL.
    if target and target.startswith("/admin/") and not target.startswith("//"):
        return target
    return url_for("admin.dashboard")


@blueprint.before_request
def require_session() -> BaseResponse | None:
    if request.endpoint in OPEN:
        return None
    user = _signed_in_user()
    if user is None:
        session.clear()
        wanted = request.full_path if request.method == "GET" else None
        return redirect(url_for("admin.login", next=wanted))
    g.admin_user = user
    return None


@blueprint.after_request
def admin_headers(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers[csp.HEADER] = csp.ADMIN
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def actor() -> str:
    return f"user:{g.admin_user}"


def render_page(name: str, **context: Any) -> str:
    svc = service()
    return render_template(
        f"admin/{name}.html", settings=svc.settings, user=g.get("admin_user"), **context
    )


# -- login ------------------------------------------------------------------------------


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Any:
    svc = service()
    error, status = None, 200
    if request.method == "POST":
        name = request.form.get("name", "")
        password = request.form.get("password", "")
        try:
            user = svc.users.authenticate(name, password, request.remote_addr or "unknown")
        except LoginThrottled as exc:
            error, status = f"Too many failed attempts. Try again after {exc.until:%H:%M} UTC.", 429
        else:
            if user is not None:
                session.clear()  # a fresh session: nothing from before login carries over
                session["user"] = user.name
                session["login_at"] = _now().timestamp()
                return redirect(_safe_next(request.args.get("next")))
            error, status = "Wrong name or password.", 401
    return render_page("login", error=error, next=request.args.get("next", "")), status


@blueprint.post("/logout")
def logout() -> BaseResponse:
    session.clear()
    return redirect(url_for("admin.login"))


# -- dashboard ------------------------------------------------------------------------


def sources_panel(svc: Service) -> list[tuple[Source, SourceHealth]] | None:
    """Outside sources with their health for the dashboard, or None while the service
    has no sources part (older builds, and a test that takes it away)."""
    sources = getattr(svc, "sources", None)
    lister = getattr(sources, "list", None)
    if not callable(lister):
        return None
    now = _now()
    return [(source, health(source, now)) for source in lister()]


@blueprint.get("/")
def dashboard() -> str:
    svc = service()
    return render_page(
        "dashboard",
        listing=svc.directory.listing(),
        polls=poller_stats().summary(),
        sources=sources_panel(svc),
        config=svc.setup.config_status(),
    )


# -- audit log ------------------------------------------------------------------------


def changed_fields(before: Any, after: Any) -> list[str]:
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


@blueprint.get("/audit")
def audit_log() -> str:
    page = max(1, whole_number(request.args.get("page"), maximum=MAX_PAGE) or 1)
    entries = service().audit.entries(limit=PAGE + 1, offset=(max(page, 1) - 1) * PAGE)
    return render_page(
        "audit",
        entries=entries[:PAGE],
        more=len(entries) > PAGE,
        page=page,
        changed=changed_fields,
    )


# The article, tag feed, source and account pages live in their own modules; importing
# adds their routes.
from feeds.web import (  # noqa: E402, F401
    admin_accounts,
    admin_articles,
    admin_sources,
    admin_tagfeeds,
)
