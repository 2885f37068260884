"""Every entry of a fetched document is accounted for: written, unchanged, or skipped
with a reason; the counts add up to the entries the document holds, in every place the
outcome is shown (the refresh, `sources show`, the API, the admin page)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from pytest_httpserver import HTTPServer

from feeds.models import ENTRY_FATES, ArticleFilter, EntryCounts
from feeds.service import Service
from tests.admin_helpers import login, post
from tests.conftest import FakeClock
from tests.ingest_helpers import (
    add_source,
    ingest_app_fixture,  # noqa: F401 (the `app` fixture)
)
from tests.outside_documents import (
    ATOM_EXPECTED,
    BROKEN,
    JSON_EXPECTED,
    RSS_EXPECTED,
    atom_wire,
    entries_in,
    json_wire,
    outside_documents,
    rfc822,
    rss_document,
    rss_item,
    rss_wire,
    serve_images,
)
from tests.test_openapi import Api


def serve(httpserver: HTTPServer, path: str, body: bytes) -> str:
    httpserver.expect_request(path).respond_with_data(body)
    return httpserver.url_for(path)


def fates(counts: EntryCounts) -> dict[str, int]:
    return {name: getattr(counts, name) for name in ENTRY_FATES if getattr(counts, name)}


@pytest.mark.parametrize(
    ("document", "entries", "expected"),
    [(rss_wire, 9, RSS_EXPECTED), (atom_wire, 5, ATOM_EXPECTED), (json_wire, 5, JSON_EXPECTED)],
    ids=["rss", "atom", "json"],
)
def test_every_entry_of_a_document_is_accounted_for(
    service: Service,
    httpserver: HTTPServer,
    clock: FakeClock,
    document: Callable[[datetime], bytes],
    entries: int,
    expected: dict[str, int],
) -> None:
    url = serve(httpserver, "/doc", document(clock.now))
    source_id = add_source(service, url, max_items=6, retention_days=7)
    outcome = service.sources.refresh(source_id)
    assert outcome.status == "fetched", outcome.error
    assert fates(outcome.counts) == expected
    assert outcome.counts.entries == entries == sum(expected.values())
    assert service.sources.get(source_id).state.items == outcome.counts
    # The same bytes again are not parsed: what was written is unchanged now, and what
    # was skipped is skipped again, so the counts still add up to the document.
    again = service.sources.refresh(source_id)
    assert again.status == "unchanged"
    assert again.counts.entries == entries and again.counts.unchanged == expected["new"]
    assert again.counts.new == 0 and again.counts.duplicates == expected["duplicates"]


def test_no_date_placeholders_get_fallback_dates_in_document_order(
    service: Service, httpserver: HTTPServer, clock: FakeClock
) -> None:
    source_id = add_source(service, serve(httpserver, "/doc", rss_wire(clock.now)))
    service.sources.refresh(source_id)
    by_title = {a.title: a for a in service.articles.list(ArticleFilter(limit=50))}
    for n, title in enumerate(("Undated", "Year one", "Unix zero")):
        assert by_title[title].published_at == clock.now - timedelta(seconds=n)
    assert by_title["Year one"].origin is not None
    assert by_title["Year one"].origin.original_date == "Mon, 01 Jan 0001 00:00:00 GMT"


def test_a_malformed_document_with_no_readable_entry_is_an_error_with_the_reason(
    service: Service, httpserver: HTTPServer
) -> None:
    broken = rss_document(tail="<it")
    source_id = add_source(service, serve(httpserver, "/broken", broken))
    outcome = service.sources.refresh(source_id)
    assert outcome.status == "failed" and outcome.counts == EntryCounts()
    assert outcome.error is not None
    assert re.search(
        r"malformed rss20 document, no entry readable: .+ at line 1, column", outcome.error
    )
    assert service.articles.count() == 0
    assert service.sources.get(source_id).state.last_error == outcome.error


def test_a_malformed_document_with_readable_entries_is_taken_with_a_warning(
    service: Service, httpserver: HTTPServer, clock: FakeClock
) -> None:
    cut = rss_document(rss_item("1", "Whole", rfc822(clock.now, hours=1)), tail="<it")
    source_id = add_source(service, serve(httpserver, "/cut", cut))
    outcome = service.sources.refresh(source_id)
    assert outcome.status == "fetched" and fates(outcome.counts) == {"new": 1}
    (warning,) = outcome.counts.warnings
    assert warning.startswith("the document is malformed (") and "line 1" in warning
    assert service.sources.get(source_id).state.items.warnings == (warning,)


def test_undated_entries_fetched_in_the_same_second_keep_distinct_dates(
    client: FlaskClient, service: Service, httpserver: HTTPServer, clock: FakeClock
) -> None:
    undated = [rss_item(f"u{n}", f"Undated {n}", None) for n in range(3)]
    first = add_source(service, serve(httpserver, "/one", rss_document(*undated)), name="one")
    second = add_source(service, serve(httpserver, "/two", rss_document(*undated)), name="two")
    assert service.sources.refresh(first).counts.new == 3
    assert service.sources.refresh(second).counts.new == 3
    items = client.get("/feeds/all.json?limit=50").get_json()["items"]
    dates = {(i["_source"]["title"], i["title"]): i["date_modified"] for i in items}
    assert len(dates) == 6 and len(set(dates.values())) == 6, dates
    for name in ("one", "two"):  # still a second apart, newest first, in document order
        mine = [datetime.fromisoformat(dates[(name, f"Undated {n}")]) for n in range(3)]
        assert mine[0] > mine[1] > mine[2] and mine[0] <= clock.now
    # Fetched again (the bytes changed, the entries did not), they keep their dates.
    httpserver.clear()
    serve(httpserver, "/two", rss_document(*undated, rss_item("new", "New", None)))
    assert service.sources.refresh(second).counts.unchanged == 3
    again = client.get("/feeds/all.json?limit=50").get_json()["items"]
    kept = {(i["_source"]["title"], i["title"]): i["date_modified"] for i in again}
    assert {key: kept[key] for key in dates} == dates
    assert len(set(kept.values())) == 7


@pytest.fixture
def refreshed(service: Service, httpserver: HTTPServer, clock: FakeClock) -> int:
    """A source whose last fetch skipped entries for every reason but refusal."""
    url = serve(httpserver, "/doc", rss_wire(clock.now))
    source_id = add_source(service, url, max_items=6, retention_days=7)
    assert service.sources.refresh(source_id).status == "fetched"
    return source_id


COUNTS_LINE = (
    "9 entries: 5 new, 0 updated, 0 unchanged, 1 duplicates in the document, "
    "1 older than the retention, 2 beyond max_items"
)


def test_the_cli_shows_and_reports_every_count(
    runner: FlaskCliRunner, service: Service, httpserver: HTTPServer, refreshed: int
) -> None:
    shown = runner.invoke(args=["feeds", "sources", "show", str(refreshed)])
    assert shown.exit_code == 0 and COUNTS_LINE in shown.output
    state = json.loads(
        runner.invoke(args=["feeds", "sources", "show", str(refreshed), "--json"]).stdout
    )["state"]
    assert {k: state[f"items_{k}"] for k in ("entries", *ENTRY_FATES)} == {
        "entries": 9, "new": 5, "updated": 0, "unchanged": 0, "duplicates": 1, "too_old": 1,
        "over_limit": 2, "refused": 0,
    }  # fmt: skip
    result = runner.invoke(args=["feeds", "sources", "refresh", str(refreshed), "--json"])
    outcome = json.loads(result.stdout)["outcome"]
    assert (outcome["status"], outcome["entries"], outcome["unchanged"]) == ("unchanged", 9, 5)
    assert outcome["refusals"] == [] and outcome["warnings"] == []
    text = runner.invoke(args=["feeds", "sources", "refresh", str(refreshed)]).output
    assert "9 entries: 0 new, 0 updated, 5 unchanged, 1 duplicates" in text


def test_the_api_reports_every_count_as_its_document_says(
    app: Flask, client: FlaskClient, service: Service, httpserver: HTTPServer, refreshed: int
) -> None:
    from openapi_core import OpenAPI

    headers = {"Authorization": f"Bearer {service.tokens.create('admin', ('admin',))}"}
    spec = OpenAPI.from_dict(client.get("/api/v1/openapi.json", headers=headers).get_json())
    api = Api(client, spec, headers)
    state = api("GET", f"/sources/{refreshed}").get_json()["state"]
    assert (state["items_entries"], state["items_over_limit"], state["items_too_old"]) == (9, 2, 1)
    body = api("POST", f"/sources/{refreshed}/refresh").get_json()
    outcome: dict[str, Any] = body["outcome"]
    assert sum(outcome[name] for name in ENTRY_FATES) == outcome["entries"] == 9
    # A failing fetch matches the schema too, with every count at zero.
    httpserver.clear()
    httpserver.expect_request("/doc").respond_with_data("gone away", status=500)
    failed = api("POST", f"/sources/{refreshed}/refresh").get_json()["outcome"]
    assert failed["status"] == "failed" and failed["entries"] == 0


def test_the_admin_source_page_shows_every_count(
    client: FlaskClient, service: Service, httpserver: HTTPServer, refreshed: int
) -> None:
    token = login(client, service)
    page = client.get(f"/admin/sources/{refreshed}").get_data(as_text=True)
    assert "5 new, 0 updated, 0 unchanged, 1 duplicates in the document" in page
    post(client, f"/admin/sources/{refreshed}/refresh", token)
    page = client.get(f"/admin/sources/{refreshed}").get_data(as_text=True)
    result = re.search(r'<section id="refresh-result".*?</section>', page, re.S)
    assert result and COUNTS_LINE.replace(
        "5 new, 0 updated, 0 unchanged", "0 new, 0 updated, 5 unchanged"
    ) in result.group(0)


# An entry over `ingest_entry_max_bytes` (1 MiB by default) among ordinary ones.
OVERSIZE = 1024 * 1024 + 1


def every_document(httpserver: HTTPServer, now: datetime) -> dict[str, tuple[bytes, dict]]:
    documents: dict[str, tuple[bytes, dict[str, Any]]] = outside_documents(
        now, serve_images(httpserver)
    )
    refused = rss_item("r2", "x" * OVERSIZE, rfc822(now, hours=2))
    documents["refused"] = (rss_document(rss_item("r1", "Fine", rfc822(now, hours=1)), refused), {})
    documents["broken"] = (BROKEN, {})
    return documents


@pytest.mark.parametrize("name", ["rss", "atom", "json", "pictures", "cut", "refused", "broken"])
def test_each_outside_document_is_accounted_for_in_every_report(
    app: Flask,
    client: FlaskClient,
    runner: FlaskCliRunner,
    service: Service,
    httpserver: HTTPServer,
    clock: FakeClock,
    name: str,
) -> None:
    from openapi_core import OpenAPI

    body, fields = every_document(httpserver, clock.now)[name]
    source_id = add_source(service, serve(httpserver, f"/{name}", body), **fields)
    in_document = entries_in(body)
    refreshed = runner.invoke(args=["feeds", "sources", "refresh", str(source_id), "--json"])
    outcome = json.loads(refreshed.stdout)["outcome"]
    assert outcome["entries"] == sum(outcome[fate] for fate in ENTRY_FATES) == in_document
    assert len(outcome["refusals"]) == outcome["refused"]
    counts = {"entries": in_document} | {fate: outcome[fate] for fate in ENTRY_FATES}
    shown = runner.invoke(args=["feeds", "sources", "show", str(source_id), "--json"])
    state = json.loads(shown.stdout)["state"]
    assert {key: state[f"items_{key}"] for key in counts} == counts
    text = runner.invoke(args=["feeds", "sources", "show", str(source_id)]).output
    # The text line read back: its parts add up to the entries it names.
    line = re.search(r"(\d+) entr(?:y|ies): (.+)", text)
    assert line and int(line.group(1)) == in_document, text
    parts = [int(n) for n in re.findall(r"(?:^|, )(\d+) ", line.group(2))]
    assert sum(parts) == in_document and parts[0] == outcome["new"], line.group(0)
    headers = {"Authorization": f"Bearer {service.tokens.create('admin', ('admin',))}"}
    spec = OpenAPI.from_dict(client.get("/api/v1/openapi.json", headers=headers).get_json())
    state = Api(client, spec, headers)("GET", f"/sources/{source_id}").get_json()["state"]
    assert {key: state[f"items_{key}"] for key in counts} == counts
    if name == "broken":
        # Empty because it is malformed: an error with the parser's reason, not "0 new".
        assert refreshed.exit_code == 1 and outcome["status"] == "failed"
        assert "malformed rss20 document, no entry readable" in outcome["error"]
        assert state["last_error"] == outcome["error"]
    else:
        assert refreshed.exit_code == 0 and outcome["status"] == "fetched", outcome["error"]
    if name == "refused":
        (refusal,) = outcome["refusals"]
        assert "over the 1,048,576-byte limit for one entry" in json.dumps(refusal)
