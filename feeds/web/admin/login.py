"""Admin sign-in and sign-out: the only admin page open without a session."""

from __future__ import annotations

from typing import Any

from flask import redirect, request, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from feeds.service.users import LoginThrottled
from feeds.web import service
from feeds.web.admin.base import blueprint, now, render_page, safe_next


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
                session["login_at"] = now().timestamp()
                return redirect(safe_next(request.args.get("next")))
            error, status = "Wrong name or password.", 401
    return render_page("login", error=error, next=request.args.get("next", "")), status


@blueprint.post("/logout")
def logout() -> BaseResponse:
    session.clear()
    return redirect(url_for("admin.login"))
