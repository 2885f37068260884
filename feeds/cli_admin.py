"""`feeds users ...` and `feeds config ...`: admin accounts and the config files."""

from __future__ import annotations

import json
import sys
from typing import Any, cast

import click
from flask import current_app
from flask.cli import with_appcontext

from feeds.errors import FeedsError
from feeds.service import Service
from feeds.service.configcheck import ConfigInvalid


def _service() -> Service:
    return cast(Service, current_app.extensions["feeds"])


def _emit(as_json: bool, data: Any, text: str) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2) if as_json else text)


@click.group("users", help="Admin accounts for the web UI at /admin/.")
def users_group() -> None:
    pass


@users_group.command("create")
@click.argument("name")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input (for scripts).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@with_appcontext
def users_create(name: str, password_stdin: bool, as_json: bool) -> None:
    """Create an admin user; the password is asked twice unless --password-stdin."""
    if password_stdin:
        # Only the line ending is stripped: spaces may be part of a passphrase.
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = _service().users.create(name, password)
    except FeedsError as exc:
        raise click.ClickException(str(exc)) from None
    _emit(
        as_json,
        {"name": user.name, "created_at": user.created_at.isoformat()},
        f"created user {user.name}",
    )


@users_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@with_appcontext
def users_list(as_json: bool) -> None:
    """List admin users (never their password hashes)."""
    data = [
        {"name": u.name, "created_at": u.created_at.isoformat(), "disabled": u.disabled}
        for u in _service().users.list()
    ]
    lines = [f"{u['name']}\t{'disabled' if u['disabled'] else 'active'}" for u in data]
    _emit(as_json, data, "\n".join(lines) or "no users")


def _set_disabled(name: str, disabled: bool, as_json: bool) -> None:
    try:
        _service().users.set_disabled(name, disabled)
    except FeedsError as exc:
        raise click.ClickException(str(exc)) from None
    word = "disabled" if disabled else "enabled"
    _emit(as_json, {"name": name, "disabled": disabled}, f"{word} {name}")


@users_group.command("disable")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@with_appcontext
def users_disable(name: str, as_json: bool) -> None:
    """Disable a user: logins fail and open sessions end at their next request."""
    _set_disabled(name, True, as_json)


@users_group.command("enable")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@with_appcontext
def users_enable(name: str, as_json: bool) -> None:
    """Enable a disabled user again."""
    _set_disabled(name, False, as_json)


@click.group("config", help="The config files: sections.toml, tag_feeds.toml and sources.toml.")
def config_group() -> None:
    pass


@config_group.command("check")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@with_appcontext
def config_check(as_json: bool) -> None:
    """Validate the config files without touching the store; exit 1 on any problem."""
    files = _service().setup.check_config()
    data = {
        "ok": not files.problems,
        "problems": [
            {"file": p.file, "line": p.line, "field": p.field, "message": p.message}
            for p in files.problems
        ],
        "sections": len(files.sections),
        "tag_feeds": len(files.tag_feeds),
    }
    summary = f"ok: {len(files.sections)} sections, {len(files.tag_feeds)} tag feeds"
    _emit(as_json, data, "\n".join(str(p) for p in files.problems) or summary)
    if files.problems:
        sys.exit(1)


@config_group.command("apply")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@with_appcontext
def config_apply(as_json: bool) -> None:
    """Make the store match the config files, all or nothing."""
    svc = _service()
    try:
        svc.ctx.store.migrate()
        report = svc.setup.apply_config()
    except ConfigInvalid as exc:
        problems = [str(p) for p in exc.problems]
        _emit(as_json, {"ok": False, "problems": problems}, "\n".join(problems))
        click.echo("nothing was applied", err=True)
        sys.exit(1)
    except FeedsError as exc:
        raise click.ClickException(str(exc)) from None
    data = {
        "ok": True,
        "sections": report.sections,
        "created": list(report.created),
        "updated": list(report.updated),
        "removed": list(report.removed),
        "sources": {
            "created": list(report.sources.created),
            "updated": list(report.sources.updated),
            "removed": list(report.sources.removed),
        },
    }
    lines = [f"sections: {report.sections}"] + [
        f"{label}: {', '.join(slugs)}"
        for label, slugs in (
            ("created", report.created),
            ("updated", report.updated),
            ("removed", report.removed),
            ("sources created", report.sources.created),
            ("sources updated", report.sources.updated),
            ("sources removed", report.sources.removed),
        )
        if slugs
    ]
    _emit(as_json, data, "\n".join(lines))
