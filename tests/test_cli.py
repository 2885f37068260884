"""`feeds` commands: tokens, import, init; each checked through the store or the API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from feeds.cli import feeds_cli
from feeds.service import Service
from tests.conftest import FakeClock, article_payload

API = "/api/v1/articles"


def run(runner: FlaskCliRunner, *args: str) -> Result:
    return runner.invoke(args=["feeds", *args])


def ok_json(result: Result) -> Any:
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


def error_json(result: Result) -> dict[str, Any]:
    """A --json failure: one object on stdout, nothing on stderr, exit 1."""
    assert result.exit_code == 1, result.output
    assert result.stderr == ""
    body: dict[str, Any] = json.loads(result.stdout)
    return body


def write_ndjson(path: Path, records: list[Any]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def record(n: int, **changes: Any) -> dict[str, Any]:
    own = {
        "title": f"Story number {n}",
        "slug": f"story-{n}",
        "url": f"https://news.example.com/stories/{n}",
    }
    return article_payload(**(own | changes))


def imported(created: int = 0, updated: int = 0, unchanged: int = 0) -> dict[str, Any]:
    return {
        "imported": created + updated + unchanged,
        "created": created,
        "updated": updated,
        "unchanged": unchanged,
        "dry_run": False,
    }


# --- tokens -----------------------------------------------------------------------------


def test_tokens_create_json_gives_a_working_token(
    runner: FlaskCliRunner, client: FlaskClient, service: Service
) -> None:
    data = ok_json(run(runner, "tokens", "create", "desk", "--json"))
    assert data["name"] == "desk"
    assert data["scopes"] == ["articles:write", "admin"]
    assert data["token"].startswith("feeds_")
    headers = {"Authorization": f"Bearer {data['token']}"}
    response = client.post(API, json=article_payload(), headers=headers)
    assert response.status_code == 201
    assert service.articles.count() == 1


def test_tokens_create_text_prints_only_the_token(
    runner: FlaskCliRunner, client: FlaskClient
) -> None:
    result = run(runner, "tokens", "create", "plain")
    assert result.exit_code == 0
    token = result.stdout.strip()
    assert token.startswith("feeds_") and "\n" not in token
    assert client.get(API, headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_tokens_create_with_a_scope(
    runner: FlaskCliRunner, client: FlaskClient, service: Service
) -> None:
    data = ok_json(run(runner, "tokens", "create", "ops", "--scope", "admin", "--json"))
    assert data["scopes"] == ["admin"]
    headers = {"Authorization": f"Bearer {data['token']}"}
    assert client.post(API, json=article_payload(), headers=headers).status_code == 403
    assert service.articles.count() == 0


def test_tokens_create_refuses_a_duplicate_or_bad_name(
    runner: FlaskCliRunner, service: Service
) -> None:
    ok_json(run(runner, "tokens", "create", "desk", "--json"))
    duplicate = error_json(run(runner, "tokens", "create", "desk", "--json"))
    assert "desk" in duplicate["error"]
    bad = error_json(run(runner, "tokens", "create", "no spaces", "--json"))
    assert "name" in bad["fields"]
    text = run(runner, "tokens", "create", "desk")
    assert text.exit_code == 1
    assert "exists" in text.stderr
    assert [t.name for t in service.tokens.list()] == ["desk"]


def test_tokens_list_shows_state_but_never_values(
    runner: FlaskCliRunner, client: FlaskClient, clock: FakeClock
) -> None:
    assert ok_json(run(runner, "tokens", "list", "--json")) == []
    assert run(runner, "tokens", "list").stdout.strip() == "no tokens"
    raw = ok_json(run(runner, "tokens", "create", "desk", "--json"))["token"]
    ok_json(run(runner, "tokens", "create", "bot", "--scope", "articles:write", "--json"))
    client.get(API, headers={"Authorization": f"Bearer {raw}"})

    result = run(runner, "tokens", "list", "--json")
    assert raw not in result.stdout
    listed = {entry["name"]: entry for entry in ok_json(result)}
    assert listed == {
        "bot": {
            "name": "bot",
            "scopes": ["articles:write"],
            "created_at": clock.now.isoformat(),
            "revoked_at": None,
            "last_used_at": None,
        },
        "desk": {
            "name": "desk",
            "scopes": ["articles:write", "admin"],
            "created_at": clock.now.isoformat(),
            "revoked_at": None,
            "last_used_at": clock.now.isoformat(),
        },
    }
    text = run(runner, "tokens", "list").stdout.splitlines()
    assert text == ["bot\tarticles:write\tactive", "desk\tarticles:write,admin\tactive"]


def test_tokens_revoke(runner: FlaskCliRunner, client: FlaskClient, clock: FakeClock) -> None:
    raw = ok_json(run(runner, "tokens", "create", "desk", "--json"))["token"]
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get(API, headers=headers).status_code == 200
    clock.advance(minutes=1)

    assert ok_json(run(runner, "tokens", "revoke", "desk", "--json")) == {"revoked": "desk"}
    assert client.get(API, headers=headers).status_code == 401
    (entry,) = ok_json(run(runner, "tokens", "list", "--json"))
    assert entry["revoked_at"] == clock.now.isoformat()
    assert run(runner, "tokens", "list").stdout.strip() == "desk\tarticles:write,admin\trevoked"

    again = error_json(run(runner, "tokens", "revoke", "desk", "--json"))
    assert "no active token" in again["error"]
    text = run(runner, "tokens", "revoke", "ghost")
    assert text.exit_code == 1 and "ghost" in text.stderr


def test_a_revoked_name_can_not_be_reused_while_listed(runner: FlaskCliRunner) -> None:
    ok_json(run(runner, "tokens", "create", "desk", "--json"))
    run(runner, "tokens", "revoke", "desk")
    assert "desk" in error_json(run(runner, "tokens", "create", "desk", "--json"))["error"]


# --- import -----------------------------------------------------------------------------


def test_import_a_good_file(
    runner: FlaskCliRunner, client: FlaskClient, service: Service, tmp_path: Path
) -> None:
    path = write_ndjson(
        tmp_path / "good.ndjson",
        [
            record(1, hashtags="#latest#SouthKorea #서울"),
            "",  # blank lines are allowed
            record(2, section="business", published_at="2026-01-12T09:00:00-05:00"),
            record(3, status="draft"),
        ],
    )
    assert ok_json(run(runner, "import", str(path), "--json")) == imported(created=3)
    assert service.articles.count() == 3
    first = service.articles.get_by_slug("story-1")
    assert [t.display for t in first.hashtags] == ["latest", "SouthKorea", "서울"]
    second = service.articles.get_by_slug("story-2")
    assert second.section == "business"
    assert second.published_at.isoformat() == "2026-01-12T14:00:00+00:00"
    assert service.articles.get_by_slug("story-3").status.value == "draft"
    guids = {a.guid for a in (first, second)}
    assert all(g.startswith("tag:feeds.example.org,2026:article:") for g in guids)

    items = client.get("/feeds/all.json").get_json()["items"]
    assert {item["id"] for item in items} == guids


def test_import_text_output(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = write_ndjson(tmp_path / "one.ndjson", [record(1)])
    result = run(runner, "import", str(path))
    assert result.exit_code == 0
    assert result.stdout.strip() == "imported 1 articles (1 created, 0 updated, 0 unchanged)"


def test_a_bad_record_on_line_3_imports_nothing(
    runner: FlaskCliRunner, service: Service, tmp_path: Path
) -> None:
    path = write_ndjson(
        tmp_path / "bad.ndjson", [record(1), record(2), record(3, section="nowhere"), record(4)]
    )
    result = run(runner, "import", str(path))
    assert result.exit_code == 1
    assert "line 3" in result.stderr and "section" in result.stderr
    assert service.articles.count() == 0

    failure = error_json(run(runner, "import", str(path), "--json"))
    assert failure["line"] == 3
    assert list(failure["fields"]) == ["section"]
    assert service.articles.count() == 0


def test_a_naive_date_names_its_line_and_field(
    runner: FlaskCliRunner, service: Service, tmp_path: Path
) -> None:
    path = write_ndjson(
        tmp_path / "naive.ndjson", [record(1), record(2, published_at="2026-01-12T17:23:00")]
    )
    failure = error_json(run(runner, "import", str(path), "--json"))
    assert failure["line"] == 2
    assert list(failure["fields"]) == ["published_at"]
    assert service.articles.count() == 0


def test_line_numbers_count_blank_lines(
    runner: FlaskCliRunner, service: Service, tmp_path: Path
) -> None:
    path = write_ndjson(tmp_path / "gaps.ndjson", [record(1), "", "   ", record(2, views=-1)])
    failure = error_json(run(runner, "import", str(path), "--json"))
    assert (failure["line"], list(failure["fields"])) == (4, ["views"])
    assert service.articles.count() == 0


def test_a_malformed_json_line_imports_nothing(
    runner: FlaskCliRunner, service: Service, tmp_path: Path
) -> None:
    path = write_ndjson(tmp_path / "broken.ndjson", [record(1), '{"title": "cut off', record(3)])
    failure = error_json(run(runner, "import", str(path), "--json"))
    assert failure["line"] == 2
    assert list(failure["fields"]) == ["json"]
    assert service.articles.count() == 0


def test_a_line_that_is_not_an_object_imports_nothing(
    runner: FlaskCliRunner, service: Service, tmp_path: Path
) -> None:
    path = write_ndjson(tmp_path / "list.ndjson", [record(1), "[1, 2]"])
    failure = error_json(run(runner, "import", str(path), "--json"))
    assert (failure["line"], list(failure["fields"])) == (2, ["body"])
    assert service.articles.count() == 0


def test_a_duplicate_slug_inside_the_file_imports_nothing(
    runner: FlaskCliRunner, service: Service, tmp_path: Path
) -> None:
    path = write_ndjson(tmp_path / "dupe.ndjson", [record(1), record(2), record(3, slug="story-1")])
    failure = error_json(run(runner, "import", str(path), "--json"))
    assert failure["line"] == 3
    assert list(failure["fields"]) == ["slug"]
    assert "story-1" in failure["fields"]["slug"]
    assert service.articles.count() == 0


def test_a_slug_taken_in_the_store_leaves_the_store_as_it_was(
    runner: FlaskCliRunner, service: Service, tmp_path: Path
) -> None:
    existing = service.articles.create(
        record(9, slug="story-1", title="Already here", url="https://elsewhere.example/9")
    )
    path = write_ndjson(tmp_path / "clash.ndjson", [record(1)])
    failure = error_json(run(runner, "import", str(path), "--json"))
    assert (failure["line"], list(failure["fields"])) == (1, ["slug"])
    assert service.articles.count() == 1
    assert service.articles.get_by_slug("story-1") == existing


def test_same_titles_without_slugs_get_distinct_slugs(
    runner: FlaskCliRunner, service: Service, tmp_path: Path
) -> None:
    same = article_payload(title="Same Headline", url=None)
    path = write_ndjson(tmp_path / "same.ndjson", [same, same])
    assert ok_json(run(runner, "import", str(path), "--json")) == imported(created=2)
    slugs = {service.articles.get_by_slug(s).slug for s in ("same-headline", "same-headline-2")}
    assert slugs == {"same-headline", "same-headline-2"}


def test_bytes_that_are_not_utf8_name_their_line(
    runner: FlaskCliRunner, service: Service, tmp_path: Path
) -> None:
    path = tmp_path / "latin1.ndjson"
    good = json.dumps(record(1)).encode()
    bad = json.dumps(record(2, title="Caf\u00e9")).encode().replace(b"\\u00e9", b"\xe9")
    path.write_bytes(good + b"\n" + bad + b"\n")
    failure = error_json(run(runner, "import", str(path), "--json"))
    assert (failure["line"], list(failure["fields"])) == (2, ["encoding"])
    assert service.articles.count() == 0


def test_a_byte_order_mark_is_accepted(
    runner: FlaskCliRunner, service: Service, tmp_path: Path
) -> None:
    path = tmp_path / "bom.ndjson"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(record(1)).encode() + b"\n")
    assert ok_json(run(runner, "import", str(path), "--json")) == imported(created=1)
    assert service.articles.get_by_slug("story-1").title == "Story number 1"


def test_an_empty_file_imports_nothing(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "empty.ndjson"
    path.write_bytes(b"")
    assert ok_json(run(runner, "import", str(path), "--json")) == imported()


def test_a_missing_file_is_a_usage_error(runner: FlaskCliRunner, tmp_path: Path) -> None:
    result = run(runner, "import", str(tmp_path / "absent.ndjson"))
    assert result.exit_code == 2
    assert "absent.ndjson" in result.stderr


# --- init -------------------------------------------------------------------------------


def test_init_reports_and_is_idempotent(
    runner: FlaskCliRunner, client: FlaskClient, service: Service
) -> None:
    assert ok_json(run(runner, "init", "--json")) == {"articles": 0}
    result = run(runner, "init")
    assert result.exit_code == 0
    assert result.stdout.strip() == "store ready: 0 articles"
    assert client.get("/feeds/sections/world.json").status_code == 200
    assert service.articles.count() == 0


def test_init_loads_the_demo_once(demo_app: Flask) -> None:
    runner = demo_app.test_cli_runner()
    service: Service = demo_app.extensions["feeds"]
    count = service.articles.count()
    assert count >= 10  # the demo set, loaded when the app was built
    assert ok_json(run(runner, "init", "--json")) == {"articles": count}
    assert service.articles.count() == count


# --- --json everywhere ------------------------------------------------------------------


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    out: list[tuple[str, click.Command]] = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            out += _commands(command, f"{prefix}{name} ")
        else:
            out.append((prefix + name, command))
    return out


def test_every_command_takes_json() -> None:
    # `serve` runs a server and reports nothing but its address.
    missing = [
        name
        for name, command in _commands(feeds_cli)
        if name != "serve" and not any("--json" in getattr(p, "opts", []) for p in command.params)
    ]
    assert missing == []
    assert len(_commands(feeds_cli)) > 15


def test_json_errors_are_one_object_on_stdout(runner: FlaskCliRunner, service: Service) -> None:
    missing = error_json(run(runner, "users", "enable", "nobody", "--json"))
    assert missing["kind"] == "not_found" and "nobody" in missing["error"]
    weak = runner.invoke(
        args=["feeds", "users", "create", "alice", "--password-stdin", "--json"], input="short\n"
    )
    invalid = error_json(weak)
    assert invalid["kind"] == "invalid" and list(invalid["fields"]) == ["password"]
    assert service.users.list() == []


def test_usage_errors_with_json_are_json_too(runner: FlaskCliRunner) -> None:
    result = run(runner, "sources", "show", "not-a-number", "--json")
    assert result.exit_code == 2 and result.stderr == ""
    body = json.loads(result.stdout)
    assert body["kind"] == "usage" and "not-a-number" in body["error"]
    unknown = run(runner, "tokens", "list", "--colour", "--json")
    assert unknown.exit_code == 2 and "--colour" in json.loads(unknown.stdout)["error"]


def test_text_errors_go_to_stderr(runner: FlaskCliRunner) -> None:
    result = run(runner, "users", "enable", "nobody")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("Error: ") and "nobody" in result.stderr
    usage = run(runner, "sources", "show", "x")
    assert usage.exit_code == 2 and usage.stdout == "" and "Usage: " in usage.stderr


def test_version(runner: FlaskCliRunner) -> None:
    from importlib.metadata import version

    result = run(runner, "--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"feeds, version {version('feeds')}"


def test_console_script_is_the_feeds_group(database_url: str, clock: Any) -> None:
    import json as json_module
    import os
    import subprocess
    import sys
    from pathlib import Path

    from tests.conftest import CONFIG, make_app

    app = make_app(database_url, clock)
    app.extensions["feeds"].tokens.create("desk", ("articles:write",))
    script = Path(sys.executable).parent / "feeds"
    env = {**os.environ, "FEEDS_DATABASE_URL": database_url, "FEEDS_CONFIG_DIR": str(CONFIG)}
    listed = subprocess.run(
        [str(script), "tokens", "list", "--json"], env=env, capture_output=True, text=True
    )
    assert listed.returncode == 0, listed.stderr
    assert [t["name"] for t in json_module.loads(listed.stdout)] == ["desk"]
    usage = subprocess.run([str(script), "sources", "--help"], capture_output=True, text=True)
    assert usage.stdout.startswith("Usage: feeds sources ")
    as_module = subprocess.run(
        [sys.executable, "-m", "feeds", "tokens", "list", "--json"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert as_module.returncode == 0, as_module.stderr
    assert [t["name"] for t in json_module.loads(as_module.stdout)] == ["desk"]


def test_shell_completion_as_documented() -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = Path(sys.executable).parent / "feeds"
    env = {**os.environ, "_FEEDS_COMPLETE": "bash_complete", "COMP_CWORD": "2"}
    words = {"COMP_WORDS": "feeds articles li"}
    done = subprocess.run(
        [str(script)], env=env | words, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["plain,list"]
    source = subprocess.run(
        [str(script)], env={**os.environ, "_FEEDS_COMPLETE": "bash_source"},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert "complete -o nosort -F _feeds_completion feeds" in source.stdout
