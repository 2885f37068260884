"""`feeds import` again and again: records matched by URL update, dry runs write nothing,
progress on stderr, and the URL lookup walks an index on both databases."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import event, text

from feeds.models import Status
from feeds.service import Service
from feeds.store import articles as article_store
from tests.conftest import CONFIG, FakeClock, article_payload


def record(n: int, **changes: Any) -> dict[str, Any]:
    own = {"title": f"Story {n}", "url": f"https://news.example.com/stories/{n}"}
    return article_payload(**(own | changes))


def write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def run(runner: FlaskCliRunner, *args: str) -> Any:
    result = runner.invoke(args=["feeds", "import", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if "--json" in args else result


def titles(client: FlaskClient) -> list[str]:
    return [item["title"] for item in client.get("/feeds/all.json").get_json()["items"]]


def test_running_a_file_twice_updates_instead_of_duplicating(
    runner: FlaskCliRunner, service: Service, client: FlaskClient, tmp_path: Path
) -> None:
    path = write(tmp_path / "a.ndjson", [record(1), record(2), record(3)])
    first = run(runner, str(path), "--json")
    assert (first["created"], first["updated"], first["unchanged"]) == (3, 0, 0)
    guids = {a.url: a.guid for a in service.articles.list(service_filter())}

    again = run(runner, str(path), "--json")
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)
    assert service.articles.count() == 3

    write(path, [record(1), record(2, title="Story 2, corrected"), record(3), record(4)])
    changed = run(runner, str(path), "--json")
    assert (changed["created"], changed["updated"], changed["unchanged"]) == (1, 1, 2)
    assert service.articles.count() == 4
    assert "Story 2, corrected" in titles(client) and "Story 2" not in titles(client)
    # The same articles: their GUIDs, which readers key on, never change.
    after = {a.url: a.guid for a in service.articles.list(service_filter())}
    assert all(after[url] == guid for url, guid in guids.items())


def service_filter() -> Any:
    from feeds.models import ArticleFilter

    return ArticleFilter(limit=100)


def test_a_reimport_keeps_a_withdrawal_unless_the_record_says_otherwise(
    runner: FlaskCliRunner, service: Service, client: FlaskClient, tmp_path: Path
) -> None:
    path = write(tmp_path / "a.ndjson", [record(1, title="Pulled Story")])
    run(runner, str(path))
    (article,) = service.articles.list(service_filter())
    assert article.id is not None
    service.articles.withdraw(article.id)
    write(path, [record(1, title="Pulled Story, edited")])
    assert run(runner, str(path), "--json")["updated"] == 1
    assert service.articles.get(article.id).status is Status.WITHDRAWN
    assert "Pulled Story, edited" not in titles(client)
    write(path, [record(1, title="Pulled Story, edited", status="published")])
    run(runner, str(path))
    assert "Pulled Story, edited" in titles(client)


def test_a_dry_run_checks_everything_and_writes_nothing(
    runner: FlaskCliRunner, service: Service, client: FlaskClient, tmp_path: Path
) -> None:
    run(runner, str(write(tmp_path / "a.ndjson", [record(1)])))
    etag = client.get("/feeds/all.json").headers["ETag"]
    path = write(tmp_path / "b.ndjson", [record(1, title="Changed"), record(2)])
    report = run(runner, str(path), "--dry-run", "--json")
    assert report == {
        "imported": 2, "created": 1, "updated": 1, "unchanged": 0, "dry_run": True,
    }  # fmt: skip
    text_report = run(runner, str(path), "--dry-run").stdout
    assert text_report.startswith("dry run, nothing written: would import 2 articles")
    assert service.articles.count() == 1
    assert titles(client) == ["Story 1"]
    assert client.get("/feeds/all.json").headers["ETag"] == etag

    bad = write(tmp_path / "c.ndjson", [record(5), record(6, section="nowhere")])
    failed = runner.invoke(args=["feeds", "import", str(bad), "--dry-run", "--json"])
    assert failed.exit_code == 1
    assert json.loads(failed.stdout)["line"] == 2


def test_ingested_articles_are_never_matched(
    runner: FlaskCliRunner, service: Service, tmp_path: Path
) -> None:
    # The demo wire from config/sources.toml stands for any outside source.
    source_id = service.sources.list()[0].id
    wire = service.articles.create(record(1, title="From the wire"))
    assert wire.id is not None
    with service.ctx.store.begin() as conn:
        conn.execute(
            text("UPDATE articles SET source_id = :s, origin_id = 'x' WHERE id = :i"),
            {"s": source_id, "i": wire.id},
        )
    report = run(runner, str(write(tmp_path / "a.ndjson", [record(1)])), "--json")
    assert report["created"] == 1
    assert service.articles.get(wire.id).title == "From the wire"


def test_a_url_held_by_two_articles_is_refused_naming_the_line(
    runner: FlaskCliRunner, service: Service, tmp_path: Path
) -> None:
    service.articles.create(record(1, slug="one"))
    service.articles.create(record(1, slug="other"))
    path = write(tmp_path / "a.ndjson", [record(2), record(1)])
    result = runner.invoke(args=["feeds", "import", str(path), "--json"])
    assert result.exit_code == 1
    failure = json.loads(result.stdout)
    assert (failure["line"], list(failure["fields"])) == (2, ["url"])
    assert service.articles.count() == 2


def test_progress_goes_to_stderr(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = write(tmp_path / "a.ndjson", [record(n) for n in range(1, 5)])
    result = runner.invoke(args=["feeds", "import", str(path), "--progress", "--json"])
    assert result.exit_code == 0, result.output
    steps = result.stderr.splitlines()
    assert steps[-1] == "read 100%, 4 lines"
    assert [s.split(",")[0] for s in steps] == ["read 25%", "read 50%", "read 75%", "read 100%"]
    assert json.loads(result.stdout)["created"] == 4
    quiet = runner.invoke(args=["feeds", "import", str(path), "--json"])
    assert quiet.stderr == ""


def test_standard_input_and_the_same_configuration_as_the_server(
    database_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    from tests.conftest import make_app

    make_app(database_url, clock).extensions["feeds"].ctx.store.dispose()
    settings = tmp_path / "feeds.toml"
    settings.write_text('site_title = "Harbour Times"\nlanguage = "ko"\n', encoding="utf-8")
    env = {
        "PATH": "/usr/bin:/bin",
        "FEEDS_CONFIG": str(settings),
        "FEEDS_DATABASE_URL": database_url,
        "FEEDS_CONFIG_DIR": str(CONFIG),
        "FEEDS_LOAD_DEMO": "false",
    }
    record_without_language = {k: v for k, v in record(7).items() if k != "language"}
    done = subprocess.run(
        [sys.executable, "-m", "feeds", "import", "-", "--json"],
        input=json.dumps(record_without_language) + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["created"] == 1
    shown = subprocess.run(
        [sys.executable, "-m", "feeds", "articles", "list", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # The language came from feeds.toml, read by the CLI as by the server.
    assert [a["language"] for a in json.loads(shown.stdout)] == ["ko"]


def test_the_url_lookup_walks_the_index(service: Service) -> None:
    """Matching a record costs an index probe, however many articles the store holds."""
    engine = service.ctx.store.engine
    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        seen.append((statement, params))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with service.ctx.store.read() as conn:
            article_store.newsroom_ids_with_url(conn, "https://news.example.com/x")
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    ((statement, params),) = seen
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            # On a near-empty table a scan is cheaper; forbid it to see the index is usable.
            conn.exec_driver_sql("SET enable_seqscan = off")
            plan = json.dumps(
                conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, params).scalar_one()
            )
            assert "ix_articles_newsroom_url" in plan and '"Seq Scan"' not in plan
        else:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
            details = " ".join(str(row[-1]) for row in rows)
            assert "USING INDEX ix_articles_newsroom_url" in details, details
            assert "SCAN articles" not in details
