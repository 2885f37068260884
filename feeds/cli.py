"""`feeds ...` commands (also reachable as `flask --app app feeds ...`)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO, cast

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from werkzeug.serving import run_simple

from feeds.cli_common import (
    FeedsGroup,
    ProgressLine,
    cli_actor,
    emit,
    progress_option,
    service,
)
from feeds.errors import ValidationError


def _utf8_lines(raw: Iterable[bytes]) -> Iterator[str]:
    """Decode line by line, so a bad byte is reported with its line like any bad record."""
    for number, line in enumerate(raw, start=1):
        try:
            # utf-8-sig: editors on Windows start files with a BOM, which json refuses.
            yield line.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationError({"encoding": f"not UTF-8: {exc.reason}"}, line=number) from None


@click.group("feeds", cls=FeedsGroup, help="Manage the Feeds service.")
@click.version_option(package_name="feeds", prog_name="feeds")
def feeds_cli() -> None:
    pass


@feeds_cli.command("init")
@with_appcontext
def init_command() -> None:
    """Migrate the store, apply the config files, load the demo into an empty store."""
    svc = service()
    svc.setup.init()
    count = svc.articles.count()
    emit({"articles": count}, f"store ready: {count} articles")


@feeds_cli.command("serve", reports=False)
@click.option("--host", default=None, help="Address to listen on (setting: host).")
@click.option("--port", type=int, default=None, help="Port to listen on (setting: port).")
@with_appcontext
def serve_command(host: str | None, port: int | None) -> None:
    """Initialise, start the scheduler in-process, and serve (development server)."""
    app = cast(Flask, current_app._get_current_object())  # type: ignore[attr-defined]
    svc = service()
    svc.setup.init()
    host = host or svc.settings.host
    port = port or svc.settings.port
    display_host = f"[{host}]" if ":" in host else host
    click.echo(f"Feed directory: http://{display_host}:{port}/feeds/", err=False)
    # In-process for development only: under gunicorn it would run once per worker.
    jobs = start_in_background(svc) if svc.settings.scheduler_enabled else None
    try:
        # Flask's app.run() refuses to run under its own CLI; werkzeug's server is the same.
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        if jobs is not None:
            jobs.stop_background()


@feeds_cli.command("import")
@click.argument("path", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="Check every record and report; write nothing.")
@progress_option
@with_appcontext
def import_command(path: BinaryIO, dry_run: bool, progress: bool | None) -> None:
    """Load articles from an NDJSON file (`-` for stdin), all or nothing.

    A record whose `url` is already a newsroom article's updates that article, so
    running the same file again changes nothing twice.
    """
    line = ProgressLine(progress)
    lines = _utf8_lines(_with_progress(path, line) if line.wanted else path)
    report = service().articles.import_lines(lines, dry_run=dry_run)
    line.close()
    counts = f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged"
    text = f"imported {report.imported} articles ({counts})"
    if dry_run:
        text = f"dry run, nothing written: would import {report.imported} articles ({counts})"
    emit(report.to_dict(), text)


def _with_progress(raw: BinaryIO, progress: ProgressLine) -> Iterator[bytes]:
    """Pass lines through, telling stderr how far into the file they are (each whole
    percent of its size; every 1000 lines when the size is unknown, as for stdin)."""
    try:
        size = os.fstat(raw.fileno()).st_size
    except (OSError, ValueError):
        size = 0
    done = shown = 0
    for count, line in enumerate(raw, start=1):
        done += len(line)
        step = done * 100 // size if size else count // 1000
        if step > shown:
            shown = step
            progress.show(f"read {f'{step}%, ' if size else ''}{count} lines")
        yield line


@feeds_cli.command("publish")
@click.option(
    "--all", "everything", is_flag=True, help="Render and rewrite every feed, moved or not."
)
@with_appcontext
def publish_command(everything: bool) -> None:
    """Publish every feed whose version moved (and every feed never published)."""
    report = service().publisher.run(everything=everything)
    text = (
        f"published {len(report.published)} feeds, {len(report.unchanged)} unchanged, "
        f"{len(report.removed)} removed, {len(report.failed)} failed; "
        f"{len(report.archives)} archive months written, "
        f"{len(report.archives_removed)} removed, {len(report.archives_failed)} failed"
    )
    lines = [text] + [f"failed: {key.storage_key}: {error}" for key, error in report.failed]
    lines += [f"failed: {name}: {error}" for name, error in report.archives_failed]
    emit(report.to_dict(), "\n".join(lines))
    if report.failed or report.archives_failed:
        raise SystemExit(1)


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
@with_appcontext
def tokens_create(name: str, scopes: tuple[str, ...]) -> None:
    """Create a token; it is shown once and stored only as a hash."""
    granted = scopes or ("articles:write", "admin")
    raw = service().tokens.create(name, granted, actor=cli_actor())
    emit({"name": name, "scopes": list(granted), "token": raw}, raw)


@tokens_group.command("revoke")
@click.argument("name")
@with_appcontext
def tokens_revoke(name: str) -> None:
    """Revoke a token by name."""
    service().tokens.revoke(name, actor=cli_actor())
    emit({"revoked": name}, f"revoked {name}")


@tokens_group.command("list")
@with_appcontext
def tokens_list() -> None:
    """List tokens (never their values)."""
    data: list[dict[str, Any]] = [
        {
            "name": r.name,
            "scopes": list(r.scopes),
            "created_at": r.created_at.isoformat(),
            "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None,
            "last_used_at": r.last_used_at.isoformat() if r.last_used_at else None,
        }
        for r in service().tokens.list()
    ]
    lines = [
        f"{r['name']}\t{','.join(r['scopes'])}\t{'revoked' if r['revoked_at'] else 'active'}"
        for r in data
    ]
    emit(data, "\n".join(lines) or "no tokens")


# Admin commands live in their own module; `feeds users ...` and `feeds config ...`.
from feeds.cli_admin import config_group, users_group  # noqa: E402

# What the store holds: `feeds articles ...`, `feeds tag-feeds ...`.
from feeds.cli_articles import articles_group, tag_feeds_group  # noqa: E402

for _group in (users_group, config_group, articles_group, tag_feeds_group):
    feeds_cli.add_command(_group)

# Demo content at any size: `feeds demo generate`.
from feeds.cli_demo import demo_group  # noqa: E402

feeds_cli.add_command(demo_group)

# Outside sources and the ingest scheduler: `feeds sources ...`, `feeds scheduler`.
from feeds.cli_sources import scheduler_command, sources_group  # noqa: E402
from feeds.jobs import start_in_background  # noqa: E402

feeds_cli.add_command(sources_group)
feeds_cli.add_command(scheduler_command)

# The outside WebSub hub: `feeds websub status`.
from feeds.cli_websub import websub_group  # noqa: E402

feeds_cli.add_command(websub_group)

# One feed's bytes, offline: `feeds render KIND/NAME`.
from feeds.cli_render import render_command  # noqa: E402

feeds_cli.add_command(render_command)
