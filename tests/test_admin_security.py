"""Who may change what: every write route is guarded, sessions and CSRF behave.

The route tests enumerate `app.url_map`, so a route added later without protection
fails here instead of shipping open.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import AnyConverter, IntegerConverter, Rule

from feeds.service import Service
from feeds.service.tokens import SCOPES
from tests.admin_helpers import PASSWORD, csrf_token, login, post
from tests.conftest import FakeClock, make_app

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# POST routes that change nothing: they still need a token, but no scope.
READ_ONLY_POSTS = {"/api/v1/tag-feeds/preview"}
# Routes outside /api/ and /admin/ that may accept writes (none today).
# Writes anyone may send by design: the WebSub hub takes subscription requests from any
# subscriber (it verifies intent with the callback before anything is stored), and a
# source's callback takes deliveries from its hub (behind an unguessable token, and
# ingested only when signed with the secret we gave that hub).
PUBLIC_WRITES: set[str] = {"/websub", "/websub/callback/<token>"}


def url_for_rule(app: Flask, rule: Rule, method: str, text: str = "x") -> str:
    """A URL for *rule*: 1 for numbers, the first choice of `any()`, *text* otherwise."""
    values: dict[str, Any] = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        if isinstance(converter, IntegerConverter):
            values[name] = 1
        elif isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        else:
            values[name] = text
    return app.url_map.bind("localhost").build(rule.endpoint, values, method=method)


def write_routes(app: Flask) -> Iterator[tuple[Rule, str, str]]:
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) & WRITES):
            yield rule, method, url_for_rule(app, rule, method)


@pytest.fixture
def nocsrf_app(database_url: str, clock: FakeClock) -> Iterator[Flask]:
    app = make_app(database_url, clock)
    app.config["WTF_CSRF_ENABLED"] = False
    yield app
    app.extensions["feeds"].ctx.store.dispose()


def test_every_write_route_is_guarded(app: Flask, service: Service) -> None:
    client = app.test_client()
    seen_api = seen_admin = 0
    for rule, method, url in write_routes(app):
        response = client.open(url, method=method, json={})
        if rule.rule.startswith("/api/"):
            seen_api += 1
            assert response.status_code == 401, (method, url)
            view = app.view_functions[rule.endpoint]
            scope = getattr(view, "required_scope", None)
            if rule.rule in READ_ONLY_POSTS:
                continue
            assert scope in SCOPES, f"{method} {rule.rule} needs a scope"
            others = tuple(s for s in SCOPES if s != scope)
            raw = service.tokens.create(f"t{seen_api}", others)
            refused = client.open(
                url, method=method, json={}, headers={"Authorization": f"Bearer {raw}"}
            )
            assert refused.status_code == 403, (method, url)
        elif rule.rule.startswith("/admin/"):
            seen_admin += 1
            # No CSRF token (and no session): refused before the view runs.
            assert response.status_code == 400, (method, url)
        else:
            assert rule.rule in PUBLIC_WRITES, f"{method} {rule.rule} is not guarded"
    assert seen_api >= 8 and seen_admin >= 5


def test_admin_writes_without_a_session_go_to_login(nocsrf_app: Flask) -> None:
    client = nocsrf_app.test_client()
    for rule, method, url in write_routes(nocsrf_app):
        if not rule.rule.startswith("/admin/") or rule.endpoint == "admin.login":
            continue
        response = client.open(url, method=method, data={})
        assert response.status_code == 302, (method, url)
        assert urlsplit(response.headers["Location"]).path == "/admin/login"


def test_anonymous_visits_to_admin_pages_end_at_login(app: Flask) -> None:
    client = app.test_client()
    pages = [
        url_for_rule(app, rule, "GET")
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/admin")
        and "GET" in (rule.methods or set())
        and rule.endpoint not in {"admin.login", "admin.static"}
    ]
    assert len(pages) >= 6
    for page in pages:
        response = client.get(page, follow_redirects=True)
        assert response.request.path == "/admin/login", page
        assert response.status_code == 200
        assert 'name="password"' in response.get_data(as_text=True)


def test_form_without_csrf_token_is_refused(client: FlaskClient, service: Service) -> None:
    login(client, service)
    form = {"title": "Sneaky", "slug": "sneaky", "any_of": "Japan"}
    response = client.post("/admin/tag-feeds/new", data=form)
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert "sneaky" not in {f.slug for f in service.catalog.tag_feeds()}
    wrong = client.post("/admin/tag-feeds/new", data=form | {"csrf_token": "forged"})
    assert wrong.status_code == 400


def test_login_needs_csrf_token_too(client: FlaskClient, service: Service) -> None:
    service.users.create("alice", PASSWORD)
    response = client.post("/admin/login", data={"name": "alice", "password": PASSWORD})
    assert response.status_code == 400


def test_session_cookie_flags(app: Flask, service: Service) -> None:
    service.users.create("alice", PASSWORD)
    for base, secure in (("http://localhost", False), ("https://localhost", True)):
        client = app.test_client()
        token = csrf_token(client)
        response = client.post(
            "/admin/login",
            data={"name": "alice", "password": PASSWORD, "csrf_token": token},
            base_url=base,
            headers={"Referer": f"{base}/admin/login"},
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie
        assert ("Secure" in cookie) is secure, cookie


def test_login_is_throttled_per_address(client: FlaskClient, service: Service) -> None:
    service.users.create("alice", PASSWORD)
    token = csrf_token(client)
    for _ in range(service.settings.login_max_failures):
        bad = client.post(
            "/admin/login", data={"name": "alice", "password": "wrong", "csrf_token": token}
        )
        assert bad.status_code == 401
    good = client.post(
        "/admin/login", data={"name": "alice", "password": PASSWORD, "csrf_token": token}
    )
    assert good.status_code == 429
    assert "Try again" in good.get_data(as_text=True)
    elsewhere = client.post(
        "/admin/login",
        data={"name": "alice", "password": PASSWORD, "csrf_token": token},
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert elsewhere.status_code == 302


def test_parallel_guesses_cannot_outrun_the_lockout(app: Flask, service: Service) -> None:
    """Thirty guesses at once still get at most `login_max_failures` password checks."""
    app.config["WTF_CSRF_ENABLED"] = False
    service.users.create("alice", PASSWORD)
    statuses: Counter[int] = Counter()
    barrier = threading.Barrier(30)
    lock = threading.Lock()

    def guess(n: int) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post("/admin/login", data={"name": "alice", "password": f"no-{n}"})
        with lock:
            statuses[response.status_code] += 1

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses[401] <= service.settings.login_max_failures
    assert statuses[401] + statuses[429] == 30


def test_login_redirects_only_inside_admin(client: FlaskClient, service: Service) -> None:
    service.users.create("alice", PASSWORD)
    for target, landing in (
        ("/admin/audit", "/admin/audit"),
        ("//evil.example/admin/", "/admin/"),
        ("https://evil.example/", "/admin/"),
    ):
        token = csrf_token(client)  # logging in starts a new session, with a new token
        response = client.post(
            "/admin/login",
            query_string={"next": target},
            data={"name": "alice", "password": PASSWORD, "csrf_token": token},
        )
        assert response.headers["Location"] == landing


def test_sessions_end_on_logout_disable_and_age(
    client: FlaskClient, service: Service, clock: FakeClock
) -> None:
    token = login(client, service)
    assert client.get("/admin/").status_code == 200
    post(client, "/admin/logout", token)
    assert client.get("/admin/").status_code == 302

    login(client, service)
    service.users.set_disabled("alice", True)
    assert client.get("/admin/").status_code == 302
    service.users.set_disabled("alice", False)

    login(client, service)
    clock.advance(hours=13)
    assert client.get("/admin/").status_code == 302


def test_only_the_login_page_begins_a_session(app: Flask) -> None:
    # A browser applies answers in the order they arrive. An answer to a request sent
    # without a session that set the cookie (a stale form's page minting a token) or
    # deleted it (a redirect to login) could land after another tab's login page and
    # replace the session its form's token belongs to.
    client = app.test_client(use_cookies=False)
    answered = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or rule.endpoint == "admin.login":
            continue
        for method in sorted((rule.methods or set()) & (WRITES | {"GET"})):
            url = url_for_rule(app, rule, method)
            response = client.open(url, method=method, data={"title": "Typed"})
            assert "Set-Cookie" not in response.headers, (method, url, response.status_code)
            answered += 1
    missing = client.get("/admin/no-such-page")
    assert missing.status_code == 404 and "Set-Cookie" not in missing.headers
    assert answered >= 20
    assert "Set-Cookie" in client.get("/admin/login").headers


def test_admin_pages_are_not_cached_or_framed(client: FlaskClient, service: Service) -> None:
    login(client, service)
    response = client.get("/admin/")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_api_is_exempt_from_csrf(client: FlaskClient, admin_token: dict[str, str]) -> None:
    body = {"slug": "japan", "title": "Japan", "any_of": ["Japan"]}
    response = client.post("/api/v1/tag-feeds", json=body, headers=admin_token)
    assert response.status_code == 201
