"""`feeds ...` commands (also reachable as `flask --app app feeds ...`)."""

from __future__ import annotations

import json
import sys
from typing import Any, cast

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from werkzeug.serving import run_simple

from feeds.errors import FeedsError
from feeds.service import Service


def _service() -> Service:
    return cast(Service, current_app.extensions["feeds"])


def _emit(as_json: bool, data: Any, text: str) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2) if as_json else text)


def _fail(exc: FeedsError) -> None:
    raise click.ClickException(str(exc))


@click.group("feeds", help="Manage the Feeds service.")
def feeds_cli() -> None:
    pass


@feeds_cli.command("init")
@with_appcontext
def init_command() -> None:
    """Migrate the store, apply the config files, load the demo into an empty store."""
    try:
        _service().setup.init()
    except FeedsError as exc:
        _fail(exc)
    click.echo(f"store ready: {_service().articles.count()} articles")


@feeds_cli.command("serve")
@click.option("--host", default=None, help="Address to listen on (setting: host).")
@click.option("--port", type=int, default=None, help="Port to listen on (setting: port).")
@with_appcontext
def serve_command(host: str | None, port: int | None) -> None:
    """Initialise, start the scheduler in-process, and serve (development server)."""
    app = cast(Flask, current_app._get_current_object())  # type: ignore[attr-defined]
    svc = _service()
    try:
        svc.setup.init()
    except FeedsError as exc:
        _fail(exc)
    host = host or svc.settings.host
    port = port or svc.settings.port
    display_host = f"[{host}]" if ":" in host else host
    click.echo(f"Feed directory: http://{display_host}:{port}/feeds/", err=False)
    # Flask's app.run() refuses to run under its own CLI; werkzeug's server is the same one.
    run_simple(host, port, app, threaded=True, use_reloader=False)


@feeds_cli.command("import")
@click.argument("path", type=click.File("r", encoding="utf-8"))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@with_appcontext
def import_command(path: Any, as_json: bool) -> None:
    """Load articles from an NDJSON file, all or nothing."""
    try:
        count = _service().articles.import_lines(path)
    except FeedsError as exc:
        _fail(exc)
    _emit(as_json, {"imported": count}, f"imported {count} articles")


@feeds_cli.group("tokens")
def tokens_group() -> None:
    """API bearer tokens."""


@tokens_group.command("create")
@click.argument("name")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(["articles:write", "admin"]),
    help="Grant a scope (repeatable). Default: all scopes.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@with_appcontext
def tokens_create(name: str, scopes: tuple[str, ...], as_json: bool) -> None:
    """Create a token; it is shown once and stored only as a hash."""
    try:
        raw = _service().tokens.create(name, scopes or ("articles:write", "admin"))
    except FeedsError as exc:
        _fail(exc)
    _emit(as_json, {"name": name, "token": raw}, raw)


@tokens_group.command("revoke")
@click.argument("name")
@with_appcontext
def tokens_revoke(name: str) -> None:
    """Revoke a token by name."""
    try:
        _service().tokens.revoke(name)
    except FeedsError as exc:
        _fail(exc)
    click.echo(f"revoked {name}")


@tokens_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@with_appcontext
def tokens_list(as_json: bool) -> None:
    """List tokens (never their values)."""
    records = _service().tokens.list()
    data: list[dict[str, Any]] = [
        {
            "name": r.name,
            "scopes": list(r.scopes),
            "created_at": r.created_at.isoformat(),
            "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None,
            "last_used_at": r.last_used_at.isoformat() if r.last_used_at else None,
        }
        for r in records
    ]
    lines = [
        f"{r['name']}\t{','.join(r['scopes'])}\t{'revoked' if r['revoked_at'] else 'active'}"
        for r in data
    ]
    _emit(as_json, data, "\n".join(lines) or "no tokens")


def main() -> None:
    """The `feeds` console script: `flask --app app feeds` without typing it."""
    from feeds import create_app

    cli = FlaskGroup(create_app=lambda: create_app(), add_default_commands=False)
    cli.main(args=["feeds", *sys.argv[1:]], prog_name="feeds")


# Admin commands live in their own module; `feeds users ...` and `feeds config ...`.
from feeds.cli_admin import config_group, users_group  # noqa: E402

for _group in (users_group, config_group):
    feeds_cli.add_command(_group)
