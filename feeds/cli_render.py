"""`feeds render KIND/NAME --format F [--limit N]`: a feed's bytes as the server would
serve them, from the store, without a server (for checking a feed offline, or diffing
two builds)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from feeds.cli_common import ReportingCommand, emit, fail, json_mode, service
from feeds.errors import NotFound
from feeds.hashtags import normalize_key
from feeds.models import FeedFormat, FeedKey, FeedKind

# What a person types before the slash, as the feed URLs spell it, and the kind it is.
KINDS = {
    "all": FeedKind.ALL,
    "trending": FeedKind.TRENDING,
    "section": FeedKind.SECTION,
    "sections": FeedKind.SECTION,
    "tag": FeedKind.TAG,
    "tags": FeedKind.TAG,
    "custom": FeedKind.CUSTOM,
    "author": FeedKind.AUTHOR,
    "authors": FeedKind.AUTHOR,
}
SINGLE = (FeedKind.ALL, FeedKind.TRENDING)


def feed_key(text: str) -> FeedKey:
    """`all`, `trending`, `sections/world`, `tags/SouthKorea`, `custom/asia`,
    `authors/min-ji-park` (singular kinds too) as a FeedKey; a usage error otherwise."""
    kind_text, _, name = text.strip().strip("/").partition("/")
    kind = KINDS.get(kind_text.lower())
    if kind is None:
        fail(f"unknown feed kind {kind_text!r}: use one of {', '.join(KINDS)}", kind="usage")
    if kind in SINGLE:
        if name:
            fail(f"the {kind.value} feed takes no name", kind="usage")
        return FeedKey(kind)
    if not name:
        fail(f"name the {kind.value} feed: {kind_text}/NAME", kind="usage")
    if kind is FeedKind.TAG:
        name = normalize_key(name.lstrip("#"))
    return FeedKey(kind, name)


@click.command("render", cls=ReportingCommand)
@click.argument("feed")
@click.option(
    "--format", "fmt", type=click.Choice([f.value for f in FeedFormat]), default="rss",
    show_default=True, help="The feed format.",
)  # fmt: skip
@click.option("--limit", type=click.IntRange(min=1), help="Items, as ?limit= would ask.")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
    help="Write the feed to this file instead of standard output.",
)  # fmt: skip
@with_appcontext
def render_command(feed: str, fmt: str, limit: int | None, output: Path | None) -> None:
    """Write one feed (KIND/NAME: all, trending, sections/S, tags/T, custom/S, authors/A)
    exactly as the server serves it."""
    svc = service()
    key = feed_key(feed)
    if limit is not None and limit > svc.settings.feed_limit_max:
        fail(f"--limit must be at most {svc.settings.feed_limit_max} (feed_limit_max)",
             kind="usage", fields={"limit": "too large"})  # fmt: skip
    try:
        entry = svc.feeds.get(svc.feeds.request(key, FeedFormat(fmt), limit))
    except NotFound as exc:
        fail(f"no such feed: {feed} ({exc})", kind="not_found")
    facts = {
        "feed": key.storage_key,
        "format": fmt,
        "media_type": entry.media_type,
        "etag": entry.etag,
        "last_modified": entry.last_modified.isoformat(),
        "bytes": len(entry.body),
    }
    if output is not None:
        output.write_bytes(entry.body)
        emit(facts | {"output": str(output)}, f"wrote {len(entry.body)} bytes to {output}")
    elif json_mode():
        emit(facts | {"body": entry.body.decode("utf-8")}, "")
    else:
        click.echo(entry.body, nl=False)
