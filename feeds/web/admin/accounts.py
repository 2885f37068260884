"""Admin UI pages for accounts: your own password, other users, API tokens.

Routes on the admin blueprint (see feeds.web.admin.base for the session and CSRF rules).
Every change is audited under the signed-in user's name. A new token's value is shown
once, in the answer to the form that made it: never put in a redirect, the session
cookie or a log.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, request, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from feeds.errors import Conflict, NotFound, ValidationError
from feeds.service.tokens import SCOPES
from feeds.service.users import MIN_PASSWORD, LoginThrottled
from feeds.web import service
from feeds.web.admin.base import actor, blueprint, render_page


def _repeated(form: Any, field: str, repeat: str) -> dict[str, str]:
    if form.get(field, "") != form.get(repeat, ""):
        return {repeat: "does not match the new password"}
    return {}


def _confirm(action: str, consequence: str, back: str) -> str:
    """The step before a change that cannot be undone: the same URL, posted this time."""
    return render_page(
        "confirm",
        title=f"{action}?",
        message=consequence,
        action=request.path,
        button=action,
        back=url_for(back),
    )


# -- your own account -----------------------------------------------------------------


@blueprint.route("/account", methods=["GET", "POST"])
def account() -> Any:
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = request.form
        errors = _repeated(form, "new_password", "repeat_password")
        if not errors:
            try:
                changed = service().users.change_own_password(
                    g.admin_user,
                    form.get("current_password", ""),
                    form.get("new_password", ""),
                    request.remote_addr or "unknown",
                )
            except ValidationError as exc:
                errors = exc.errors
            except LoginThrottled as exc:
                wait = f"too many wrong passwords; try after {exc.until:%H:%M} UTC"
                errors = {"current_password": wait}
            else:
                # This session goes on; every other one began before the change and ends.
                session["login_at"] = changed.timestamp()
                flash("Your password is changed. Other sessions of yours have ended.")
                return redirect(url_for("admin.account"))
    return render_page("account", errors=errors, min_password=MIN_PASSWORD), 422 if errors else 200


# -- users ----------------------------------------------------------------------------


def _users_page(errors: dict[str, str] | None = None, values: Any = None, status: int = 200) -> Any:
    return (
        render_page(
            "users",
            users=service().users.list(),
            errors=errors or {},
            values=values or {},
            min_password=MIN_PASSWORD,
        ),
        status,
    )


@blueprint.get("/users")
def users() -> Any:
    return _users_page()


@blueprint.post("/users")
def create_user() -> Any:
    form = request.form
    name = form.get("name", "").strip()
    errors = _repeated(form, "password", "repeat_password")
    if not errors:
        try:
            service().users.create(name, form.get("password", ""), actor=actor())
        except ValidationError as exc:
            errors = exc.errors
        except Conflict as exc:
            errors = {"name": str(exc)}
    if errors:
        return _users_page(errors, {"name": name}, 422)
    flash(f"Created user {name}.")
    return redirect(url_for("admin.users"))


def _other_user(name: str) -> str:
    if service().users.find(name) is None:
        abort(404)
    if name == g.admin_user:
        # Your own password needs your current one; removing or disabling yourself
        # would lock you out mid-session.
        abort(409, "Use Account for your own password; another admin must disable or remove you.")
    return name


@blueprint.route("/users/<name>/password", methods=["GET", "POST"])
def reset_password(name: str) -> Any:
    _other_user(name)
    errors: dict[str, str] = {}
    if request.method == "POST":
        errors = _repeated(request.form, "password", "repeat_password")
        if not errors:
            try:
                service().users.set_password(name, request.form.get("password", ""), actor=actor())
            except ValidationError as exc:
                errors = exc.errors
            else:
                flash(f"New password set for {name}; their open sessions have ended.")
                return redirect(url_for("admin.users"))
    page = render_page("user_password", who=name, errors=errors, min_password=MIN_PASSWORD)
    return page, 422 if errors else 200


@blueprint.post("/users/<name>/<any(enable,disable):action>")
def toggle_user(name: str, action: str) -> BaseResponse:
    _other_user(name)
    service().users.set_disabled(name, action == "disable", actor=actor())
    flash(f"{name}: {action}d.")
    return redirect(url_for("admin.users"))


@blueprint.route("/users/<name>/remove", methods=["GET", "POST"])
def remove_user(name: str) -> Any:
    _other_user(name)
    if request.method == "GET":
        return _confirm(
            f"Remove user {name}",
            "They can no longer log in; their entries in the audit log stay.",
            "admin.users",
        )
    try:
        service().users.remove(name, actor=actor())
    except NotFound:
        abort(404)
    flash(f"Removed user {name}.")
    return redirect(url_for("admin.users"))


# -- API tokens -----------------------------------------------------------------------


def _tokens_page(
    errors: dict[str, str] | None = None, values: Any = None, created: Any = None
) -> str:
    return render_page(
        "tokens",
        tokens=service().tokens.list(),
        scopes=SCOPES,
        errors=errors or {},
        values=values or {"scopes": list(SCOPES)},
        created=created,
    )


@blueprint.get("/tokens")
def tokens() -> str:
    return _tokens_page()


@blueprint.post("/tokens")
def create_token() -> Any:
    name = request.form.get("name", "").strip()
    scopes = tuple(s for s in request.form.getlist("scopes") if s)
    try:
        raw = service().tokens.create(name, scopes, actor=actor())
    except ValidationError as exc:
        return _tokens_page(exc.errors, {"name": name, "scopes": scopes}), 422
    except Conflict as exc:
        return _tokens_page({"name": str(exc)}, {"name": name, "scopes": scopes}), 409
    # Rendered, not redirected: the value must not travel in the session cookie.
    return _tokens_page(created={"name": name, "scopes": scopes, "token": raw}), 201


@blueprint.route("/tokens/<name>/revoke", methods=["GET", "POST"])
def revoke_token(name: str) -> Any:
    if request.method == "GET":
        if not any(t.name == name and t.revoked_at is None for t in service().tokens.list()):
            abort(404)
        return _confirm(
            f"Revoke token {name}",
            "Every request made with it is refused from now on. This cannot be undone.",
            "admin.tokens",
        )
    try:
        service().tokens.revoke(name, actor=actor())
    except NotFound:
        abort(404)
    flash(f"Revoked token {name}.")
    return redirect(url_for("admin.tokens"))
