"""Admin pages for outside sources: forms with CSRF, health, refresh, file-managed, audit.

Sources point at pytest-httpserver on localhost, admitted by the ingest settings.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer

from feeds.service import Service
from feeds.store.audit import AuditEntry
from tests.admin_helpers import login, post
from tests.conftest import FakeClock, make_app
from tests.ingest_helpers import (
    Entry,
    add_source,
    ingest_app_fixture,  # noqa: F401 (the `app` fixture)
    rss,
    svc,
)

FEED = rss([Entry("a-1", "Bridge reopens", categories=("Transport",))])


@pytest.fixture
def token(client: FlaskClient, service: Service) -> str:
    return login(client, service)


def form(url: str, **changes: str) -> dict[str, str]:
    values = {
        "url": url, "name": "Bridge Wire", "section": "world", "hashtags": "#Wire #Bridges",
        "categories": "map", "category_map": "Transport = Transit\nPorts = Shipping",
        "interval_minutes": "30", "retention_days": "7", "max_items": "40", "enabled": "on",
    }  # fmt: skip
    return values | changes


def source_entries(service: Service) -> list[AuditEntry]:
    return list(reversed(service.audit.entries(target_kind="source")))


def text(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def field_error(page: str, name: str) -> str:
    found = re.search(rf'id="error-{name}">([^<]*)<', page)
    assert found, f"no error shown for {name}"
    return found.group(1)


def test_pages_need_a_session_and_forms_a_csrf_token(
    client: FlaskClient, service: Service, httpserver: HTTPServer
) -> None:
    for path in ("/admin/sources", "/admin/sources/new", "/admin/sources/1"):
        response = client.get(path)
        assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    login(client, service)
    refused = client.post("/admin/sources/new", data=form(httpserver.url_for("/feed")))
    assert refused.status_code == 400
    assert service.sources.list() == []


def test_add_from_the_form_is_stored_and_audited(
    client: FlaskClient, service: Service, token: str, httpserver: HTTPServer
) -> None:
    url = httpserver.url_for("/feed")
    response = post(client, "/admin/sources/new", token, **form(url))
    assert response.status_code == 302
    [source] = service.sources.list()
    assert response.headers["Location"] == f"/admin/sources/{source.id}"
    assert (source.url, source.name, source.section) == (url, "Bridge Wire", "world")
    assert [t.display for t in source.hashtags] == ["Wire", "Bridges"]
    assert source.categories.mapping == (("Transport", "Transit"), ("Ports", "Shipping"))
    assert (source.interval_seconds, source.retention_days, source.max_items) == (1800, 7, 40)
    [entry] = source_entries(service)
    assert (entry.actor, entry.action, entry.target_id) == ("user:alice", "create", str(source.id))
    assert entry.before is None and entry.after["url"] == url
    assert entry.after["categories"] == {"Transport": "Transit", "Ports": "Shipping"}
    page = text(client, f"/admin/sources/{source.id}")
    assert "Added source Bridge Wire" in page and 'data-health="new"' in page


def test_validation_errors_sit_by_their_fields_and_change_nothing(
    client: FlaskClient, service: Service, token: str, httpserver: HTTPServer
) -> None:
    bad = form(
        "ftp://example.com/feed",
        name="",
        interval_minutes="often",
        category_map="Transport without an equals sign",
    )
    response = post(client, "/admin/sources/new", token, **bad)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "http or https" in field_error(page, "url")
    assert "required" in field_error(page, "name")
    assert "whole number" in field_error(page, "interval_minutes")
    assert "Category = Hashtag" in field_error(page, "categories")
    assert 'value="often"' in page  # what was typed comes back for correcting
    assert service.sources.list() == [] and source_entries(service) == []

    source_id = add_source(service, httpserver.url_for("/feed"))
    other = add_source(service, httpserver.url_for("/other"))
    before = service.sources.get(other)
    taken = post(client, f"/admin/sources/{other}", token, **form(httpserver.url_for("/feed")))
    assert taken.status_code == 409
    assert "exists" in field_error(taken.get_data(as_text=True), "url")
    unknown = post(client, f"/admin/sources/{source_id}", token, **form("x", section="nowhere"))
    assert unknown.status_code == 422
    assert service.sources.get(other) == before
    assert source_entries(service) == []


def test_edit_records_before_and_after(
    client: FlaskClient, service: Service, token: str, httpserver: HTTPServer
) -> None:
    url = httpserver.url_for("/feed")
    source_id = add_source(service, url, name="Old name")
    page = text(client, f"/admin/sources/{source_id}")
    assert 'value="Old name"' in page
    response = post(
        client, f"/admin/sources/{source_id}", token, **form(url, name="New name", categories="all")
    )
    assert response.status_code == 302
    assert service.sources.get(source_id).name == "New name"
    [entry] = source_entries(service)
    assert entry.action == "update" and entry.actor == "user:alice"
    assert entry.before["name"] == "Old name" and entry.after["name"] == "New name"
    assert entry.before["interval_minutes"] == 15 and entry.after["interval_minutes"] == 30
    assert "state" not in entry.after  # fetch state is not an admin change
    audit_page = text(client, "/admin/audit")
    assert "update source" in audit_page and "name" in audit_page


def test_disable_enable_and_remove(
    client: FlaskClient, service: Service, token: str, httpserver: HTTPServer
) -> None:
    source_id = add_source(service, httpserver.url_for("/feed"))
    assert post(client, f"/admin/sources/{source_id}/disable", token).status_code == 302
    assert not service.sources.get(source_id).enabled
    assert 'data-health="disabled"' in text(client, "/admin/sources")
    post(client, f"/admin/sources/{source_id}/disable", token)  # no change: no entry
    post(client, f"/admin/sources/{source_id}/enable", token)
    assert service.sources.get(source_id).enabled
    response = post(client, f"/admin/sources/{source_id}/delete", token)
    assert response.headers["Location"] == "/admin/sources"
    assert service.sources.list() == []
    entries = source_entries(service)
    assert [e.action for e in entries] == ["disable", "enable", "delete"]
    assert entries[0].before["enabled"] is True and entries[0].after["enabled"] is False
    assert entries[2].before["id"] == source_id and entries[2].after is None
    assert client.get(f"/admin/sources/{source_id}").status_code == 404
    assert post(client, f"/admin/sources/{source_id}/refresh", token).status_code == 404


def test_refresh_now_shows_the_outcome_and_errors(
    client: FlaskClient, service: Service, token: str, httpserver: HTTPServer, clock: FakeClock
) -> None:
    httpserver.expect_request("/feed").respond_with_data(FEED)
    source_id = add_source(service, httpserver.url_for("/feed"))
    response = post(client, f"/admin/sources/{source_id}/refresh", token)
    assert response.headers["Location"] == f"/admin/sources/{source_id}"
    page = text(client, f"/admin/sources/{source_id}")
    result = re.search(r'<section id="refresh-result".*?</section>', page, re.S)
    assert result and 'data-status="fetched"' in result.group(0)
    assert "1 new, 0 updated, 0 unchanged" in result.group(0)
    due = (clock.now + timedelta(minutes=15)).strftime("%Y-%m-%d %H:%M")
    # In the admin's time zone (UTC here), with how far ahead it is.
    assert re.search(
        rf"Next check: <time [^>]*>{due} UTC</time> <small[^>]*>\(in 15 minutes\)", page
    )
    assert 'data-health="ok"' in page
    # The outcome is shown once, not on every later visit.
    assert 'id="refresh-result"' not in text(client, f"/admin/sources/{source_id}")

    httpserver.clear()
    httpserver.expect_request("/feed").respond_with_data("down", status=503)
    post(client, f"/admin/sources/{source_id}/refresh", token)
    page = text(client, f"/admin/sources/{source_id}")
    result = re.search(r'<section id="refresh-result".*?</section>', page, re.S)
    assert result and 'data-status="failed"' in result.group(0) and "503" in result.group(0)
    assert 'data-health="failing"' in page and "backing off until" in page
    errors = re.search(r'<ul id="errors">(.*?)</ul>', page, re.S)
    assert errors and "latest fetch" in errors.group(1) and "503" in errors.group(1)

    clock.advance(minutes=1)
    post(client, f"/admin/sources/{source_id}/refresh", token)
    errors = re.search(
        r'<ul id="errors">(.*?)</ul>', text(client, f"/admin/sources/{source_id}"), re.S
    )
    assert errors and errors.group(1).count("answered 503") == 2  # the latest and the one before

    refreshes = [e for e in source_entries(service) if e.action == "refresh"]
    assert [e.after["status"] for e in refreshes] == ["fetched", "failed", "failed"]
    assert all(e.actor == "user:alice" and e.after["source_id"] == source_id for e in refreshes)


def test_dashboard_shows_health_badges(
    client: FlaskClient, service: Service, token: str, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/good").respond_with_data(FEED)
    httpserver.expect_request("/bad").respond_with_data("nope", status=500)
    good = add_source(service, httpserver.url_for("/good"), name="Good Wire")
    bad = add_source(service, httpserver.url_for("/bad"), name="Bad Wire")
    off = add_source(service, httpserver.url_for("/off"), name="Off Wire")
    fresh = add_source(service, httpserver.url_for("/new"), name="New Wire")
    service.sources.refresh(good)
    service.sources.refresh(bad)
    service.sources.disable(off)
    page = text(client, "/admin/")

    def row(source_id: int) -> str:
        found = re.search(rf'data-source="{source_id}">(.*?)</tr>', page, re.S)
        assert found, source_id
        return found.group(1)

    assert 'data-health="ok"' in row(good) and "1 <small" in row(good)
    assert "never" not in row(good)  # last success shown
    assert 'data-health="failing"' in row(bad) and "failing (1)" in row(bad)
    assert "500" in row(bad) and 'class="error-line"' in row(bad)
    next_check = service.sources.get(bad).state.next_check_at
    assert next_check is not None
    assert f'data-backoff="{next_check.isoformat()}"' in row(bad)
    assert 'data-health="disabled"' in row(off)
    assert 'data-health="new"' in row(fresh) and "backing off" not in row(fresh)


def test_file_managed_sources_are_read_only(
    database_url: str, clock: FakeClock, httpserver: HTTPServer
) -> None:
    app = make_app(database_url, clock)  # the shipped config: the demo wire from the file
    try:
        service, client = svc(app), app.test_client()
        token = login(client, service)
        [wire] = service.sources.list()
        assert wire.managed_by
        path = f"/admin/sources/{wire.id}"
        page = text(client, path)
        assert f"managed by <code>{wire.managed_by}</code>" in page
        assert "<fieldset disabled" in page and "Remove source" not in page
        assert f"managed by {wire.managed_by}" in text(client, "/admin/sources")

        response = post(client, path, token, **form(httpserver.url_for("/x"), name="Hijacked"))
        assert response.status_code == 409
        assert "sources.toml" in field_error(response.get_data(as_text=True), "form")
        for action in ("disable", "delete"):
            post(client, f"{path}/{action}", token)
            flashed = re.search(r'<p class="flash error"[^>]*>([^<]*)<', text(client, path))
            assert flashed and "sources.toml" in flashed.group(1)  # names the file
        assert service.sources.list() == [wire]
        # Refreshing changes no configuration, so it is allowed.
        post(client, f"{path}/refresh", token)
        assert 'data-status="fetched"' in text(client, path)
        assert [e.action for e in source_entries(service)] == ["refresh"]
    finally:
        service.ctx.store.dispose()


def test_api_source_changes_are_audited(
    client: FlaskClient, service: Service, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/feed").respond_with_data(FEED)
    admin = {"Authorization": f"Bearer {service.tokens.create('deskbot', ('admin',))}"}
    body: dict[str, Any] = {"url": httpserver.url_for("/feed"), "name": "Wire", "section": "world"}
    created = client.post("/api/v1/sources", json=body, headers=admin).get_json()
    path = f"/api/v1/sources/{created['id']}"
    client.patch(path, json={"name": "Wire 2"}, headers=admin)
    client.put(path, json=body | {"interval_minutes": 60}, headers=admin)
    client.put(path, json=body | {"interval_minutes": 60}, headers=admin)  # no change
    client.post(f"{path}/refresh", headers=admin)
    refused = client.patch(path, json={"interval_minutes": 0}, headers=admin)
    assert refused.status_code == 422
    assert client.delete(path, headers=admin).status_code == 204

    entries = source_entries(service)
    assert [e.action for e in entries] == ["create", "update", "update", "refresh", "delete"]
    assert {e.actor for e in entries} == {"token:deskbot"}
    assert {e.target_id for e in entries} == {str(created["id"])}
    assert entries[1].before["name"] == "Wire" and entries[1].after["name"] == "Wire 2"
    assert entries[2].before["interval_minutes"] == 15
    assert entries[2].after["interval_minutes"] == 60
    assert entries[3].after["status"] == "fetched" and entries[3].after["new"] == 1
    assert entries[4].before["name"] == "Wire" and entries[4].after is None


def test_the_cli_changes_sources_without_an_audit_actor(
    service: Service, httpserver: HTTPServer
) -> None:
    # Callers that pass no actor (config apply, the CLI) keep working and log nothing.
    source_id = add_source(service, httpserver.url_for("/feed"))
    service.sources.update(source_id, {"name": "Quiet"}, partial=True)
    service.sources.disable(source_id)
    service.sources.remove(source_id)
    assert source_entries(service) == []
