"""config/sources.toml: problems with file, line and field; apply, update, remove; file kind."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from feeds.errors import FetchError
from feeds.ingest.pipeline import local_path
from feeds.service import Service
from feeds.service.configcheck import ConfigInvalid
from feeds.service.sources import ManagedByFile
from feeds.service.sources_config import apply_sources_file, check_sources_file
from tests.conftest import CONFIG, FakeClock
from tests.ingest_helpers import add_source, ingest_app, svc

WIRE = """
[[source]]
name = "Wire"
url = "file:demo/wire.xml"
section = "world"
categories = "all"
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name in ("sections.toml", "tag_feeds.toml"):
        shutil.copy(CONFIG / name, tmp_path / name)
    (tmp_path / "demo").mkdir()
    shutil.copy(CONFIG / "demo" / "wire.xml", tmp_path / "demo" / "wire.xml")
    return tmp_path


@pytest.fixture
def app(database_url: str, clock: FakeClock, folder: Path) -> Iterator[Flask]:
    app = ingest_app(database_url, clock, config_dir=str(folder))
    yield app
    svc(app).ctx.store.dispose()


def apply(service: Service, path: Path) -> object:
    return apply_sources_file(service.ctx, path)


def test_the_shipped_file_is_valid() -> None:
    assert check_sources_file(CONFIG / "sources.toml") == []


def test_problems_name_file_line_and_field(folder: Path) -> None:
    path = folder / "sources.toml"
    path.write_text(
        WIRE
        + '\n[[source]]\nname = "Wire"\nurl = "ftp://x/feed"\nsection = "nowhere"\n'
        + 'interval_minutes = 0\ncolour = "red"\n'
        + '\n[[source]]\nname = "Escape"\nurl = "file:../secrets.xml"\nsection = "world"\n'
        + '\n[[source]]\nname = "Missing"\nurl = "file:demo/none.xml"\nsection = "world"\n',
        encoding="utf-8",
    )
    problems = check_sources_file(path)
    assert f"{path}:10: url: must be an http or https URL (or file:<path> in sources.toml)" in (
        problems
    )
    assert any(p.startswith(f"{path}:12: interval_minutes: ") for p in problems)
    assert any(p.startswith(f"{path}:13: colour: unknown field") for p in problems)
    assert any(p.startswith(f"{path}:17: url: ") and "relative path" in p for p in problems)
    assert any(p.startswith(f"{path}:22: url: ") and "no such file" in p for p in problems)
    path.write_text(WIRE + WIRE.replace('"file:demo/wire.xml"', '"https://x.test/f"'))
    assert any(":9: name: 'Wire' appears twice" in p for p in check_sources_file(path))
    path.write_text("[[source]\n")
    assert "not valid TOML" in check_sources_file(path)[0]


def test_apply_creates_updates_and_removes_only_file_sources(
    service: Service, folder: Path
) -> None:
    path = folder / "sources.toml"
    own = add_source(service, "https://own.test/feed", name="Own")
    path.write_text(WIRE)
    report = apply(service, path)
    assert report.created == ("Wire",)  # type: ignore[attr-defined]
    wire = next(s for s in service.sources.list() if s.name == "Wire")
    assert wire.managed_by == str(path)
    assert apply(service, path).updated == ()  # type: ignore[attr-defined]
    path.write_text(WIRE.replace('section = "world"', 'section = "business"'))
    assert apply(service, path).updated == ("Wire",)  # type: ignore[attr-defined]
    assert service.sources.get(wire.id or 0).section == "business"
    path.write_text("")
    assert apply(service, path).removed == ("Wire",)  # type: ignore[attr-defined]
    assert [s.id for s in service.sources.list()] == [own]


def test_removing_a_file_source_removes_its_articles_from_feeds(
    service: Service, folder: Path
) -> None:
    path = folder / "sources.toml"
    path.write_text(WIRE)
    apply(service, path)
    [wire] = service.sources.list()
    assert service.sources.refresh(wire.id or 0).new == 5
    path.write_text("")
    apply(service, path)
    assert service.articles.count() == 0


def test_file_sources_are_read_only_elsewhere(service: Service, folder: Path) -> None:
    path = folder / "sources.toml"
    path.write_text(WIRE)
    apply(service, path)
    [wire] = service.sources.list()
    for change in (
        lambda: service.sources.disable(wire.id or 0),
        lambda: service.sources.remove(wire.id or 0),
        lambda: service.sources.update(wire.id or 0, {"name": "X"}, partial=True),
    ):
        with pytest.raises(ManagedByFile, match=r"sources\.toml"):
            change()
    assert service.sources.refresh(wire.id or 0).status == "fetched"  # refreshing is fine


def test_a_file_entry_clashing_with_an_api_source_is_refused(
    service: Service, folder: Path
) -> None:
    add_source(service, "https://x.test/f", name="From the API")
    path = folder / "sources.toml"
    path.write_text(WIRE.replace('"file:demo/wire.xml"', '"https://x.test/f"'))
    with pytest.raises(ConfigInvalid, match="created in the admin UI or API"):
        apply(service, path)


@pytest.mark.parametrize(
    "url", ["file:../sources.toml", "file:/etc/passwd", "file:demo/../../x", "file:", "file:C:x"]
)
def test_file_paths_stay_inside_the_config_folder(folder: Path, url: str) -> None:
    with pytest.raises(FetchError):
        local_path(folder, url)


def test_a_symlink_out_of_the_config_folder_is_refused(folder: Path, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    outside = tmp_path_factory.mktemp("outside") / "feed.xml"
    outside.write_text("<rss/>")
    (folder / "demo" / "link.xml").symlink_to(outside)
    with pytest.raises(FetchError, match="outside the config folder"):
        local_path(folder, "file:demo/link.xml")
    assert local_path(folder, "file:demo/wire.xml") == (folder / "demo" / "wire.xml").resolve()
