"""Per-client rate limits on the API and the sign-in form, counted where every process
sees them (the store, or Redis), answered with 429 and Retry-After."""

from __future__ import annotations

import socket
import uuid
from collections import Counter

import pytest
from flask import Flask
from flask.testing import FlaskClient

from feeds.errors import ConfigError
from feeds.settings import load_settings
from tests.admin_helpers import PASSWORD, csrf_token
from tests.conftest import FakeClock, make_app

BAD = {"Authorization": "Bearer feeds_not-a-real-token"}


def client_from(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_a_burst_of_bad_tokens_gets_429_with_retry_after(app: Flask) -> None:
    limit = app.extensions["feeds"].settings.api_auth_failure_limit
    allowed = int(limit.split()[0])
    guesser = client_from(app, "203.0.113.9")
    answers = [guesser.get("/api/v1/articles", headers=BAD) for _ in range(allowed + 20)]
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {401: allowed, 429: 20}
    refused = answers[-1]
    assert refused.json["status"] == 429
    assert "too many requests" in refused.json["error"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # Once over, even a right token from that address waits: it is the address that
    # was guessing.
    raw = app.extensions["feeds"].tokens.create("reader", ("articles:write",))
    good = {"Authorization": f"Bearer {raw}"}
    assert guesser.get("/api/v1/articles", headers=good).status_code == 429
    # Another client is not affected.
    assert client_from(app, "198.51.100.7").get("/api/v1/articles", headers=good).status_code == 200


def test_every_process_counts_together(database_url: str, clock: FakeClock) -> None:
    one = make_app(database_url, clock, api_auth_failure_limit="6 per minute")
    two = make_app(database_url, clock, api_auth_failure_limit="6 per minute")
    statuses = [
        client_from(app, "203.0.113.10").get("/api/v1/sources", headers=BAD).status_code
        for app in (one, two) * 5
    ]
    assert statuses == [401] * 6 + [429] * 4
    for app in (one, two):
        app.extensions["feeds"].ctx.store.dispose()


def test_the_whole_api_is_limited_per_client(database_url: str, clock: FakeClock) -> None:
    app = make_app(database_url, clock, api_rate_limit="5 per minute")
    raw = app.extensions["feeds"].tokens.create("busy", ("articles:write",))
    good = {"Authorization": f"Bearer {raw}"}
    client = client_from(app, "203.0.113.11")
    paths = ["/api/v1/articles", "/api/v1/tag-feeds", "/api/v1/sources"] * 3
    statuses = [client.get(path, headers=good).status_code for path in paths]
    assert statuses == [200] * 5 + [429] * 4
    # Feeds are never limited.
    assert {client.get("/feeds/all.rss").status_code for _ in range(20)} == {200}
    app.extensions["feeds"].ctx.store.dispose()


def test_sign_in_attempts_are_limited(database_url: str, clock: FakeClock) -> None:
    app = make_app(database_url, clock, login_rate_limit="3 per minute", login_max_failures=50)
    app.extensions["feeds"].users.create("alice", PASSWORD)
    client = client_from(app, "203.0.113.12")
    token = csrf_token(client)
    form = {"name": "alice", "password": "guess", "csrf_token": token}
    statuses = [client.post("/admin/login", data=form).status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 429, 429]
    page = client.post("/admin/login", data=form)
    html = page.get_data(as_text=True)
    assert page.status_code == 429
    assert 'href="/admin/static/admin.css"' in html
    assert "<h1>Too many requests</h1>" in html
    assert page.headers["Retry-After"].isdigit()
    # Showing the form is not an attempt.
    assert client.get("/admin/login").status_code == 200
    app.extensions["feeds"].ctx.store.dispose()


def redis_running() -> bool:
    try:
        import redis  # noqa: F401
    except ImportError:
        return False
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.mark.skipif(not redis_running(), reason="needs Redis on 127.0.0.1:6379 and `redis`")
def test_redis_storage_is_shared_too(database_url: str, clock: FakeClock) -> None:
    # A database number of its own and a fresh client address: other runs do not collide.
    settings = {
        "rate_limit_storage": "redis://127.0.0.1:6379/9",
        "api_auth_failure_limit": "4 per minute",
    }
    one = make_app(database_url, clock, **settings)
    two = make_app(database_url, clock, **settings)
    address = f"2001:db8::{uuid.uuid4().hex[:4]}"
    statuses = [
        client_from(app, address).get("/api/v1/articles", headers=BAD).status_code
        for app in (one, two, one, two, one, two)
    ]
    assert statuses == [401] * 4 + [429] * 2
    for app in (one, two):
        app.extensions["feeds"].ctx.store.dispose()


@pytest.mark.parametrize("name", ["api_rate_limit", "api_auth_failure_limit", "login_rate_limit"])
def test_a_bad_limit_names_the_setting(name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings({name: "lots per minute"}, environ={})
    assert getattr(load_settings({name: ""}, environ={}), name) == ""


def test_hub_subscription_requests_are_limited(database_url: str, clock: FakeClock) -> None:
    app = make_app(database_url, clock, api_rate_limit="3 per minute")
    client = client_from(app, "203.0.113.13")
    form = {"hub.mode": "subscribe", "hub.topic": "nowhere", "hub.callback": "nowhere"}
    statuses = [client.post("/websub", data=form).status_code for _ in range(5)]
    assert statuses[:3] != [429] * 3 and statuses[3:] == [429, 429]
    assert client.post("/websub", data=form).headers["Retry-After"].isdigit()
    # Reading the hub's page is not a subscription request.
    assert client.get("/websub").status_code == 200
    app.extensions["feeds"].ctx.store.dispose()
