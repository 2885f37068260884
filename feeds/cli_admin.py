"""`feeds users ...` and `feeds config ...`: admin accounts and the config files."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from feeds.cli_common import CommandFailed, FeedsGroup, cli_actor, emit, fail, json_mode, service
from feeds.service.configcheck import ConfigInvalid


@click.group("users", cls=FeedsGroup, help="Admin accounts for the web UI at /admin/.")
def users_group() -> None:
    pass


def _password(from_stdin: bool) -> str:
    if from_stdin:
        # Only the line ending is stripped: spaces may be part of a passphrase.
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


password_stdin = click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input (for scripts).",
)


@users_group.command("create")
@click.argument("name")
@password_stdin
@with_appcontext
def users_create(name: str, password_stdin: bool) -> None:
    """Create an admin user; the password is asked twice unless --password-stdin."""
    user = service().users.create(name, _password(password_stdin), actor=cli_actor())
    emit(
        {"name": user.name, "created_at": user.created_at.isoformat()},
        f"created user {user.name}",
    )


@users_group.command("password")
@click.argument("name")
@password_stdin
@with_appcontext
def users_password(name: str, password_stdin: bool) -> None:
    """Reset a user's password (asked twice unless --password-stdin); their open
    sessions end."""
    users = service().users
    if users.find(name) is None:  # before asking for a password that would go nowhere
        fail(f"no user named {name!r}", kind="not_found")
    users.set_password(name, _password(password_stdin), actor=cli_actor())
    emit({"name": name, "password_reset": True}, f"new password set for {name}")


@users_group.command("remove")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def users_remove(name: str, yes: bool) -> None:
    """Delete a user (their entries in the audit log stay)."""
    users = service().users
    if users.find(name) is None:
        fail(f"no user named {name!r}", kind="not_found")
    if not yes:
        if json_mode():
            fail("removing asks for confirmation: add --yes", kind="usage")
        click.confirm(f"Remove user {name}?", abort=True)
    users.remove(name, actor=cli_actor())
    emit({"name": name, "removed": True}, f"removed user {name}")


@users_group.command("list")
@with_appcontext
def users_list() -> None:
    """List admin users (never their password hashes)."""
    data = [
        {"name": u.name, "created_at": u.created_at.isoformat(), "disabled": u.disabled}
        for u in service().users.list()
    ]
    lines = [f"{u['name']}\t{'disabled' if u['disabled'] else 'active'}" for u in data]
    emit(data, "\n".join(lines) or "no users")


def _set_disabled(name: str, disabled: bool) -> None:
    service().users.set_disabled(name, disabled, actor=cli_actor())
    word = "disabled" if disabled else "enabled"
    emit({"name": name, "disabled": disabled}, f"{word} {name}")


@users_group.command("disable")
@click.argument("name")
@with_appcontext
def users_disable(name: str) -> None:
    """Disable a user: logins fail and open sessions end at their next request."""
    _set_disabled(name, True)


@users_group.command("enable")
@click.argument("name")
@with_appcontext
def users_enable(name: str) -> None:
    """Enable a disabled user again."""
    _set_disabled(name, False)


@click.group(
    "config",
    cls=FeedsGroup,
    help="The config files: sections.toml, tag_feeds.toml and sources.toml.",
)
def config_group() -> None:
    pass


@config_group.command("check")
@with_appcontext
def config_check() -> None:
    """Validate the config files without touching the store; exit 1 on any problem."""
    files = service().setup.check_config()
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
    emit(data, "\n".join(str(p) for p in files.problems) or summary)
    if files.problems:
        sys.exit(1)


@config_group.command("apply")
@with_appcontext
def config_apply() -> None:
    """Make the store match the config files, all or nothing."""
    setup = service().setup
    setup.migrate()
    try:
        report = setup.apply_config()
    except ConfigInvalid as exc:
        problems = [str(p) for p in exc.problems]
        raise CommandFailed(
            "nothing was applied: " + "\n".join(problems), kind="config", problems=problems
        ) from None
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
    emit(data, "\n".join(lines))
