"""config/*.toml as the source of truth: checked with lines, applied all or nothing."""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from feeds.service import Service
from feeds.service.configcheck import ConfigInvalid
from tests.conftest import CONFIG, FakeClock, make_app

GOOD = """\
# tag feeds
[[tag_feed]]
slug = "east-asia"
title = "East Asia"
any_of = ["SouthKorea", "Japan"]

[[tag_feed]]
slug = "markets"
title = "Markets"
sections = ["business"]
"""

BAD = """\
[[tag_feed]]
slug = "ok-one"
title = "Fine"
any_of = ["Japan"]

[[tag_feed]]
slug = "Not A Slug"
title = "Broken"
any_of = ["Japan"]
limit = 0

[[tag_feed]]
slug = "never"
title = "Never"
all_of = ["Japan"]
none_of = ["japan"]

[[tag_feed]]
slug = "ok-one"
title = "Twice"
sections = ["nowhere"]
colour = "red"
"""


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "config"
    folder.mkdir()
    shutil.copy(CONFIG / "sections.toml", folder / "sections.toml")
    (folder / "tag_feeds.toml").write_text(GOOD, encoding="utf-8")
    return folder


@pytest.fixture
def capp(database_url: str, clock: FakeClock, config_dir: Path) -> Iterator[Flask]:
    app = make_app(database_url, clock, config_dir=str(config_dir))
    yield app
    app.extensions["feeds"].ctx.store.dispose()


@pytest.fixture
def csvc(capp: Flask) -> Service:
    svc: Service = capp.extensions["feeds"]
    return svc


def write(config_dir: Path, text: str) -> None:
    path = config_dir / "tag_feeds.toml"
    path.write_text(text, encoding="utf-8")
    # Make the change visible to the mtime check even within one clock tick.
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def admin(svc: Service) -> dict[str, str]:
    # Not the admin_token fixture: it would build a second app on the shipped config.
    return {"Authorization": f"Bearer {svc.tokens.create('root', ('admin',))}"}


def slugs(svc: Service) -> dict[str, str | None]:
    return {f.slug: f.managed_by for f in svc.catalog.tag_feeds()}


def test_the_shipped_config_is_valid(service: Service) -> None:
    files = service.setup.check_config()
    assert files.problems == []
    assert {f.slug for f in files.tag_feeds} == {"east-asia", "green-shipping"}


def test_check_reports_every_problem_with_file_line_and_field(
    csvc: Service, config_dir: Path
) -> None:
    write(config_dir, BAD)
    problems = {(p.line, p.field): p.message for p in csvc.setup.check_config().problems}
    assert all(p.file.endswith("tag_feeds.toml") for p in csvc.setup.check_config().problems)
    assert "lowercase" in problems[(7, "slug")]
    assert "from 1 to" in problems[(10, "limit")]
    assert "can match nothing" in problems[(12, "rule")]  # the table's header line
    assert problems[(22, "colour")] == "unknown field"
    assert len(problems) == 4
    # The duplicate and the unknown section show once the field errors are fixed.
    write(config_dir, BAD.replace('colour = "red"\n', ""))
    problems = {(p.line, p.field): p.message for p in csvc.setup.check_config().problems}
    assert "appears twice" in problems[(19, "slug")]
    assert "unknown section nowhere" in problems[(21, "sections")]


def test_toml_syntax_errors_name_the_line(csvc: Service, config_dir: Path) -> None:
    write(config_dir, GOOD + "\n[[tag_feed]]\nslug = \n")
    (problem,) = csvc.setup.check_config().problems
    assert problem.line == 13
    assert "not valid TOML" in problem.message


def test_sections_file_problems_are_reported(csvc: Service, config_dir: Path) -> None:
    (config_dir / "sections.toml").write_text(
        '[[section]]\nslug = "world"\n\n[[section]]\nslug = "x"\ntitel = "X"\n', "utf-8"
    )
    found = {
        (p.file.rsplit("/", 1)[1], p.line, p.field) for p in csvc.setup.check_config().problems
    }
    assert ("sections.toml", 1, "title") in found
    assert ("sections.toml", 6, "titel") in found
    assert ("sections.toml", 4, "title") in found


def test_cli_check(capp: Flask, config_dir: Path) -> None:
    runner = capp.test_cli_runner()
    ok = runner.invoke(args=["feeds", "config", "check"])
    assert ok.exit_code == 0 and "2 tag feeds" in ok.output
    write(config_dir, BAD)
    result = runner.invoke(args=["feeds", "config", "check"])
    assert result.exit_code == 1
    assert f"{config_dir / 'tag_feeds.toml'}:10: limit: must be an integer" in result.output
    as_json = runner.invoke(args=["feeds", "config", "check", "--json"])
    data = json.loads(as_json.output)
    assert data["ok"] is False
    assert {"file", "line", "field", "message"} <= set(data["problems"][0])


def test_check_does_not_touch_the_store(csvc: Service, config_dir: Path) -> None:
    write(config_dir, GOOD.replace("Markets", "Money"))
    assert csvc.setup.check_config().problems == []
    assert csvc.catalog.tag_feed("markets").title == "Markets"


