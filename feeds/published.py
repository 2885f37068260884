"""The published tree: every feed as files that web processes and nginx serve as they are.

The feed at URL path `/feeds/<...>.<fmt>` is the file `<publish_dir>/feeds/<...>.<fmt>`
(tag names as their canonical key, not percent-encoded: nginx decodes the URI before
mapping it) with `.gz` and `.br` siblings holding the same bytes compressed, so nginx
serves them with `gzip_static` and `brotli_static`. Validators are nginx's: the ETag
is `"<hex mtime>-<hex size>"` of the file served and Last-Modified is its mtime, which
the writer sets to the feed's Last-Modified before the file appears. A feed's monthly
archives are files under the folder named like it: `feeds/<...>/archive/<YYYY-MM>.<fmt>`
(`feeds/all/archive/...` for the all feed), written the same way.

Beside `feeds/`, `.manifest/` records what was published for each feed (so a tree
copied or wiped knows its own state) and `.publisher.json` is the publisher's heartbeat.

This module lays out, writes and reads files; what to publish and when is decided in
feeds.service.publish.
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import brotli

from feeds.models import FeedFormat, FeedKey, FeedKind

# The compressed siblings, by content coding, in the order a client is offered them.
SUFFIXES = {"br": ".br", "gzip": ".gz"}
# Longest file name most file systems allow, in bytes.
NAME_MAX = 255
# The folder under /feeds/ of each kind of feed that has a name.
FOLDERS = {
    FeedKind.SECTION: "sections",
    FeedKind.TAG: "tags",
    FeedKind.CUSTOM: "custom",
    FeedKind.AUTHOR: "authors",
}
# A monthly archive's identity file (`YYYY-MM.rss`).
MONTH_FILE = re.compile(r"\d{4}-\d{2}\.rss")
MANIFEST = ".manifest"
HEARTBEAT = ".publisher.json"
LOCK = ".lock"


def relative_path(key: FeedKey, fmt: FeedFormat) -> str | None:
    """`feeds/...` path of the feed's file; None for a key that cannot be a file name.

    Such feeds (a hashtag whose UTF-8 name is longer than a file name may be) are not
    published and render on request instead.
    """
    ext = FeedFormat(fmt).value
    if key.kind in (FeedKind.ALL, FeedKind.TRENDING):
        return f"feeds/{key.kind.value}.{ext}"
    value = key.value
    name = f"{value}.{ext}"
    longest = len((name + ".br").encode("utf-8", "surrogatepass"))
    if not value or value.startswith(".") or "/" in value or "\x00" in value or longest > NAME_MAX:
        return None
    return f"feeds/{FOLDERS[key.kind]}/{name}"


def archive_relative_path(key: FeedKey, month: str, fmt: FeedFormat) -> str | None:
    """`feeds/<kind>/<name>/archive/<YYYY-MM>.<fmt>`: one month of a feed (RFC 5005),
    under the folder named like the feed's file; None for trending (no archives) and
    for a feed that cannot be a file."""
    folder = archive_folder(key)
    return None if folder is None else f"{folder}/{month}.{FeedFormat(fmt).value}"


def archive_folder(key: FeedKey) -> str | None:
    """The folder of a feed's monthly archives, relative to the tree."""
    if key.kind is FeedKind.TRENDING:
        return None
    relative = relative_path(key, FeedFormat.RSS)
    return None if relative is None else relative.removesuffix(".rss") + "/archive"


def etag_for(mtime: int, size: int) -> str:
    """nginx's ETag for a static file, so the app and nginx give the same one."""
    return f'"{mtime:x}-{size:x}"'


