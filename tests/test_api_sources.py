"""/api/v1/sources: health for any token, changes and refresh for admins, files read-only."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer

from feeds.service import Service
from tests.conftest import CONFIG, FakeClock
from tests.ingest_helpers import (
    Entry,
    ingest_app,
    ingest_app_fixture,  # noqa: F401 (the `app` fixture)
    rss,
    svc,
)

FEED = rss([Entry("a-1", "Bridge reopens", categories=("Transport",))])


@pytest.fixture
def admin(service: Service) -> dict[str, str]:
    return {"Authorization": f"Bearer {service.tokens.create('admin', ('admin',))}"}


@pytest.fixture
def writer(service: Service) -> dict[str, str]:
    raw = service.tokens.create("writer", ("articles:write",))
    return {"Authorization": f"Bearer {raw}"}


def payload(url: str, **changes: Any) -> dict[str, Any]:
    return {"url": url, "name": "Bridge Wire", "section": "world", "categories": "all"} | changes


def test_reading_needs_a_token_and_changing_needs_admin(
    client: FlaskClient, writer: dict[str, str], httpserver: HTTPServer
) -> None:
    assert client.get("/api/v1/sources").status_code == 401
    assert client.get("/api/v1/sources/1").status_code == 401
    body = payload(httpserver.url_for("/feed"))
    assert client.post("/api/v1/sources", json=body).status_code == 401
    assert client.post("/api/v1/sources", json=body, headers=writer).status_code == 403
    assert client.get("/api/v1/sources", headers=writer).get_json() == {"items": [], "count": 0}
    for method in ("put", "patch", "delete"):
        response = getattr(client, method)("/api/v1/sources/1", json=body, headers=writer)
        assert response.status_code == 403
    assert client.post("/api/v1/sources/1/refresh", headers=writer).status_code == 403


def test_create_show_refresh_and_read_state(
    client: FlaskClient, admin: dict[str, str], writer: dict[str, str], httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/feed").respond_with_data(FEED)
    created = client.post(
        "/api/v1/sources", json=payload(httpserver.url_for("/feed")), headers=admin
    )
    assert created.status_code == 201
    source = created.get_json()
    assert created.headers["Location"].endswith(f"/api/v1/sources/{source['id']}")
    refreshed = client.post(f"/api/v1/sources/{source['id']}/refresh", headers=admin)
    assert refreshed.status_code == 200
    outcome = refreshed.get_json()["outcome"]
    assert outcome["status"] == "fetched" and outcome["new"] == 1 and outcome["error"] is None
    assert outcome["http_status"] == 200 and outcome["next_check_at"]
    state = client.get(f"/api/v1/sources/{source['id']}", headers=writer).get_json()["state"]
    assert (state["last_status"], state["failures"], state["items_new"]) == (200, 0, 1)
    assert state["last_success_at"] and state["last_error"] is None


def test_a_failing_source_shows_why(
    client: FlaskClient, admin: dict[str, str], httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/feed").respond_with_data("", status=502)
    source = client.post(
        "/api/v1/sources", json=payload(httpserver.url_for("/feed")), headers=admin
    ).get_json()
    outcome = client.post(f"/api/v1/sources/{source['id']}/refresh", headers=admin).get_json()
    assert outcome["outcome"]["status"] == "failed" and "502" in outcome["outcome"]["error"]
    listed = client.get("/api/v1/sources", headers=admin).get_json()["items"]
    assert listed[0]["state"]["failures"] == 1 and "502" in listed[0]["state"]["last_error"]


def test_put_patch_delete_and_validation(client: FlaskClient, admin: dict[str, str]) -> None:
    source = client.post(
        "/api/v1/sources", json=payload("https://a.test/feed"), headers=admin
    ).get_json()
    url = f"/api/v1/sources/{source['id']}"
    patched = client.patch(url, json={"interval_minutes": 60, "enabled": False}, headers=admin)
    assert patched.status_code == 200
    assert (patched.get_json()["interval_minutes"], patched.get_json()["enabled"]) == (60, False)
    put = client.put(url, json=payload("https://b.test/feed", hashtags=["Bridges"]), headers=admin)
    assert put.get_json()["url"] == "https://b.test/feed" and put.get_json()["enabled"] is True
    bad = client.patch(url, json={"interval_minutes": 0, "state": {}}, headers=admin)
    assert bad.status_code == 422 and set(bad.get_json()["fields"]) == {"interval_minutes", "state"}
    assert client.post("/api/v1/sources", data="x", headers=admin).status_code == 400
    again = client.post("/api/v1/sources", json=payload("https://b.test/feed"), headers=admin)
    assert again.status_code == 409
    assert client.delete(url, headers=admin).status_code == 204
    assert client.get(url, headers=admin).status_code == 404
    assert client.get("/api/v1/sources/99999999999", headers=admin).status_code == 404


def test_file_managed_sources_are_read_only(database_url: str, clock: FakeClock) -> None:
    app = ingest_app(database_url, clock, config_dir=str(CONFIG))
    try:
        service = svc(app)
        client = app.test_client()
        headers = {"Authorization": f"Bearer {service.tokens.create('a', ('admin',))}"}
        [wire] = client.get("/api/v1/sources", headers=headers).get_json()["items"]
        assert wire["managed_by"].endswith("sources.toml") and wire["kind"] == "file"
        url = f"/api/v1/sources/{wire['id']}"
        for response in (
            client.patch(url, json={"enabled": False}, headers=headers),
            client.put(url, json=payload("https://c.test/f"), headers=headers),
            client.delete(url, headers=headers),
        ):
            assert response.status_code == 409
            assert "sources.toml" in response.get_json()["error"]
        refreshed = client.post(f"{url}/refresh", headers=headers).get_json()
        assert refreshed["outcome"]["new"] == 5
    finally:
        svc(app).ctx.store.dispose()


def test_metrics_count_fetches_and_items(
    client: FlaskClient, admin: dict[str, str], httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/feed").respond_with_data(FEED)
    source = client.post(
        "/api/v1/sources", json=payload(httpserver.url_for("/feed")), headers=admin
    ).get_json()
    client.post(f"/api/v1/sources/{source['id']}/refresh", headers=admin)
    text = client.get("/metrics").get_data(as_text=True)
    assert 'feeds_ingest_fetches_total{outcome="fetched"}' in text
    assert 'feeds_ingest_items_total{kind="new"}' in text
    assert "feeds_ingest_fetch_seconds_bucket" in text
    assert 'feeds_ingest_documents_total{parser="lxml"}' in text
