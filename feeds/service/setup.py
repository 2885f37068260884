"""Bringing a store up: migrations, the config files, the demo articles."""

from __future__ import annotations

import json
import logging
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from feeds.errors import ConfigError, Conflict, FeedsError
from feeds.service.articles import ArticleService
from feeds.service.catalog import CatalogService
from feeds.service.configcheck import (
    ConfigFiles,
    ConfigInvalid,
    ConfigProblem,
    read_config,
)
from feeds.service.context import Context
from feeds.service.secret_key import SecretKeyService
from feeds.service.sources_config import SourcesReport, apply_sources_file, read_sources_file
from feeds.store import tagfeeds as tagfeed_store

log = logging.getLogger(__name__)


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc


@dataclass(frozen=True)
class ConfigStatus:
    """Whether the config files are good now, and when this process last applied them."""

    ok: bool
    problems: tuple[ConfigProblem, ...]
    applied_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.ok else "invalid",
            "problems": [str(p) for p in self.problems],
            "applied_at": self.applied_at.isoformat() if self.applied_at else None,
        }


@dataclass(frozen=True)
class ApplyReport:
    sections: int
    created: tuple[str, ...]
    updated: tuple[str, ...]
    removed: tuple[str, ...]
    sources: SourcesReport


class Setup:
    def __init__(
        self,
        ctx: Context,
        catalog: CatalogService,
        articles: ArticleService,
        secret_key: SecretKeyService,
    ) -> None:
        self.ctx = ctx
        self.catalog = catalog
        self.articles = articles
        self.secret_key = secret_key
        self._status: ConfigStatus | None = None
        self._stamp: tuple[float | None, ...] = ()

    @property
    def config_dir(self) -> Path:
        return Path(self.ctx.settings.config_dir)

    @property
    def tag_feeds_path(self) -> Path:
        return self.config_dir / "tag_feeds.toml"

    def migrate(self) -> None:
        """Bring the store's schema to the newest revision (safe to repeat), and make
        the shared secret key if the store has none yet."""
        self.ctx.store.migrate()
        self.secret_key.get()

    def is_migrated(self) -> bool:
        """Whether the store has been set up (`feeds init`) at all."""
        return self.ctx.store.is_migrated()

    def init(self) -> None:
        """Migrate, apply the config files, and load the demo into an empty store.

        An invalid config file is logged and leaves the store as it was: the service
        goes on with its last good configuration, and /healthz says why.
        """
        self.migrate()
        try:
            self.apply_config()
        except ConfigError as exc:
            log.error("config files not applied; keeping the last good configuration: %s", exc)
            return
        if self.ctx.settings.load_demo and self.articles.count() == 0:
            self.load_demo()

    @property
    def sources_path(self) -> Path:
        return self.config_dir / "sources.toml"

    def check_config(self) -> ConfigFiles:
        """Read and check the files; the store is not touched."""
        files = read_config(self.config_dir, max_limit=self.ctx.settings.feed_limit_max)
        files.problems.extend(read_sources_file(self.sources_path)[1])
        return files

    def apply_config(self) -> ApplyReport:
        """Make the store match the files in one transaction, or change nothing.

        Sections are created and updated. Tag feeds and sources from the files are
        created, updated, and removed when their file no longer lists them; those made in
        the admin UI or API (no `managed_by`) are never touched.
        """
        stamp = self._file_stamp()
        files = self.check_config()
        if files.problems:
            self._remember(ConfigStatus(False, tuple(files.problems), self._applied_at()), stamp)
            raise ConfigInvalid(files.problems)
        try:
            report = self._apply(files)
        except Conflict:
            # Two workers starting at once can race to create the same entry; the
            # second attempt sees the first one's rows and updates them instead.
            report = self._apply(files)
        except ConfigInvalid as exc:
            self._remember(ConfigStatus(False, exc.problems, self._applied_at()), stamp)
            raise
        self._remember(ConfigStatus(True, (), self.ctx.now()), stamp)
        return report

    def _apply(self, files: ConfigFiles) -> ApplyReport:
        path = str(self.tag_feeds_path)
        created: list[str] = []
        updated: list[str] = []
        removed: list[str] = []
        # One unit of work: the sections, tag feeds and sources change all together or
        # not at all (each service call below joins it).
        with self.ctx.unit_of_work() as conn:
            for section in files.sections:
                self.catalog.save_section(section)
            listed = {feed.slug for feed in files.tag_feeds}
            for feed in files.tag_feeds:
                current = tagfeed_store.get(conn, feed.slug)
                if current is None:
                    self.catalog.create_tag_feed(feed)
                    created.append(feed.slug)
                elif current.managed_by is None:
                    line = files.tag_feed_lines.get(feed.slug)
                    message = (
                        f"{feed.slug!r} was created in the admin UI or API; "
                        "rename it in the file or delete the other one first"
                    )
                    raise ConfigInvalid([ConfigProblem(path, line, "slug", message)])
                elif self.catalog.update_tag_feed(feed.slug, feed) != current:
                    updated.append(feed.slug)
            for current in tagfeed_store.all_feeds(conn):
                if current.managed_by is not None and current.slug not in listed:
                    self.catalog.delete_tag_feed(current.slug)
                    removed.append(current.slug)
            sources = apply_sources_file(self.ctx, self.sources_path)
        return ApplyReport(
            len(files.sections), tuple(created), tuple(updated), tuple(removed), sources
        )

    # -- status for /healthz ----------------------------------------------------------

    def _file_stamp(self) -> tuple[float | None, ...]:
        stamps: list[float | None] = []
        for name in ("sections.toml", "tag_feeds.toml", "sources.toml"):
            try:
                stamps.append((self.config_dir / name).stat().st_mtime)
            except OSError:
                stamps.append(None)
        return tuple(stamps)

    def _applied_at(self) -> datetime | None:
        return self._status.applied_at if self._status else None

    def _remember(self, status: ConfigStatus, stamp: tuple[float | None, ...]) -> None:
        self._status, self._stamp = status, stamp

    def config_status(self) -> ConfigStatus:
        """Cheap enough for /healthz: a stat() per file, a re-check only when one changed.

        A file fixed or broken since this process applied it shows up here; applying it
        is `feeds config apply` (or a restart).
        """
        stamp = self._file_stamp()
        if self._status is None or stamp != self._stamp:
            problems = tuple(self.check_config().problems)
            self._remember(ConfigStatus(not problems, problems, self._applied_at()), stamp)
        assert self._status is not None
        return self._status

    def load_demo(self) -> int:
        """Import the demo articles, shifting their dates so they look fresh.

        The demo file's dates are written around the `anchor` in demo.toml; the anchor
        becomes the load time, so "published two hours ago" stays true and the scheduled
        article stays in the future.
        """
        folder = self.config_dir / "demo"
        meta = read_toml(folder / "demo.toml") if (folder / "demo.toml").exists() else {}
        anchor_text = meta.get("anchor")
        shift = None
        if isinstance(anchor_text, str):
            anchor = datetime.fromisoformat(anchor_text)
            if anchor.tzinfo is None:
                raise ConfigError(f"{folder / 'demo.toml'}: anchor needs a UTC offset")
            shift = self.ctx.now().replace(microsecond=0) - anchor.astimezone(UTC)
        path = folder / "articles.ndjson"
        if not path.exists():
            return 0
        lines = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and shift is not None:
                record = json.loads(line)
                for name in ("published_at", "updated_at"):
                    if isinstance(record.get(name), str):
                        moved = datetime.fromisoformat(record[name]) + shift
                        record[name] = moved.isoformat()
                line = json.dumps(record, ensure_ascii=False)
            lines.append(line)
        try:
            return self.articles.import_lines(lines).imported
        except FeedsError as exc:
            raise ConfigError(f"{path}: {exc}") from exc
