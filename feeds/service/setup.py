"""Bringing a store up: migrations, the config files, the demo articles."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from feeds.errors import ConfigError, FeedsError, ValidationError
from feeds.models import Section
from feeds.service.articles import ArticleService
from feeds.service.catalog import CatalogService, parse_tag_feed
from feeds.service.context import Context
from feeds.store import tagfeeds as tagfeed_store


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc


def load_sections(path: Path) -> list[Section]:
    if not path.exists():
        return []
    data = read_toml(path)
    out: list[Section] = []
    for number, entry in enumerate(data.get("section", []), start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("slug"), str):
            raise ConfigError(f"{path}: section #{number}: slug is required")
        title = entry.get("title")
        if not isinstance(title, str) or not title.strip():
            raise ConfigError(f"{path}: section {entry['slug']!r}: title is required")
        description = entry.get("description", "")
        if not isinstance(description, str):
            raise ConfigError(f"{path}: section {entry['slug']!r}: description must be text")
        out.append(Section(slug=entry["slug"], title=title.strip(), description=description))
    return out


class Setup:
    def __init__(self, ctx: Context, catalog: CatalogService, articles: ArticleService) -> None:
        self.ctx = ctx
        self.catalog = catalog
        self.articles = articles

    @property
    def config_dir(self) -> Path:
        return Path(self.ctx.settings.config_dir)

    def init(self) -> None:
        """Migrate, apply the config files, and load the demo into an empty store."""
        self.ctx.store.migrate()
        self.apply_sections()
        self.apply_tag_feeds()
        if self.ctx.settings.load_demo and self.articles.count() == 0:
            self.load_demo()

    def apply_sections(self) -> None:
        sections = load_sections(self.config_dir / "sections.toml")
        with self.ctx.store.begin() as conn:
            for section in sections:
                self.catalog.save_section(section, conn)

    def apply_tag_feeds(self) -> None:
        path = self.config_dir / "tag_feeds.toml"
        if not path.exists():
            return
        data = read_toml(path)
        owner = str(path)
        feeds = []
        for number, entry in enumerate(data.get("tag_feed", []), start=1):
            try:
                feeds.append(
                    parse_tag_feed(
                        entry, max_limit=self.ctx.settings.feed_limit_max, managed_by=owner
                    )
                )
            except ValidationError as exc:
                raise ConfigError(f"{path}: tag_feed #{number}: {exc}") from exc
        with self.ctx.store.begin() as conn:
            for feed in feeds:
                if tagfeed_store.get(conn, feed.slug) is None:
                    self.catalog.create_tag_feed(feed, conn)
                else:
                    self.catalog.update_tag_feed(feed.slug, feed, conn)

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
            return self.articles.import_lines(lines)
        except FeedsError as exc:
            raise ConfigError(f"{path}: {exc}") from exc
