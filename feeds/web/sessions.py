"""Admin sessions signed with the deployment's shared key, read from the store once.

The key is fetched lazily: feeds, the API and health never open a session, so they never
wait on the store for it, and a process started before `feeds init` picks it up on its
first admin request instead of failing to start.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, Response, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin

from feeds.errors import StorageError
from feeds.web import service

ADMIN_PREFIX = "/admin"
# The one page that begins a session for a browser that has none: its form's CSRF token
# lives in the session it starts.
LOGIN_ENDPOINT = "admin.login"


def needs_session(path: str) -> bool:
    return path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")


def ensure_secret_key(app: Flask) -> None:
    """Give the app its signing key, from the setting or the store (raises StorageError)."""
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = service().secret_key.get().value


class SharedKeySessionInterface(SecureCookieSessionInterface):
    """Cookie sessions under /admin only, Secure exactly when the request came over HTTPS.

    Secure is decided per request rather than by a global SESSION_COOKIE_SECURE, so one
    deployment serves plain-HTTP development and HTTPS production correctly. Behind a
    TLS-terminating proxy, set `proxy_hops` so X-Forwarded-Proto is believed.
    """

    def get_cookie_secure(self, app: Any) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not needs_session(request.path):
            # An empty session that is never saved: no store read, no cookie.
            return self.session_class()
        try:
            ensure_secret_key(app)
        except StorageError:
            # A null session; the before_request check answers 503 with the reason.
            return None
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Leave the cookie alone when the request came without one, except on the login page.

        A browser applies answers in the order they arrive, not the order it sent the
        requests. A request sent while it held no session (a form's live preview in one
        tab, in the moment after another tab's log-out) may be answered after that other
        tab's login page. Were that answer to begin a session (an error page minting a
        CSRF token) or delete the cookie (a redirect to login clearing the session), it
        would replace the session the login form's token belongs to, and the login would
        fail its CSRF check.
        """
        if request.endpoint != LOGIN_ENDPOINT and self.get_cookie_name(app) not in request.cookies:
            return
        super().save_session(app, session, response)
