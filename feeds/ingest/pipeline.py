"""The store-free stages of ingesting a source before the plan: retrieve, parse, normalise.

`retrieve` is a conditional GET for http(s) sources and a read from the config folder
for `file:` sources (the demo wire feed): the fetcher stays http/https-only, and a file
source can name nothing outside the config folder.

What this module does not do: decide what is written (plan.py), claim, write or
schedule (feeds/service/ingest.py and the store do, in one transaction).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from feeds.errors import FetchError
from feeds.ingest.fetch import FetchOptions, FetchResult, fetch
from feeds.ingest.normalize import IngestedItem, NormalizeOptions, Refusal, normalize
from feeds.ingest.parse import parse_feed
from feeds.models import Source

FILE_SCHEME = "file:"


def local_path(config_dir: Path, url: str) -> Path:
    """The file a `file:` source names, which must lie inside the config folder."""
    relative = url.removeprefix(FILE_SCHEME)
    parts = relative.replace("\\", "/").split("/")
    if not relative or relative.startswith(("/", "\\")) or ":" in relative or ".." in parts:
        raise FetchError(
            "bad_path", f"{url!r}: a file source names a relative path inside the config folder"
        )
    base = config_dir.resolve()
    path = (base / relative).resolve()
    if not path.is_relative_to(base):  # a symlink pointing out of the folder
        raise FetchError("bad_path", f"{url!r} leads outside the config folder")
    return path


def read_local(config_dir: Path, url: str, body_hash: str | None, max_bytes: int) -> FetchResult:
    """The file kind of source, answering like a fetch: a body, or `unchanged`."""
    started = time.monotonic()
    path = local_path(config_dir, url)
    try:
        with path.open("rb") as handle:
            body = handle.read(max_bytes + 1)
    except OSError as exc:
        raise FetchError("file", f"cannot read {url}: {exc.strerror or exc}") from exc
    if len(body) > max_bytes:
        raise FetchError("too_large", f"{url} exceeds the {max_bytes} byte limit")
    digest = hashlib.sha256(body).hexdigest()
    return FetchResult(
        final_url=url, status=200, not_modified=False, unchanged=digest == body_hash,
        body=None if digest == body_hash else body, content_type=None, content_location=url,
        etag=None, last_modified=None, body_hash=digest, permanent_redirect=None,
        elapsed=time.monotonic() - started,
    )  # fmt: skip


def retrieve(source: Source, options: FetchOptions, config_dir: Path) -> FetchResult:
    """The source's document, conditionally; FetchError when there is none."""
    if source.url.startswith(FILE_SCHEME):
        return read_local(config_dir, source.url, source.state.body_hash, options.max_bytes)
    return fetch(source.url, source.state, options)


@dataclass(frozen=True)
class PreparedDocument:
    """Every entry parsed and normalised (or refused), in document order; the feed's
    declared language (unchecked); what is wrong with the document as a whole."""

    entries: tuple[IngestedItem | Refusal, ...] = ()
    language: str | None = None
    warnings: tuple[str, ...] = ()
    # WebSub discovery (Link header first, then the document): the hubs and the topic
    # (the feed's self URL, else the URL fetched). None when nothing was parsed.
    hubs: tuple[str, ...] | None = None
    topic: str | None = None
    # Which reader parsed it (ParsedFeed.parser); None when nothing was parsed.
    parser: str | None = None


def prepare(
    result: FetchResult,
    source: Source,
    fetched_at: datetime,
    options: NormalizeOptions,
    check: Callable[[str], None] | None = None,
) -> PreparedDocument:
    """The document made ready for the plan; one not fetched again is not parsed at all.

    *check* is called as the work goes on (see normalize) and may raise to stop it.
    """
    if result.body is None:
        return PreparedDocument()
    parsed = parse_feed(
        result.body, base_url=result.content_location, content_type=result.content_type
    )
    warnings = parsed.notes
    if parsed.problem:
        warnings += (f"the document is malformed ({parsed.problem}); it was read leniently",)
    entries = normalize(parsed, source, fetched_at, options, check)
    hubs = tuple(dict.fromkeys(result.hub_links + parsed.hubs))
    topic = result.self_link or parsed.self_url or result.final_url
    return PreparedDocument(entries, parsed.language, warnings, hubs, topic, parsed.parser)
