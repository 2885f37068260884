"""Every response carries a Content-Security-Policy: no script on public pages, feeds
and their pages, only the admin's own script files in the admin.

What the policies do in a browser is checked in test_xss_browser.py; here, that each
response names the right one and that no admin page needs what its policy forbids.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import html

from feeds.service import Service
from tests.admin_helpers import PASSWORD, login
from tests.conftest import article_payload
from tests.test_admin_security import url_for_rule

Headers = dict[str, str]


def policy(response: Any) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request.path}"
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *values = part.split()
        assert name not in directives, f"{name} twice in {header!r}"
        directives[name] = values
    return directives


def scripts_allowed(directives: dict[str, list[str]]) -> list[str]:
    return directives.get("script-src", directives.get("default-src", []))


@pytest.fixture
def one_article(client: FlaskClient, writer_token: Headers) -> dict[str, Any]:
    response = client.post(
        "/api/v1/articles", json=article_payload(url=None, slug="cranes"), headers=writer_token
    )
    assert response.status_code == 201
    body: dict[str, Any] = response.get_json()
    return body


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
@pytest.mark.parametrize("accept", ["*/*", "text/html"])
def test_feeds_and_their_pages_allow_no_script(
    client: FlaskClient, one_article: dict[str, Any], fmt: str, accept: str
) -> None:
    for path in (
        f"/feeds/all.{fmt}",
        f"/feeds/sections/world.{fmt}",
        f"/feeds/tags/shipping.{fmt}",
    ):
        response = client.get(path, headers={"Accept": accept})
        assert response.status_code == 200, path
        assert response.mimetype == ("text/html" if accept == "text/html" else response.mimetype)
        directives = policy(response)
        assert directives["default-src"] == ["'none'"]
        assert scripts_allowed(directives) == ["'none'"]
        assert directives["base-uri"] == ["'none'"] and directives["form-action"] == ["'none'"]
        # A conditional hit carries the same policy.
        headers = {"Accept": accept, "If-None-Match": response.headers["ETag"]}
        again = client.get(path, headers=headers)
        assert again.status_code == 304
        assert policy(again) == directives


def test_public_pages_and_api_answers_forbid_script(
    client: FlaskClient, writer_token: Headers, one_article: dict[str, Any]
) -> None:
    for path, status in (
        ("/feeds/", 200),
        ("/feeds.opml", 200),
        ("/articles/cranes", 200),
        ("/articles/missing", 404),
        ("/healthz", 200),
        ("/nowhere", 404),
        ("/api/v1/articles", 200),
        (f"/api/v1/articles/{one_article['id']}", 200),
    ):
        response = client.get(path, headers=writer_token)
        assert response.status_code == status, path
        directives = policy(response)
        assert directives["default-src"] == ["'none'"], path
        assert "script-src" not in directives, path
        assert directives["frame-ancestors"] == ["'none'"], path


def admin_pages(app: Flask) -> list[str]:
    pages = []
    for rule in app.url_map.iter_rules():
        gets = "GET" in (rule.methods or set())
        if rule.rule.startswith("/admin/") and gets and rule.endpoint != "admin.static":
            pages.append(url_for_rule(app, rule, "GET"))
    return pages


def test_admin_pages_run_only_their_own_script_files(
    app: Flask, client: FlaskClient, service: Service, admin_token: Headers
) -> None:
    # Give the pages with an id or slug in their path something to show.
    tag_feed = {"slug": "x", "title": "Harbour", "any_of": ["Shipping"]}
    assert client.post("/api/v1/tag-feeds", json=tag_feed, headers=admin_token).status_code == 201
    source = {"url": "https://wire.example/feed", "name": "Wire", "section": "world"}
    assert client.post("/api/v1/sources", json=source, headers=admin_token).status_code == 201
    article = article_payload(published_at="2026-01-12T17:23:00+09:00")
    assert client.post("/api/v1/articles", json=article, headers=admin_token).status_code == 201
    service.users.create("x", PASSWORD)
    service.tokens.create("x", ("admin",))
    login(client, service)
    pages = admin_pages(app)
    assert len(pages) >= 8
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        directives = policy(response)
        assert scripts_allowed(directives) == ["'self'"], path
        assert directives["style-src"] == ["'self'"], path
        assert directives["object-src"] == ["'none'"], path
        assert directives["frame-ancestors"] == ["'none'"], path
        root = html.fromstring(response.get_data(as_text=True))
        for script in root.iter("script"):
            assert script.get("src") and not (script.text or "").strip(), path
        assert not list(root.iter("style")), path
        for element in root.iter():
            if not isinstance(element.tag, str):
                continue
            names = set(element.attrib)
            assert "style" not in names, (path, element.tag)
            handlers = {n for n in names if n.startswith("on")}
            assert not handlers, (path, element.tag, handlers)
            for name in ("href", "src", "action", "formaction"):
                value = (element.get(name) or "").strip().lower()
                assert not value.startswith("javascript:"), (path, element.tag, name)


def test_admin_static_files_are_served_under_the_admin_policy(client: FlaskClient) -> None:
    for name in ("admin.js", "tag_feed_form.js", "admin.css"):
        response = client.get(f"/admin/static/{name}")
        assert response.status_code == 200, name
        assert scripts_allowed(policy(response)) == ["'self'"]