def test_apply_creates_updates_and_removes_only_file_entries(
    capp: Flask, csvc: Service, config_dir: Path
) -> None:
    client = capp.test_client()
    ui_made = {"slug": "from-ui", "title": "From the UI", "any_of": ["Film"]}
    assert client.post("/api/v1/tag-feeds", json=ui_made, headers=admin(csvc)).status_code == 201
    assert set(slugs(csvc)) == {"east-asia", "markets", "from-ui"}
    etag = client.get("/feeds/custom/markets.json").headers["ETag"]

    write(
        config_dir,
        GOOD.replace('title = "Markets"', 'title = "Money"')
        .replace('slug = "east-asia"', 'slug = "asia"')
        .replace("East Asia", "Asia"),
    )
    result = capp.test_cli_runner().invoke(args=["feeds", "config", "apply", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["created"], report["updated"], report["removed"]) == (
        ["asia"],
        ["markets"],
        ["east-asia"],
    )
    assert slugs(csvc) == {
        "asia": str(config_dir / "tag_feeds.toml"),
        "markets": str(config_dir / "tag_feeds.toml"),
        "from-ui": None,
    }
    assert csvc.catalog.tag_feed("markets").title == "Money"
    assert client.get("/feeds/custom/markets.json").headers["ETag"] != etag
    assert client.get("/feeds/custom/east-asia.json").status_code == 404


def test_invalid_file_never_half_applies(capp: Flask, csvc: Service, config_dir: Path) -> None:
    before = csvc.catalog.tag_feeds()
    write(config_dir, BAD)
    with pytest.raises(ConfigInvalid):
        csvc.setup.apply_config()
    assert csvc.catalog.tag_feeds() == before
    result = capp.test_cli_runner().invoke(args=["feeds", "config", "apply"])
    assert result.exit_code == 1
    assert "nothing was applied" in result.stderr and result.stdout == ""
    as_json = capp.test_cli_runner().invoke(args=["feeds", "config", "apply", "--json"])
    assert as_json.exit_code == 1 and as_json.stderr == ""
    failure = json.loads(as_json.stdout)
    assert failure["kind"] == "config"
    assert any("tag_feeds.toml:10" in p for p in failure["problems"])
    assert csvc.catalog.tag_feeds() == before


def test_clash_with_a_ui_feed_rolls_everything_back(
    capp: Flask, csvc: Service, config_dir: Path
) -> None:
    client = capp.test_client()
    ui_made = {"slug": "from-ui", "title": "From the UI", "any_of": ["Film"]}
    client.post("/api/v1/tag-feeds", json=ui_made, headers=admin(csvc))
    before = csvc.catalog.tag_feeds()
    write(
        config_dir,
        GOOD.replace("Markets", "Money")
        + '\n[[tag_feed]]\nslug = "from-ui"\ntitle = "Mine now"\nany_of = ["x"]\n',
    )
    with pytest.raises(ConfigInvalid) as caught:
        csvc.setup.apply_config()
    (problem,) = caught.value.problems
    assert (problem.line, problem.field) == (13, "slug")
    assert "admin UI or API" in problem.message
    assert csvc.catalog.tag_feeds() == before  # "Money" was not applied either


def test_start_up_with_a_bad_file_keeps_the_last_good_config(
    database_url: str,
    clock: FakeClock,
    config_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    first = make_app(database_url, clock, config_dir=str(config_dir))
    good = first.extensions["feeds"].catalog.tag_feeds()
    first.extensions["feeds"].ctx.store.dispose()

    write(config_dir, BAD)
    with caplog.at_level(logging.ERROR):
        second = make_app(database_url, clock, config_dir=str(config_dir))
    svc: Service = second.extensions["feeds"]
    assert "keeping the last good configuration" in caplog.text
    assert "limit" in caplog.text
    assert svc.catalog.tag_feeds() == good
    client: FlaskClient = second.test_client()
    health = client.get("/healthz")
    # The last good configuration serves on: reported, no 503, and the public body
    # names no file; the problems are the admin's (and the log's).
    assert health.status_code == 200
    assert health.get_json()["checks"]["config"] == "invalid"
    assert "limit" not in health.get_data(as_text=True)
    assert any(":10: limit:" in c.detail for c in svc.health.check().warnings)
    assert client.get("/feeds/custom/markets.json").status_code == 200

    write(config_dir, GOOD)  # fixed on disk: /healthz notices without a restart
    assert client.get("/healthz").get_json()["checks"]["config"] == "ok"
    svc.ctx.store.dispose()


def test_healthz_reports_config_ok(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json()["checks"]["config"] == "ok"


SOURCES = """\
[[source]]
name = "Wire"
url = "https://wire.example.com/rss"
section = "world"
"""


def test_sources_file_is_checked_and_applied_with_the_rest(csvc: Service, config_dir: Path) -> None:
    (config_dir / "sources.toml").write_text(SOURCES.replace("world", "nowhere"), "utf-8")
    write(config_dir, GOOD.replace("Markets", "Money"))
    problems = csvc.setup.check_config().problems
    assert [(Path(p.file).name, p.line, p.field) for p in problems] == [
        ("sources.toml", 4, "section")
    ]
    with pytest.raises(ConfigInvalid):
        csvc.setup.apply_config()
    assert csvc.catalog.tag_feed("markets").title == "Markets"  # nothing half-applied

    (config_dir / "sources.toml").write_text(SOURCES, "utf-8")
    report = csvc.setup.apply_config()
    assert report.sources.created == ("Wire",)
    assert csvc.catalog.tag_feed("markets").title == "Money"