def http_date(mtime: int) -> str:
    return datetime.fromtimestamp(mtime, UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")


def compress(body: bytes) -> dict[str, bytes]:
    """The compressed variants of a body; the same bytes every time for the same body."""
    return {
        # Quality 5 is within a few percent of 11 on feeds at about a hundredth of the
        # time (0.002 s against 0.16 s for 100 KB): a store with 20,000 hashtag feeds
        # is published in minutes instead of hours.
        "br": brotli.compress(body, quality=5),
        # mtime=0 keeps the bytes identical from one publish to the next. Level 6 is
        # within a percent or two of 9 at a third of the time.
        "gzip": gzip.compress(body, compresslevel=6, mtime=0),
    }


@dataclass(frozen=True)
class Record:
    """What was last published for one feed."""

    key: FeedKey
    token: str  # the version it was rendered at (and trending's window)
    fingerprint: str  # hash of the content, Last-Modified left out
    last_modified: datetime

    def to_dict(self) -> dict[str, str]:
        return {
            "key": self.key.storage_key,
            "token": self.token,
            "fingerprint": self.fingerprint,
            "last_modified": self.last_modified.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> Record:
        kind, _, value = data["key"].partition(":")
        return cls(
            key=FeedKey(FeedKind(kind), value),
            token=data["token"],
            fingerprint=data["fingerprint"],
            last_modified=datetime.fromisoformat(data["last_modified"]),
        )


def _write_atomically(path: Path, data: bytes, mtime: int) -> None:
    """Readers see the old file or the new one, never a part, and never a wrong mtime.

    Not synced to disk one by one (nine files a feed; fsync was half of a publish):
    the tree is a copy of the store, a publisher starting up rewrites any feed whose
    files are missing or empty, and `feeds publish --all` rewrites everything.
    """
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        # mkstemp makes the file private; nginx runs as another user and must read it.
        os.chmod(temp, 0o644)
        os.utime(temp, (mtime, mtime))
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def remove_file(target: Path) -> None:
    """Remove a published file, the identity first so it stops being found."""
    target.unlink(missing_ok=True)
    for suffix in SUFFIXES.values():
        target.with_name(target.name + suffix).unlink(missing_ok=True)


class PublishedTree:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: FeedKey, fmt: FeedFormat) -> Path | None:
        relative = relative_path(key, fmt)
        return None if relative is None else self.root / relative

    def write(self, key: FeedKey, fmt: FeedFormat, body: bytes, last_modified: datetime) -> Path:
        """Publish one format of a feed: the compressed siblings first, then the file.

        Writing the identity file last means that once it is there (a client that
        takes no compressed variant gets it, from nginx or the app) its variants are
        already current.
        """
        target = self.path(key, fmt)
        if target is None:
            raise ValueError(f"{key.storage_key} cannot be published as a file")
        return self.write_file(target, body, last_modified)

    def archive_path(self, key: FeedKey, month: str, fmt: FeedFormat) -> Path | None:
        relative = archive_relative_path(key, month, fmt)
        return None if relative is None else self.root / relative

    def write_file(self, target: Path, body: bytes, last_modified: datetime) -> Path:
        """Write one published file and its compressed siblings (see `write`)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        mtime = int(last_modified.timestamp())
        for coding, data in compress(body).items():
            _write_atomically(target.with_name(target.name + SUFFIXES[coding]), data, mtime)
        _write_atomically(target, body, mtime)
        return target

    def remove(self, key: FeedKey) -> None:
        """Unpublish a feed: its files first (identity first, so it stops being found),
        then its archives."""
        for fmt in FeedFormat:
            target = self.path(key, fmt)
            if target is not None:
                remove_file(target)
        self._record_path(key).unlink(missing_ok=True)
        folder = archive_folder(key)
        if folder is not None:
            for path in sorted((self.root / folder).glob("*-*.*")):
                if path.suffix in (".rss", ".atom", ".json"):
                    remove_file(path)
            # Not there, or not empty (a write racing): left for the next removal.
            with contextlib.suppress(OSError):
                (self.root / folder).rmdir()

    def remove_archive(self, key: FeedKey, month: str) -> bool:
        """Unpublish one month (it holds nothing any more); whether it was published."""
        existed = False
        for fmt in FeedFormat:
            target = self.archive_path(key, month, fmt)
            if target is not None and target.exists():
                existed = True
                remove_file(target)
        return existed

    # -- the manifest -----------------------------------------------------------------

    def _record_path(self, key: FeedKey) -> Path:
        # Hashed: a key may hold any character, a file name may not.
        digest = hashlib.sha256(key.storage_key.encode()).hexdigest()[:32]
        return self.root / MANIFEST / f"{digest}.json"

    def record(self, record: Record) -> None:
        path = self._record_path(record.key)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps(record.to_dict(), ensure_ascii=False).encode()
        _write_atomically(path, data, int(record.last_modified.timestamp()))

    def manifest_stamp(self) -> int:
        """Changes whenever a record is written or removed (by any process)."""
        try:
            return (self.root / MANIFEST).stat().st_mtime_ns
        except FileNotFoundError:
            return 0

    def record_of(self, key: FeedKey) -> Record | None:
        """One feed's record, read from its own file (None when there is none)."""
        try:
            record = Record.from_dict(json.loads(self._record_path(key).read_bytes()))
        except (OSError, ValueError, KeyError):
            return None
        return record if record.key == key else None

    def records(self) -> dict[FeedKey, Record]:
        """Every feed's record; an unreadable record counts as not published."""
        folder = self.root / MANIFEST
        found: dict[FeedKey, Record] = {}
        if not folder.is_dir():
            return found
        for path in folder.glob("*.json"):
            try:
                record = Record.from_dict(json.loads(path.read_bytes()))
            except (OSError, ValueError, KeyError):
                continue
            found[record.key] = record
        return found

    @contextmanager
    def locked(self) -> Iterator[None]:
        """One publisher at a time on this tree, across processes."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / LOCK, "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- the heartbeat ------------------------------------------------------------------

    def beat(self, status: dict[str, str | int | None]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        data = json.dumps(status).encode()
        _write_atomically(self.root / HEARTBEAT, data, int(datetime.now(UTC).timestamp()))

    def heartbeat(self) -> dict[str, str | int | None] | None:
        try:
            data = json.loads((self.root / HEARTBEAT).read_bytes())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None
