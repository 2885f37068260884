"""What every `feeds` command shares: the service, output, `--json`, and one way to fail.

Commands are built with `ReportingCommand` (the `feeds` group does this for every
command added to it). It adds the `--json` flag, so a command prints with `emit()` and
never looks at the flag itself; and it turns every `FeedsError` and usage error into
the same failure: a message on stderr and exit 1 (2 for usage errors), or with `--json`
one object on stdout, `{"error", "kind", "fields"?, "line"?}`, and the same exit code.
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import IO, Any, NoReturn, cast

import click
from flask import current_app

from feeds.errors import (
    ConfigError,
    Conflict,
    FeedsError,
    NotFound,
    StorageError,
    ValidationError,
)
from feeds.service import Service

JSON_FLAG = "feeds.json"
# The machine-readable name of each kind of failure, most specific first.
KINDS: Sequence[tuple[type[FeedsError], str]] = (
    (ValidationError, "invalid"),
    (NotFound, "not_found"),
    (Conflict, "conflict"),
    (ConfigError, "config"),
    (StorageError, "storage"),
)


def service() -> Service:
    return cast(Service, current_app.extensions["feeds"])


def json_mode() -> bool:
    """Whether the running command was given `--json`."""
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.meta.get(JSON_FLAG))


def emit(data: Any, text: str) -> None:
    """Print the command's result: `data` as JSON with `--json`, else `text`."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2) if json_mode() else text)


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "never"


# Long commands report progress on stderr: by default only to a person at a terminal.
progress_option = click.option(
    "--progress/--no-progress",
    default=None,
    help="Report progress on stderr. Default: when stderr is a terminal.",
)


def progress_wanted(flag: bool | None) -> bool:
    return sys.stderr.isatty() if flag is None else flag


class ProgressLine:
    """A long command's progress on stderr, when `progress_wanted`: on a terminal the
    line is rewritten in place, in a log each report is a line of its own."""

    def __init__(self, flag: bool | None) -> None:
        self.wanted = progress_wanted(flag)
        self._in_place = sys.stderr.isatty()
        self._shown = False

    def show(self, text: str) -> None:
        if not self.wanted:
            return
        click.echo(text, err=True, nl=False)
        click.echo("\r" if self._in_place else "\n", err=True, nl=False)
        self._shown = True

    def close(self) -> None:
        """Move past a line rewritten in place, so what follows starts on its own."""
        if self._shown and self._in_place:
            click.echo(err=True)


def cli_actor() -> str:
    """Who the audit log names for a change made on the command line."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


class CommandFailed(click.ClickException):
    """The one failure of every command: text on stderr, or one JSON object on stdout."""

    def __init__(
        self,
        message: str,
        *,
        kind: str = "error",
        as_json: bool | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message)
        self.as_json = json_mode() if as_json is None else as_json
        self.payload: dict[str, Any] = {"error": message, "kind": kind}
        self.payload.update({k: v for k, v in details.items() if v is not None})

    def show(self, file: IO[Any] | None = None) -> None:
        if self.as_json:
            click.echo(json.dumps(self.payload, ensure_ascii=False))
        else:
            super().show(file)


class UsageFailed(CommandFailed):
    """The command line itself is wrong (exit 2, like click's usage errors)."""

    exit_code = 2


def failure(exc: FeedsError) -> CommandFailed:
    kind = next((name for cls, name in KINDS if isinstance(exc, cls)), "error")
    if isinstance(exc, ValidationError):
        return CommandFailed(str(exc), kind=kind, fields=exc.errors, line=exc.line)
    return CommandFailed(str(exc), kind=kind)


def fail(message: str, **details: Any) -> NoReturn:
    """Stop the command with `message` (extra keys go into the JSON object); exit 2 for
    `kind="usage"`, else 1."""
    raise (UsageFailed if details.get("kind") == "usage" else CommandFailed)(message, **details)


def _remember_json(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    ctx.meta[JSON_FLAG] = value


class ReportingCommand(click.Command):
    """A command with `--json` and the one way to fail (see the module docstring).

    `reports=False` leaves `--json` out, for commands that report nothing (a server).
    """

    def __init__(self, *args: Any, reports: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if reports:
            self.params.append(
                click.Option(
                    ["--json"],
                    is_flag=True,
                    expose_value=False,
                    callback=_remember_json,
                    help="Print JSON on stdout (errors too, with a non-zero exit).",
                )
            )

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        wants_json = "--json" in args
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            if not wants_json:
                raise
            raise UsageFailed(exc.format_message(), kind="usage", as_json=True) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FeedsError as exc:
            raise failure(exc) from None
        except CommandFailed:
            raise
        except click.ClickException as exc:
            if not json_mode():
                raise
            if isinstance(exc, click.UsageError):
                raise UsageFailed(exc.format_message(), kind="usage") from None
            raise CommandFailed(exc.format_message()) from None


class FeedsGroup(click.Group):
    """A group whose commands are ReportingCommands and whose subgroups are FeedsGroups."""

    command_class = ReportingCommand
    group_class = type
