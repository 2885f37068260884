"""Bearer-token checks on the JSON API: 401, 403, revocation, last use, every route guarded."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from feeds.service import Service
from feeds.service.tokens import hash_token
from feeds.store import tokens as token_store
from tests.conftest import FakeClock, article_payload

API = "/api/v1/articles"


def assert_401(response: Any) -> None:
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="feeds"'
    assert response.is_json
    body = response.get_json()
    assert body["status"] == 401
    assert "bearer token" in body["error"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", API),
        ("post", API),
        ("get", f"{API}/1"),
        ("put", f"{API}/1"),
        ("patch", f"{API}/1"),
        ("delete", f"{API}/1"),
    ],
)
def test_every_article_route_refuses_a_missing_token(
    client: FlaskClient, service: Service, method: str, path: str
) -> None:
    response = getattr(client, method)(path, json=article_payload())
    assert_401(response)
    assert service.articles.count() == 0


@pytest.mark.parametrize(
    "header",
    [
        "Bearer feeds_not-a-real-token",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "feeds_no_scheme",
    ],
)
def test_a_bad_token_is_refused(client: FlaskClient, service: Service, header: str) -> None:
    response = client.post(API, json=article_payload(), headers={"Authorization": header})
    assert_401(response)
    assert service.articles.count() == 0


def test_the_scheme_name_is_case_insensitive(client: FlaskClient, service: Service) -> None:
    raw = service.tokens.create("reader")
    response = client.get(API, headers={"Authorization": f"bearer {raw}"})
    assert response.status_code == 200


def test_a_revoked_token_is_refused(client: FlaskClient, service: Service) -> None:
    raw = service.tokens.create("temp", ("articles:write",))
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get(API, headers=headers).status_code == 200
    service.tokens.revoke("temp")
    assert_401(client.get(API, headers=headers))
    assert_401(client.post(API, json=article_payload(), headers=headers))
    assert service.articles.count() == 0


def test_a_token_without_write_scope_may_read_but_not_write(
    client: FlaskClient, service: Service, writer_token: dict[str, str]
) -> None:
    created = client.post(API, json=article_payload(), headers=writer_token)
    assert created.status_code == 201
    article = created.get_json()
    raw = service.tokens.create("auditor", ("admin",))
    admin_only = {"Authorization": f"Bearer {raw}"}

    listed = client.get(API, headers=admin_only)
    assert listed.status_code == 200
    assert [item["id"] for item in listed.get_json()["items"]] == [article["id"]]

    attempts = [
        client.post(API, json=article_payload(title="Other"), headers=admin_only),
        client.put(f"{API}/{article['id']}", json=article_payload(title="X"), headers=admin_only),
        client.patch(f"{API}/{article['id']}", json={"title": "X"}, headers=admin_only),
        client.delete(f"{API}/{article['id']}", headers=admin_only),
    ]
    for response in attempts:
        assert response.status_code == 403
        body = response.get_json()
        assert body["status"] == 403
        assert "articles:write" in body["error"]
        assert "WWW-Authenticate" not in response.headers
    assert service.articles.count() == 1
    stored = service.articles.get(article["id"])
    assert stored.title == article["title"]
    assert stored.status.value == "published"


def test_tokens_are_stored_hashed(service: Service) -> None:
    raw = service.tokens.create("hashed")
    with service.ctx.store.read() as conn:
        record = token_store.by_hash(conn, hash_token(raw))
        assert token_store.by_hash(conn, raw) is None
    assert record is not None
    assert record.name == "hashed"
    assert raw.startswith("feeds_") and len(raw) > 40


def test_successful_use_records_last_used_at_once_a_minute(
    client: FlaskClient, service: Service, clock: FakeClock
) -> None:
    raw = service.tokens.create("busy", ("articles:write",))
    headers = {"Authorization": f"Bearer {raw}"}

    def last_used() -> Any:
        (record,) = [t for t in service.tokens.list() if t.name == "busy"]
        return record.last_used_at

    assert last_used() is None
    first = clock.now
    assert client.get(API, headers=headers).status_code == 200
    assert last_used() == first

    clock.advance(seconds=30)  # within the minute: no write
    assert client.get(API, headers=headers).status_code == 200
    assert last_used() == first

    later = clock.advance(seconds=31)
    assert client.get(API, headers=headers).status_code == 200
    assert last_used() == later

    clock.advance(minutes=5)  # a refused request records nothing
    assert_401(client.get(API, headers={"Authorization": "Bearer feeds_wrong"}))
    assert last_used() == later


def test_every_api_route_requires_a_token(app: Flask) -> None:
    """A new /api/ route without @require fails here rather than shipping unprotected."""
    api_rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")]
    assert len(api_rules) >= 2  # the article collection and the single article
    unprotected = [
        rule.rule
        for rule in api_rules
        if getattr(app.view_functions[rule.endpoint], "requires_token", False) is not True
    ]
    # Only the API's own description is open: a client reads it before it has a token.
    assert sorted(unprotected) == ["/api/v1/docs", "/api/v1/openapi.json"]
    for rule in api_rules:
        if rule.rule in unprotected:
            assert getattr(app.view_functions[rule.endpoint], "public", False) is True


def test_write_routes_demand_the_write_scope(app: Flask) -> None:
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/articles"):
            continue
        view = app.view_functions[rule.endpoint]
        writes = (rule.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}
        expected = "articles:write" if writes else None
        assert getattr(view, "required_scope", "missing") == expected, rule.rule
