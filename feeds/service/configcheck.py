"""Reading and checking config/sections.toml and config/tag_feeds.toml without the store.

Every problem is reported, each with its file, line and field. tomllib keeps no
positions, so lines come from scanning the text for each `[[table]]` header and the keys
under it; that is exact for the flat files these are.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from feeds.errors import ConfigError, ValidationError
from feeds.models import Section, TagFeed
from feeds.service.payload import SLUG
from feeds.service.tagfeed_input import parse_tag_feed

SECTION_FIELDS = {"slug", "title", "description"}
_HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_.-]+)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_-]+)\s*=""")
_TOML_LINE = re.compile(r"at line (\d+)")


@dataclass(frozen=True)
class ConfigProblem:
    file: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class ConfigInvalid(ConfigError):
    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in problems))


@dataclass(frozen=True)
class TableLines:
    header: int
    keys: dict[str, int] = field(default_factory=dict)

    def of(self, name: str | None) -> int:
        return self.keys.get(name or "", self.header)


def table_lines(text: str, name: str) -> tuple[dict[str, int], list[TableLines]]:
    """Lines of the top-level keys, and of each `[[name]]` table and its keys, in order."""
    top: dict[str, int] = {}
    tables: list[TableLines] = []
    current: dict[str, int] | None = top
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            if header.group(1) == name and line.lstrip().startswith("[["):
                tables.append(TableLines(number))
                current = tables[-1].keys
            else:
                current = None  # some other table: its keys are not ours
            continue
        key = _KEY.match(line)
        if key and current is not None:
            current.setdefault(key.group(1).strip("\"'"), number)
    return top, tables


@dataclass
class ConfigFiles:
    """What the files say, and everything wrong with them."""

    sections: list[Section] = field(default_factory=list)
    tag_feeds: list[TagFeed] = field(default_factory=list)
    problems: list[ConfigProblem] = field(default_factory=list)
    # Where each tag feed's slug is, for errors found later against the store.
    tag_feed_lines: dict[str, int] = field(default_factory=dict)


def _load(path: Path, files: ConfigFiles) -> tuple[dict[str, Any], str] | None:
    if not path.exists():
        return None
    try:
        text = path.read_text(encoding="utf-8")
        return tomllib.loads(text), text
    except (OSError, UnicodeDecodeError) as exc:
        files.problems.append(ConfigProblem(str(path), None, None, f"cannot read: {exc}"))
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_LINE.search(str(exc))
        line = int(found.group(1)) if found else None
        files.problems.append(ConfigProblem(str(path), line, None, f"not valid TOML: {exc}"))
    return None


def _entries(
    path: Path, data: dict[str, Any], text: str, name: str, files: ConfigFiles
) -> list[tuple[dict[str, Any], TableLines]]:
    top, tables = table_lines(text, name)
    for key in sorted(set(data) - {name}):
        files.problems.append(ConfigProblem(str(path), top.get(key), key, "unknown key"))
    entries = data.get(name, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        line = top.get(name)
        files.problems.append(ConfigProblem(str(path), line, name, f"write it as [[{name}]]"))
        return []
    if len(tables) != len(entries):
        # Inline tables or another layout we cannot place: point at the tables' start.
        tables = [TableLines(top.get(name, 1)) for _ in entries]
    return list(zip(entries, tables, strict=True))


def check_sections(path: Path, files: ConfigFiles) -> None:
    loaded = _load(path, files)
    if loaded is None:
        return
    seen: set[str] = set()
    for entry, lines in _entries(path, *loaded, "section", files):
        problems = {key: "unknown field" for key in sorted(set(entry) - SECTION_FIELDS)}
        slug, title = entry.get("slug"), entry.get("title")
        description = entry.get("description", "")
        if not isinstance(slug, str) or not SLUG.fullmatch(slug):
            problems["slug"] = "is required: lowercase letters, digits and single hyphens"
        elif slug in seen:
            problems["slug"] = f"{slug!r} appears twice"
        if not isinstance(title, str) or not title.strip():
            problems["title"] = "is required"
        if not isinstance(description, str):
            problems["description"] = "must be text"
        for name, message in problems.items():
            files.problems.append(ConfigProblem(str(path), lines.of(name), name, message))
        if not problems:
            seen.add(str(slug))
            files.sections.append(Section(str(slug), str(title).strip(), str(description)))


def _check_tag_feeds(path: Path, max_limit: int, files: ConfigFiles) -> None:
    loaded = _load(path, files)
    if loaded is None:
        return
    known_sections = {s.slug for s in files.sections}
    for entry, lines in _entries(path, *loaded, "tag_feed", files):
        if "managed_by" in entry:
            files.problems.append(
                ConfigProblem(str(path), lines.of("managed_by"), "managed_by", "unknown field")
            )
            continue
        try:
            feed = parse_tag_feed(entry, max_limit=max_limit, managed_by=str(path))
        except ValidationError as exc:
            for name, message in exc.errors.items():
                files.problems.append(ConfigProblem(str(path), lines.of(name), name, message))
            continue
        problems: dict[str, str] = {}
        if feed.slug in files.tag_feed_lines:
            problems["slug"] = f"{feed.slug!r} appears twice"
        unknown = [s for s in feed.rule.sections if s not in known_sections]
        if unknown:
            problems["sections"] = f"unknown section {', '.join(unknown)}"
        for name, message in problems.items():
            files.problems.append(ConfigProblem(str(path), lines.of(name), name, message))
        if not problems:
            files.tag_feed_lines[feed.slug] = lines.of("slug")
            files.tag_feeds.append(feed)


def read_config(config_dir: Path, *, max_limit: int) -> ConfigFiles:
    """Parse and check every config file; never touches the store."""
    files = ConfigFiles()
    check_sections(config_dir / "sections.toml", files)
    _check_tag_feeds(config_dir / "tag_feeds.toml", max_limit, files)
    return files
