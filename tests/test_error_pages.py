"""Error answers: the admin's own layout under /admin, JSON under /api, a plain page
elsewhere; a stale admin form keeps what was typed."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from flask.testing import FlaskClient

from feeds.errors import StorageError
from feeds.service import Service
from tests.admin_helpers import PASSWORD, login, post

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


class FormReader(HTMLParser):
    """The inputs and textareas of the page's forms, as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, list[tuple[str, str]]]] = []
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((found.get("action", ""), []))
        elif tag == "input" and self.forms and "name" in found:
            self.forms[-1][1].append((found["name"], found.get("value", "")))
        elif tag == "textarea" and self.forms and "name" in found:
            self._textarea = found["name"]
            self.forms[-1][1].append((found["name"], ""))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            name, value = self.forms[-1][1].pop()
            self.forms[-1][1].append((name, value + data))

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None


def forms(html: str) -> list[tuple[str, list[tuple[str, str]]]]:
    reader = FormReader()
    reader.feed(html)
    return reader.forms


def admin_layout(html: str) -> bool:
    return 'href="/admin/static/admin.css"' in html


def test_admin_404_in_the_admin_layout_with_a_way_back(
    client: FlaskClient, service: Service
) -> None:
    login(client, service)
    for path in ("/admin/no-such-page", "/admin/tag-feeds/no-such-feed"):
        page = client.get(path, headers=HTML)
        html = page.get_data(as_text=True)
        assert page.status_code == 404, path
        assert admin_layout(html)
        assert "<h1>Page not found</h1>" in html
        assert 'href="/admin/">Back to the dashboard' in html
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_admin_404_signed_out_offers_sign_in(client: FlaskClient) -> None:
    page = client.get("/admin/no-such-page")
    html = page.get_data(as_text=True)
    assert page.status_code == 404
    assert admin_layout(html)
    assert 'href="/admin/login?next=/admin/no-such-page">Sign in' in html
    assert "Back to the dashboard" not in html


def test_admin_405_names_the_methods(client: FlaskClient, service: Service) -> None:
    token = login(client, service)
    page = post(client, "/admin/audit", token)
    assert page.status_code == 405
    assert admin_layout(page.get_data(as_text=True))
    assert "GET" in page.headers["Allow"]
    assert "<h1>Method not allowed</h1>" in page.get_data(as_text=True)


def test_admin_503_when_the_store_fails(
    client: FlaskClient, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    login(client, service)

    def broken(*args: object, **kwargs: object) -> None:
        raise StorageError("the store is unavailable: connection refused to db.internal:5432")

    monkeypatch.setattr(service.audit, "entries", broken)
    page = client.get("/admin/audit")
    html = page.get_data(as_text=True)
    assert page.status_code == 503
    assert page.headers["Retry-After"].isdigit()
    assert admin_layout(html)
    assert "<h1>Temporarily unavailable</h1>" in html
    assert "db.internal" not in html


def test_admin_429_login_throttle_in_the_admin_layout(
    client: FlaskClient, service: Service
) -> None:
    service.users.create("alice", PASSWORD)
    page = client.get("/admin/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert token
    for _ in range(service.settings.login_max_failures + 1):
        answer = client.post(
            "/admin/login",
            data={"name": "alice", "password": "wrong", "csrf_token": token.group(1)},
        )
    assert answer.status_code == 429
    assert admin_layout(answer.get_data(as_text=True))
    assert "Too many failed attempts" in answer.get_data(as_text=True)


def test_stale_form_keeps_what_was_typed_and_sends_again(
    client: FlaskClient, service: Service
) -> None:
    login(client, service)
    typed = {
        "title": "Harbour <watch>",
        "slug": "harbour-watch",
        "description": "Ships, cranes and the people who work them.\nSecond line.",
        "any_of": "#Shipping #SouthKorea",
        "sections": ["world", "business"],
        "csrf_token": "from-before-the-restart",
    }
    page = client.post("/admin/tag-feeds/new", data=typed)
    html = page.get_data(as_text=True)
    assert page.status_code == 400
    assert admin_layout(html)
    assert "This form expired" in html
    assert "harbour-watch" not in {f.slug for f in service.catalog.tag_feeds()}

    (action, fields) = next(f for f in forms(html) if f[0] == "/admin/tag-feeds/new")
    values: dict[str, list[str]] = {}
    for name, value in fields:
        values.setdefault(name, []).append(value)
    assert values["title"] == ["Harbour <watch>"]
    assert values["description"] == [typed["description"]]
    assert values["sections"] == ["world", "business"]
    assert values["csrf_token"][0] != "from-before-the-restart"

    again = client.post(action, data=values)
    assert again.status_code == 302, again.get_data(as_text=True)
    saved = service.catalog.tag_feed("harbour-watch")
    assert saved.title == "Harbour <watch>"


def test_stale_form_never_echoes_passwords(client: FlaskClient, service: Service) -> None:
    login(client, service)
    page = client.post(
        "/admin/users",
        data={"name": "bob", "password": "s3cret-typed", "csrf_token": "stale"},
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "s3cret-typed" not in html
    assert 'value="bob"' in html


def test_stale_form_after_the_session_ended(client: FlaskClient, service: Service) -> None:
    page = client.post(
        "/admin/tag-feeds/new", data={"title": "Kept", "slug": "kept", "csrf_token": "old"}
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 400
    assert admin_layout(html)
    assert "Your session ended too" in html
    assert ">Kept</textarea>" in html
    assert 'href="/admin/login">sign in' in html or "/admin/login?next=" in html


def test_api_errors_are_json(client: FlaskClient, writer_token: dict[str, str]) -> None:
    missing = client.get("/api/v1/no-such-thing", headers=HTML)
    assert missing.status_code == 404
    assert missing.json == {"error": missing.json["error"], "status": 404}
    wrong = client.put("/api/v1/openapi.json", headers=writer_token)
    assert wrong.status_code == 405
    assert wrong.json["status"] == 405
    assert "GET" in wrong.headers["Allow"]


def test_public_errors_are_a_plain_page(client: FlaskClient) -> None:
    page = client.get("/feeds/no-such-thing.rss", headers=HTML)
    html = page.get_data(as_text=True)
    assert page.status_code == 404
    assert page.content_type.startswith("text/html")
    assert '<a href="http://localhost/feeds/">All feeds</a>' in html
    assert "admin" not in html
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
    text = client.get("/feeds/no-such-thing.rss")
    assert text.content_type.startswith("text/plain")
    assert text.get_data(as_text=True).startswith("404: ")
    wrong = client.post("/feeds/all.rss", headers=HTML)
    assert wrong.status_code in (400, 405)
