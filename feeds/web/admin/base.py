"""What every admin page shares: the blueprint, the session check, headers, rendering.

Every route but the login page needs a session; every form carries a CSRF token
(checked app-wide, see feeds.web.register_csrf). The feature modules of this package
import from here and never from each other, so there is no import circle.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from feeds.web import csp, service
from feeds.web.admin.timefmt import ago, local_time
from feeds.web.params import whole_number

# Far beyond any real listing, and small enough that the offset fits every database.
MAX_PAGE = 100_000

# Templates and static files stay beside the other web parts (the public pages share the
# templates), so the blueprint names their folders rather than its own package.
WEB = Path(__file__).resolve().parent.parent
blueprint = Blueprint(
    "admin",
    __name__,
    template_folder=str(WEB / "templates"),
    static_folder=str(WEB / "static"),
    static_url_path="/static",
)
# A stolen session cookie stops working after this long, whatever the browser does.
SESSION_HOURS = 12
PAGE = 50
OPEN = {"admin.login", "admin.static"}


def now() -> datetime:
    return service().now()


def _signed_in_user() -> str | None:
    name, since = session.get("user"), session.get("login_at")
    if not isinstance(name, str) or not isinstance(since, int | float):
        return None
    if now().timestamp() - since > SESSION_HOURS * 3600:
        return None
    # Re-checked on every request so disabling a user ends their sessions at once, and a
    # new password ends the sessions begun before it.
    user = service().users.active(name)
    if user is None:
        return None
    if user.password_changed_at is not None and since < user.password_changed_at.timestamp():
        return None
    return name


def safe_next(target: str | None) -> str:
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


def page_number(raw: str | None) -> int:
    """The `page` parameter: 1 when absent; a 404 when it is not a page number at all."""
    if raw is None or raw == "":
        return 1
    number = whole_number(raw, maximum=MAX_PAGE)
    if number is None or number < 1:
        abort(404)
    return number


@blueprint.app_template_global("local_time")
def _local_time(moment: datetime | None) -> str:
    return local_time(moment)


@blueprint.app_template_global("ago")
def _ago(moment: datetime | None) -> str:
    # Macros imported without the page's context (the health badges) reach these.
    return ago(moment, now())


def actor() -> str:
    return f"user:{g.admin_user}"


# The menu: (endpoint, label, part). A page belongs to the part its endpoint names, so
# the menu marks the current part (aria-current) on its sub-pages too.
NAV = (
    ("admin.dashboard", "Dashboard", "dashboard"),
    ("admin.tag_feeds", "Tag feeds", "tag_feed"),
    ("admin.sources", "Sources", "source"),
    ("admin.articles", "Articles", "article"),
    ("admin.audit_log", "Audit log", "audit"),
    ("admin.users", "Users", "user"),
    ("admin.tokens", "Tokens", "token"),
)
PARTS = ("account", "tag_feed", "source", "article", "withdraw", "audit", "user", "token")


def current_part(endpoint: str | None) -> str:
    name = (endpoint or "").removeprefix("admin.")
    for part in PARTS:
        if part in name:
            return "article" if part == "withdraw" else part
    return "dashboard" if name == "dashboard" else ""


def render_page(name: str, **context: Any) -> str:
    svc = service()
    at = now()
    return render_template(
        f"admin/{name}.html",
        settings=svc.settings,
        user=g.get("admin_user"),
        local_time=local_time,
        nav_items=NAV,
        current_part=current_part(request.endpoint),
        ago=lambda moment: ago(moment, at),
        **context,
    )
