"""`feeds render KIND/NAME`: the feed's bytes offline, identical to what the server sends."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner


def run(runner: FlaskCliRunner, *args: str) -> Result:
    return runner.invoke(args=["feeds", *args])


def test_render_writes_what_the_server_serves(demo_app: Flask, demo_client: FlaskClient) -> None:
    runner = demo_app.test_cli_runner()
    cases = {
        ("all", "rss", None): "/feeds/all.rss",
        ("sections/world", "atom", None): "/feeds/sections/world.atom",
        ("tags/#Japan", "json", "2"): "/feeds/tags/japan.json?limit=2",
        ("custom/east-asia", "rss", "3"): "/feeds/custom/east-asia.rss?limit=3",
        ("trending", "json", None): "/feeds/trending.json",
    }
    for (feed, fmt, limit), path in cases.items():
        args = [feed, "--format", fmt] + (["--limit", limit] if limit else [])
        result = run(runner, "render", *args)
        assert result.exit_code == 0, result.output
        served = demo_client.get(path, headers={"Accept": "application/xml"})
        assert served.status_code == 200, path
        assert result.stdout_bytes == served.data, path


def test_render_to_a_file_and_as_json(
    demo_app: Flask, demo_client: FlaskClient, tmp_path: Path
) -> None:
    runner = demo_app.test_cli_runner()
    target = tmp_path / "all.atom"
    result = run(runner, "render", "all", "--format", "atom", "-o", str(target), "--json")
    assert result.exit_code == 0, result.output
    facts = json.loads(result.stdout)
    served = demo_client.get("/feeds/all.atom", headers={"Accept": "application/atom+xml"})
    assert target.read_bytes() == served.data
    assert (facts["bytes"], facts["etag"]) == (len(served.data), served.headers["ETag"])
    shown = json.loads(run(runner, "render", "all", "--format", "json", "--json").stdout)
    assert json.loads(shown["body"])["version"].startswith("https://jsonfeed.org/")


def test_render_names_what_is_wrong(demo_app: Flask) -> None:
    runner = demo_app.test_cli_runner()
    bad_kind = run(runner, "render", "weather/seoul", "--json")
    assert bad_kind.exit_code == 2
    assert json.loads(bad_kind.stdout)["kind"] == "usage"
    assert "unknown feed kind 'weather'" in json.loads(bad_kind.stdout)["error"]
    missing = run(runner, "render", "tags/NoSuchTagAnywhere", "--json")
    assert missing.exit_code == 1
    assert json.loads(missing.stdout)["kind"] == "not_found"
    assert run(runner, "render", "sections", "--json").exit_code == 2
    assert run(runner, "render", "all", "--limit", "100000", "--json").exit_code == 2
