"""`feeds articles ...` and `feeds tag-feeds ...`: listings, counts, changes, errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import Result
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select, update

from feeds.absolutize import absolutize_html
from feeds.service import Service
from feeds.service.articles import CopyReport
from feeds.store import articles as article_store
from feeds.store.schema import articles
from tests.conftest import FakeClock, article_payload


def run(runner: FlaskCliRunner, *args: str) -> Result:
    return runner.invoke(args=["feeds", *args])


def ok_json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def failed_json(result: Result, code: int = 1) -> dict[str, Any]:
    assert result.exit_code == code, result.output
    assert result.stderr == ""
    body: dict[str, Any] = json.loads(result.stdout)
    return body


def seed(service: Service) -> dict[str, int]:
    made = {
        "cranes": article_payload(title="Harbour Cranes Return", url=None),
        "budget": article_payload(
            title="City Budget Passes", section="business", hashtags=["Budget"], url=None
        ),
        "draft": article_payload(title="Embargoed Cranes Plan", status="draft", url=None),
    }
    return {name: service.articles.create(p).id or 0 for name, p in made.items()}


def test_list_filters_and_count_agree(runner: FlaskCliRunner, service: Service) -> None:
    ids = seed(service)
    everything = ok_json(run(runner, "articles", "list", "--json"))
    assert {a["id"] for a in everything} == set(ids.values())
    assert ok_json(run(runner, "articles", "count", "--json")) == {"count": 3}

    cranes = ok_json(run(runner, "articles", "list", "-q", "cranes", "--json"))
    # Matches anywhere in the title, case-insensitively.
    assert {a["id"] for a in cranes} == {ids["cranes"], ids["draft"]}
    assert ok_json(run(runner, "articles", "count", "-q", "cranes", "--json")) == {"count": 2}

    drafts = ok_json(run(runner, "articles", "list", "--status", "draft", "--json"))
    assert [a["id"] for a in drafts] == [ids["draft"]]
    tagged = ok_json(run(runner, "articles", "list", "--hashtag", "#budget", "--json"))
    assert [a["title"] for a in tagged] == ["City Budget Passes"]
    by_section = run(runner, "articles", "count", "--section", "business")
    assert by_section.stdout.strip() == "1"


def test_list_pages_and_text(runner: FlaskCliRunner, service: Service) -> None:
    ids = seed(service)
    first = ok_json(run(runner, "articles", "list", "--limit", "2", "--json"))
    rest = ok_json(run(runner, "articles", "list", "--limit", "2", "--offset", "2", "--json"))
    assert len(first) == 2 and len(rest) == 1
    assert {a["id"] for a in first + rest} == set(ids.values())
    text = run(runner, "articles", "list", "--status", "draft").stdout.splitlines()
    assert text == [f"{ids['draft']}\tdraft\t" + text[0].split("\t")[2] + "\tworld\t"
                    "Embargoed Cranes Plan"]  # fmt: skip
    none = run(runner, "articles", "list", "--section", "sport")
    assert none.exit_code == 0 and none.stdout.strip() == "no articles"


def test_bad_filters_are_named(runner: FlaskCliRunner) -> None:
    naive = failed_json(run(runner, "articles", "list", "--since", "2026-01-01T10:00", "--json"))
    assert naive["kind"] == "invalid" and list(naive["fields"]) == ["since"]
    status = failed_json(run(runner, "articles", "count", "--status", "gone", "--json"), 2)
    assert status["kind"] == "usage" and "gone" in status["error"]
    too_many = failed_json(run(runner, "articles", "list", "--limit", "5000", "--json"), 2)
    assert "5000" in too_many["error"]


def test_since_filters_on_the_change_time(
    runner: FlaskCliRunner, service: Service, clock: FakeClock
) -> None:
    ids = seed(service)
    clock.advance(hours=1)
    cutoff = clock.now.isoformat()
    service.articles.patch(ids["budget"], {"summary": "Passed late at night."})
    changed = ok_json(run(runner, "articles", "list", "--since", cutoff, "--json"))
    assert [a["id"] for a in changed] == [ids["budget"]]


def test_show_by_id_or_slug(runner: FlaskCliRunner, service: Service) -> None:
    ids = seed(service)
    by_id = ok_json(run(runner, "articles", "show", str(ids["budget"]), "--json"))
    by_slug = ok_json(run(runner, "articles", "show", by_id["slug"], "--json"))
    assert by_id == by_slug
    assert by_id["title"] == "City Budget Passes" and by_id["hashtags"] == ["Budget"]
    text = run(runner, "articles", "show", by_id["slug"]).stdout
    assert "City Budget Passes" in text and "#Budget" in text
    missing = failed_json(run(runner, "articles", "show", "999999", "--json"))
    assert missing["kind"] == "not_found"
    huge = failed_json(run(runner, "articles", "show", "9" * 30, "--json"))
    assert huge["kind"] == "not_found"


def test_withdraw_and_restore_change_the_feeds_and_the_audit_log(
    runner: FlaskCliRunner, service: Service, client: FlaskClient
) -> None:
    ids = seed(service)
    cranes = str(ids["cranes"])
    gone = ok_json(run(runner, "articles", "withdraw", cranes, "--json"))
    assert gone["status"] == "withdrawn"
    titles = [i["title"] for i in client.get("/feeds/all.json").get_json()["items"]]
    assert "Harbour Cranes Return" not in titles

    back = run(runner, "articles", "restore", cranes)
    assert back.exit_code == 0 and back.stdout.strip() == "Harbour Cranes Return: now published"
    titles = [i["title"] for i in client.get("/feeds/all.json").get_json()["items"]]
    assert "Harbour Cranes Return" in titles

    entries = service.audit.entries(target_kind="article")
    assert [e.action for e in entries] == ["restore", "withdraw"]
    assert all(e.actor.startswith("cli") and e.target_id == cranes for e in entries)
    missing = failed_json(run(runner, "articles", "withdraw", "no-such-slug", "--json"))
    assert missing["kind"] == "not_found"


def test_tag_feeds_list_and_show(runner: FlaskCliRunner, service: Service) -> None:
    seed(service)
    service.audit.create_tag_feed(
        "user:test",
        {"slug": "ports", "title": "Ports", "any_of": ["Shipping"], "none_of": ["Budget"]},
    )
    listed = {f["slug"]: f for f in ok_json(run(runner, "tag-feeds", "list", "--json"))}
    # The config file's feeds are listed too, with the file that manages them.
    assert set(listed) == {"east-asia", "green-shipping", "ports"}
    assert listed["east-asia"]["managed_by"].endswith("tag_feeds.toml")
    ports = listed["ports"]
    assert (ports["any_of"], ports["none_of"], ports["managed_by"]) == (
        ["shipping"], ["budget"], None,
    )  # fmt: skip
    text = run(runner, "tag-feeds", "list").stdout.splitlines()
    assert "ports\tPorts\tany of #shipping; none of #budget" in text

    shown = ok_json(run(runner, "tag-feeds", "show", "ports", "--json"))
    # The draft carries #Shipping too, but only what readers see is held.
    assert [a["title"] for a in shown["articles"]] == ["Harbour Cranes Return"]
    assert "holds now:  1 articles" in run(runner, "tag-feeds", "show", "ports").stdout
    missing = failed_json(run(runner, "tag-feeds", "show", "nope", "--json"))
    assert missing["kind"] == "not_found" and "nope" in missing["error"]


def test_typed_filters_read_as_before() -> None:
    """The command line's filters are ArticleQuery's, read as typed: spaces around a
    value dropped, an empty value meaning any, a '#' before a hashtag, lists up to 1000,
    and every bad value named at once."""
    from datetime import UTC, datetime

    import pytest

    from feeds.errors import ValidationError
    from feeds.models import ArticleFilter, Status
    from feeds.service.article_filter import article_filter

    assert article_filter() == ArticleFilter(limit=50, offset=0)
    typed = article_filter(
        section=" world ", hashtag=" #SouthKorea", status="draft", query=" cranes ",
        since=" 2026-01-12T17:23:00+09:00 ", limit=1000, offset=20,
    )  # fmt: skip
    assert typed == ArticleFilter(
        section="world", hashtag="southkorea", status=Status.DRAFT, query="cranes",
        since=datetime(2026, 1, 12, 8, 23, tzinfo=UTC), limit=1000, offset=20,
    )  # fmt: skip
    assert article_filter(section="", hashtag="#", status="", since=" ", query="") == (
        ArticleFilter(limit=50, offset=0)
    )
    with pytest.raises(ValidationError) as refused:
        article_filter(status="gone", since="yesterday", section="a\x00b", limit=1001)
    assert set(refused.value.errors) == {"status", "since", "section", "limit"}
    assert refused.value.errors["status"].startswith("must be one of")
    assert "RFC 3339" in refused.value.errors["since"]
    assert "NUL" in refused.value.errors["section"]


def copies(service: Service) -> dict[int, tuple[str | None, str | None]]:
    with service.ctx.store.read() as conn:
        rows = conn.execute(select(articles.c.id, articles.c.feed_base, articles.c.feed_content))
        return {row.id: (row.feed_base, row.feed_content) for row in rows}


def test_refresh_copies_fills_missing_and_moved_copies_once(
    runner: FlaskCliRunner, service: Service, client: FlaskClient
) -> None:
    ids = seed(service)
    root = service.ctx.settings.public_root
    cranes = service.articles.get(ids["cranes"])
    # One row as stored before copies were kept, one made under another public URL.
    with service.ctx.store.begin() as conn:
        conn.execute(
            update(articles)
            .where(articles.c.id == ids["cranes"])
            .values(feed_base=None, feed_content=None)
        )
        conn.execute(
            update(articles)
            .where(articles.c.id == ids["budget"])
            .values(feed_base="https://old.example.org/articles/x", feed_content="<p>old</p>")
        )
    current = copies(service)[ids["draft"]]

    first = ok_json(run(runner, "articles", "refresh-copies", "--batch", "2", "--json"))
    assert first == {"examined": 3, "made": 1, "remade": 1, "current": 1, "changed": 0}
    after = copies(service)
    link = f"{root}articles/{cranes.slug}"
    assert after[ids["cranes"]] == (link, absolutize_html(cranes.content_html, link))
    budget = service.articles.get(ids["budget"])
    link = f"{root}articles/{budget.slug}"
    assert after[ids["budget"]] == (link, absolutize_html(budget.content_html, link))
    assert after[ids["draft"]] == current
    # The feed shows the copy made.
    items = client.get("/feeds/all.json").get_json()["items"]
    shown = {item["url"]: item["content_html"] for item in items}
    assert shown[link] == after[ids["budget"]][1]

    again = run(runner, "articles", "refresh-copies")
    assert again.exit_code == 0, again.output
    assert again.stdout.strip() == (
        "3 articles examined: 0 copies made, 0 made again against the current public URL, 3 current"
    )
    assert copies(service) == after


def test_refresh_copies_commits_each_batch_and_resumes(service: Service) -> None:
    ids = seed(service)
    with service.ctx.store.begin() as conn:
        conn.execute(update(articles).values(feed_base=None, feed_content=None))

    def stop(_report: CopyReport) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        service.articles.refresh_copies(batch=1, progress=stop)
    # The first batch (the lowest id) was committed before the stop.
    kept = {i for i, (base, _) in copies(service).items() if base is not None}
    assert kept == {min(ids.values())}
    report = service.articles.refresh_copies(batch=2)
    assert (report.examined, report.made, report.current) == (3, 2, 1)
    assert all(base is not None for base, _ in copies(service).values())


def test_refresh_copies_batch_is_bounded(runner: FlaskCliRunner) -> None:
    zero = failed_json(run(runner, "articles", "refresh-copies", "--batch", "0", "--json"), 2)
    assert "batch" in zero["error"]


def test_refresh_copies_leaves_an_article_written_meanwhile_to_that_write(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = seed(service)
    with service.ctx.store.begin() as conn:
        conn.execute(update(articles).values(feed_base=None, feed_content=None))
    # As if each article's content changed between the run's reading and its writing.
    monkeypatch.setattr(
        article_store, "contents", lambda _conn, wanted: dict.fromkeys(wanted, "<p>before</p>")
    )
    report = service.articles.refresh_copies()
    assert (report.examined, report.made, report.changed) == (3, 0, 3)
    assert copies(service) == dict.fromkeys(ids.values(), (None, None))


def test_refresh_copies_progress_goes_to_stderr(runner: FlaskCliRunner, service: Service) -> None:
    seed(service)
    shown = run(runner, "articles", "refresh-copies", "--batch", "2", "--progress", "--json")
    assert shown.exit_code == 0, shown.output
    # Not a terminal: a line per batch, each the running totals.
    assert shown.stderr.splitlines() == [
        "2 articles examined: 0 copies made, 0 made again against the current public URL, "
        "2 current",
        "3 articles examined: 0 copies made, 0 made again against the current public URL, "
        "3 current",
    ]
    assert ok_json(shown)["examined"] == 3
    quiet = run(runner, "articles", "refresh-copies", "--json")
    assert quiet.exit_code == 0 and quiet.stderr == ""
