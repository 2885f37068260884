"""`feeds sources ...` and `feeds scheduler --once`, with and without --json."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from flask.testing import FlaskCliRunner
from pytest_httpserver import HTTPServer

from tests.ingest_helpers import (
    Entry,
    ingest_app_fixture,  # noqa: F401 (the `app` fixture)
    rss,
    svc,
)

FEED = rss([Entry("c-1", "Cable car reopens", categories=("Alps",))])


def run(runner: FlaskCliRunner, *args: str, code: int = 0) -> Any:
    result = runner.invoke(args=["feeds", "sources", *args])
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if "--json" in args and code == 0 else result


def added(runner: FlaskCliRunner, url: str) -> dict[str, Any]:
    return run(  # type: ignore[no-any-return]
        runner, "add", "--url", url, "--name", "Alpine Wire", "--section", "world",
        "--hashtag", "Wire", "--map", "Alps=Mountains", "--interval", "5", "--json",
    )  # fmt: skip


def test_add_list_show_refresh_with_json(runner: FlaskCliRunner, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data(FEED, headers={"ETag": '"1"'})
    source = added(runner, httpserver.url_for("/feed"))
    assert source["categories"] == {"Alps": "Mountains"} and source["interval_minutes"] == 5
    assert source["state"]["next_check_at"] is None and source["managed_by"] is None
    listed = run(runner, "list", "--json")
    assert [s["id"] for s in listed] == [source["id"]]
    refreshed = run(runner, "refresh", str(source["id"]), "--json")
    outcome = refreshed["outcome"]
    assert (outcome["status"], outcome["http_status"], outcome["new"], outcome["error"]) == (
        "fetched", 200, 1, None,
    )  # fmt: skip
    assert outcome["next_check_at"] == refreshed["source"]["state"]["next_check_at"]
    assert refreshed["next_check_in_seconds"] == 5 * 60  # the interval, on the test's clock
    shown = run(runner, "show", str(source["id"]), "--json")
    assert shown["state"]["etag"] == '"1"' and shown["state"]["items_new"] == 1
    text = run(runner, "show", str(source["id"])).output
    assert "Alpine Wire" in text and "1 new" in text


def test_refresh_reports_a_failure_and_exits_1(
    runner: FlaskCliRunner, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/feed").respond_with_data("nope", status=404)
    source = added(runner, httpserver.url_for("/feed"))
    result = runner.invoke(args=["feeds", "sources", "refresh", str(source["id"]), "--json"])
    assert result.exit_code == 1
    outcome = json.loads(result.stdout)["outcome"]
    assert outcome["status"] == "failed" and "404" in outcome["error"]
    assert "error: " in run(runner, "refresh", str(source["id"]), code=1).output


def test_enable_disable_remove(runner: FlaskCliRunner, httpserver: HTTPServer) -> None:
    source_id = str(added(runner, httpserver.url_for("/feed"))["id"])
    assert run(runner, "disable", source_id, "--json")["enabled"] is False
    assert run(runner, "enable", source_id, "--json")["enabled"] is True
    assert run(runner, "remove", source_id, "--yes", "--json") == {
        "id": int(source_id), "removed": True, "articles_removed": 0,
    }  # fmt: skip
    failed = runner.invoke(args=["feeds", "sources", "show", source_id, "--json"])
    assert failed.exit_code == 1 and "no source" in json.loads(failed.stdout)["error"]


def test_cli_changes_are_audited(
    app: Flask, runner: FlaskCliRunner, httpserver: HTTPServer
) -> None:
    source_id = str(added(runner, httpserver.url_for("/feed"))["id"])
    run(runner, "disable", source_id, "--json")
    run(runner, "remove", source_id, "--yes", "--json")
    entries = svc(app).audit.entries(target_kind="source")
    assert [e.action for e in reversed(entries)][-3:] == ["create", "disable", "delete"]
    assert all(e.actor.startswith("cli") and e.target_id == source_id for e in entries)
    assert entries[1].before["enabled"] is True and entries[1].after["enabled"] is False


def test_remove_asks_first_and_counts_the_articles(
    app: Flask, runner: FlaskCliRunner, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/feed").respond_with_data(FEED)
    source_id = str(added(runner, httpserver.url_for("/feed"))["id"])
    run(runner, "refresh", source_id, "--json")
    declined = runner.invoke(args=["feeds", "sources", "remove", source_id], input="n\n")
    assert declined.exit_code == 1
    assert f"Remove source {source_id} (Alpine Wire) and the 1 articles" in declined.output
    assert svc(app).articles.count() == 1
    unasked = runner.invoke(args=["feeds", "sources", "remove", source_id, "--json"])
    assert unasked.exit_code == 2 and "--yes" in json.loads(unasked.stdout)["error"]
    assert svc(app).articles.count() == 1

    accepted = runner.invoke(args=["feeds", "sources", "remove", source_id], input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert accepted.stdout.splitlines()[-1] == f"removed source {source_id} and 1 articles"
    assert svc(app).articles.count() == 0


def test_invalid_input_names_the_field(runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=["feeds", "sources", "add", "--url", "ftp://x/feed", "--name", "X",
              "--section", "nowhere", "--json"]
    )  # fmt: skip
    assert result.exit_code == 1
    fields = json.loads(result.stdout)["fields"]
    assert "url" in fields
    file_source = runner.invoke(
        args=["feeds", "sources", "add", "--url", "file:demo/wire.xml", "--name", "X",
              "--section", "world", "--json"]
    )  # fmt: skip
    assert "sources.toml" in json.loads(file_source.stdout)["fields"]["url"]


def test_scheduler_once_ingests_due_sources(runner: FlaskCliRunner, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data(FEED)
    added(runner, httpserver.url_for("/feed"))
    result = runner.invoke(args=["feeds", "scheduler", "--once"])
    assert result.exit_code == 0, result.output
    assert "ingested 1 sources" in result.output


def test_show_gives_the_push_state_a_hub_link_starts(
    runner: FlaskCliRunner, httpserver: HTTPServer
) -> None:
    hub = httpserver.url_for("/hub")
    link = f'<{hub}>; rel="hub", <{httpserver.url_for("/feed")}>; rel="self"'
    httpserver.expect_request("/feed").respond_with_data(FEED, headers={"Link": link})
    source = added(runner, httpserver.url_for("/feed"))
    assert run(runner, "show", str(source["id"]), "--json")["push"] == {"state": "none"}
    run(runner, "refresh", str(source["id"]), "--json")
    push = run(runner, "show", str(source["id"]), "--json")["push"]
    assert (push["state"], push["hub"]) == ("discovered", hub)
    assert push["topic"] == httpserver.url_for("/feed")
    text = runner.invoke(args=["feeds", "sources", "show", str(source["id"])]).output
    assert f"push:         discovered via {hub}" in text
