"""config/sources.toml: checking it without the store, and making the store match it.

    [[source]]
    name = "Wire"
    url = "https://wire.example.com/rss"   # or file:demo/wire.xml, inside the config folder
    section = "world"
    hashtags = ["Wire"]
    categories = "all"                     # "none", or { "South Korea" = "SouthKorea" }
    interval_minutes = 15
    retention_days = 30
    max_items = 100
    enabled = true

Sources from the file carry `managed_by` (the file's path) and are read-only elsewhere.
A file entry is matched to its stored source by name, then by URL, so renaming one
keeps its articles; a stored file source the file no longer lists is removed with its
articles. Every problem is reported with its file, line and field.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from feeds.errors import Conflict, FetchError, ValidationError
from feeds.ingest.pipeline import FILE_SCHEME, local_path
from feeds.models import Source, SourceState
from feeds.service.configcheck import (
    ConfigFiles,
    ConfigInvalid,
    ConfigProblem,
    TableLines,
    check_sections,
    table_lines,
)
from feeds.service.context import Context
from feeds.service.sources import SourceService, parse_source
from feeds.store import sources as source_store

TABLE = "source"


@dataclass(frozen=True)
class SourcesReport:
    created: tuple[str, ...]
    updated: tuple[str, ...]
    removed: tuple[str, ...]


def read_sources_file(path: Path) -> tuple[list[tuple[Source, TableLines]], list[ConfigProblem]]:
    """The sources the file declares (each with where it is written), and every problem.

    A missing file declares no sources. Sections are checked against sections.toml in
    the same folder when it exists.
    """
    file = str(path)
    if not path.exists():
        return [], []
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        return [], [ConfigProblem(file, None, None, f"cannot read: {exc}")]
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        return [], [ConfigProblem(file, line, None, f"not valid TOML: {exc}")]
    problems: list[ConfigProblem] = []
    top, tables = table_lines(text, TABLE)
    for key in sorted(set(data) - {TABLE}):
        problems.append(ConfigProblem(file, top.get(key), key, "unknown key"))
    entries = data.get(TABLE, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        problems.append(ConfigProblem(file, top.get(TABLE), TABLE, f"write it as [[{TABLE}]]"))
        return [], problems
    if len(tables) != len(entries):
        tables = [TableLines(top.get(TABLE, 1)) for _ in entries]
    sections = _known_sections(path.parent / "sections.toml")
    found: list[tuple[Source, TableLines]] = []
    names: set[str] = set()
    urls: set[str] = set()
    for entry, lines in zip(entries, tables, strict=True):
        try:
            source = parse_source(entry, managed_by=file, allow_file=True)
        except ValidationError as exc:
            problems.extend(ConfigProblem(file, lines.of(k), k, m) for k, m in exc.errors.items())
            continue
        wrong = _entry_problems(source, path.parent, sections, names, urls)
        problems.extend(ConfigProblem(file, lines.of(k), k, m) for k, m in wrong.items())
        names.add(source.name)
        urls.add(source.url)
        if not wrong:
            found.append((source, lines))
    return found, problems


def _known_sections(path: Path) -> set[str] | None:
    if not path.exists():
        return None
    files = ConfigFiles()
    check_sections(path, files)
    return {section.slug for section in files.sections}


def _entry_problems(
    source: Source, folder: Path, sections: set[str] | None, names: set[str], urls: set[str]
) -> dict[str, str]:
    problems: dict[str, str] = {}
    if source.name in names:
        problems["name"] = f"{source.name!r} appears twice"
    if source.url in urls:
        problems["url"] = f"{source.url!r} appears twice"
    elif source.url.startswith(FILE_SCHEME):
        try:
            if not local_path(folder, source.url).is_file():
                problems["url"] = f"{source.url}: no such file in {folder}"
        except FetchError as exc:
            problems["url"] = str(exc)
    if sections is not None and source.section not in sections:
        problems["section"] = f"unknown section {source.section!r}"
    return problems


def check_sources_file(path: Path) -> list[str]:
    """Every problem with the file, each as `file:line: field: message`; [] when good."""
    return [str(problem) for problem in read_sources_file(Path(path))[1]]


def apply_sources_file(ctx: Context, path: Path) -> SourcesReport:
    """Make the stored sources match the file, all or nothing (in the caller's unit of
    work if one is open: a config apply's, with the sections and tag feeds).

    Raises ConfigInvalid (naming file, line and field) and changes nothing when the file
    is invalid or clashes with a source created in the admin UI or API.
    """
    path = Path(path)
    file = str(path)
    entries, problems = read_sources_file(path)
    if problems:
        raise ConfigInvalid(problems)
    service = SourceService(ctx)
    with ctx.unit_of_work() as conn:
        # Any file-managed source, whatever spelling of the path it was stored under:
        # there is one sources file, and a changed config_dir must not delete every
        # article.
        existing = [s for s in source_store.all_sources(conn) if s.managed_by is not None]
        by_name = {s.name: s for s in existing}
        by_url = {s.url: s for s in existing}
        kept: set[int | None] = set()
        created: list[str] = []
        updated: list[str] = []
        for wanted, lines in entries:
            current = by_name.get(wanted.name) or by_url.get(wanted.url)
            try:
                if current is None:
                    _check_unmanaged(conn, wanted, file, lines)
                    service.insert(wanted)
                    created.append(wanted.name)
                    continue
                kept.add(current.id)
                if _config_of(current) != _config_of(wanted):
                    service.write_config(current, wanted)
                    updated.append(wanted.name)
            except ValidationError as exc:
                problems = [ConfigProblem(file, lines.of(k), k, m) for k, m in exc.errors.items()]
                raise ConfigInvalid(problems) from exc
            except Conflict as exc:
                problem = ConfigProblem(file, lines.of("url"), "url", str(exc))
                raise ConfigInvalid([problem]) from exc
        removed = []
        for stale in existing:
            if stale.id not in kept:
                service.delete(stale)
                removed.append(stale.name)
    return SourcesReport(tuple(created), tuple(updated), tuple(removed))


def _check_unmanaged(conn: Connection, wanted: Source, file: str, lines: TableLines) -> None:
    holder = source_store.get_by_url(conn, wanted.url)
    if holder is not None:
        message = (
            f"source {holder.id} with this URL was created in the admin UI or API; "
            "remove it there or drop this entry"
        )
        raise ConfigInvalid([ConfigProblem(file, lines.of("url"), "url", message)])


def _config_of(source: Source) -> Any:
    return replace(source, id=None, state=SourceState())
