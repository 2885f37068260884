"""No request answers 5xx: odd validators, NUL bytes, oversized cursors, deep JSON.

Routes are enumerated from the app's URL map, so a route added later is probed too.
Each probe runs on both databases (PostgreSQL refuses NUL in text and integers past
32 bits, where SQLite takes them).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.routing import AnyConverter, IntegerConverter

from feeds.service import Service
from tests.admin_helpers import login
from tests.conftest import article_payload
from tests.test_admin_security import url_for_rule

NUL = "a\x00b"
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
Headers = dict[str, str]


@pytest.fixture
def session(
    app: Flask, service: Service, admin_token: Headers
) -> Iterator[tuple[FlaskClient, Headers, str]]:
    """A client logged in to the admin, an admin token, and a CSRF token for forms."""
    client = app.test_client()
    csrf = login(client, service)
    created = client.post(
        "/api/v1/articles", json=article_payload(url=None, slug="cranes"), headers=admin_token
    )
    assert created.status_code == 201
    yield client, admin_token, csrf


def probe(client: FlaskClient, url: str, method: str, headers: Headers, **kwargs: Any) -> int:
    response = client.open(url, method=method, headers=headers, **kwargs)
    assert response.status_code < 500, (method, url, kwargs, response.get_data(as_text=True))
    return response.status_code


# --- conditional headers -----------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ['""', 'W/""', '"abc", ""', 'W/"", W/"x"', '"-gzip"', "W/", '"', "*"],
)
def test_odd_if_none_match_values_are_no_match(
    session: tuple[FlaskClient, Headers, str], value: str
) -> None:
    client, _, _ = session
    for fmt in ("rss", "atom", "json"):
        response = client.get(f"/feeds/all.{fmt}", headers={"If-None-Match": value})
        expected = 304 if value == "*" else 200
        assert response.status_code == expected, (fmt, value)


# --- NUL bytes ---------------------------------------------------------------------------


def test_nul_in_any_path_segment_is_never_a_500(
    app: Flask, session: tuple[FlaskClient, Headers, str]
) -> None:
    client, token, csrf = session
    probed = 0
    for rule in app.url_map.iter_rules():
        if not any(not isinstance(rule._converters[a], IntegerConverter | AnyConverter)
                   for a in rule.arguments):  # fmt: skip
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            url = url_for_rule(app, rule, method, NUL)
            data = {"csrf_token": csrf} if method in WRITES else None
            status = probe(client, url, method, token, data=data)
            if rule.rule.startswith(("/feeds/", "/articles/", "/api/")):
                assert status in (400, 404), (method, url, status)
            probed += 1
    assert probed >= 15


def test_nul_in_any_query_parameter_is_never_a_500(
    app: Flask, session: tuple[FlaskClient, Headers, str]
) -> None:
    client, token, _ = session
    params = ("q", "section", "hashtag", "status", "since", "limit", "offset", "page",
              "before", "next", "x")  # fmt: skip
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()) or rule.endpoint in ("static", "admin.static"):
            continue
        url = url_for_rule(app, rule, "GET", "cranes")
        for name in params:
            probe(client, url, "GET", token, query_string={name: NUL})


def nul_variants(payload: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The payload with NUL put into each string, at any depth; yields (field, payload)."""
    for key, value in payload.items():
        if isinstance(value, str):
            yield key, payload | {key: value + "\x00"}
        elif isinstance(value, list):
            yield key, payload | {key: [*value, NUL]}
        elif isinstance(value, dict):
            for inner, changed in nul_variants(value):
                yield f"{key}.{inner}", payload | {key: changed}
    yield "<key>", payload | {NUL: "x"}


SOURCE = {"url": "https://wire.example/feed", "name": "Wire", "section": "world",
          "hashtags": ["Wire"], "categories": {"Politics": "Politik"}}  # fmt: skip
TAG_FEED = {"slug": "harbour", "title": "Harbour", "description": "Ships",
            "any_of": ["Shipping"], "all_of": ["SouthKorea"], "none_of": ["Sponsored"],
            "sections": ["world"]}  # fmt: skip


@pytest.mark.parametrize(
    ("path", "methods", "payload"),
    [
        ("/api/v1/articles", ("POST",), article_payload(url=None)),
        ("/api/v1/articles/1", ("PUT", "PATCH"), article_payload(url=None)),
        ("/api/v1/tag-feeds", ("POST",), TAG_FEED),
        ("/api/v1/tag-feeds/preview", ("POST",), TAG_FEED),
        ("/api/v1/sources", ("POST",), SOURCE),
    ],
    ids=["articles", "article", "tag-feeds", "preview", "sources"],
)
def test_nul_in_any_json_string_is_refused_naming_the_field_or_cleaned(
    session: tuple[FlaskClient, Headers, str],
    path: str,
    methods: tuple[str, ...],
    payload: dict[str, Any],
    service: Service,
) -> None:
    client, token, _ = session
    for field, body in nul_variants(payload):
        for method in methods:
            response = client.open(path, method=method, json=body, headers=token)
            assert response.status_code < 500, (method, path, field, response.get_json())
            if response.status_code >= 400:
                fields = response.get_json().get("fields", {})
                named = field.split(".")[0]
                assert any(name.startswith(named) for name in fields) or field == "<key>", (
                    method, path, field, fields,
                )  # fmt: skip
            else:
                # Accepted: the NUL was cleaned away, not stored.
                assert "\\u0000" not in response.get_data(as_text=True), (method, path, field)
            # Undo what was created so the next probe starts from the same state.
            if response.status_code == 201 and path.endswith("tag-feeds"):
                assert client.delete(f"{path}/harbour", headers=token).status_code == 204
            if response.status_code == 201 and path.endswith("sources"):
                source_id = response.get_json()["id"]
                assert client.delete(f"{path}/{source_id}", headers=token).status_code == 204


def test_nul_in_admin_forms_is_never_a_500(
    app: Flask, session: tuple[FlaskClient, Headers, str]
) -> None:
    client, token, csrf = session
    fields = ("title", "slug", "description", "any_of", "all_of", "none_of", "sections",
              "limit", "url", "name", "section", "hashtags", "categories", "category_map",
              "interval_minutes", "retention_days", "max_items", "password", "new_password",
              "scopes", "next", "reason", "q")  # fmt: skip
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin/") or "POST" not in (rule.methods or set()):
            continue
        if rule.endpoint in ("admin.logout", "admin.login"):
            continue
        url = url_for_rule(app, rule, "POST", "x")
        for name in fields:
            probe(client, url, "POST", token, data={"csrf_token": csrf, name: NUL})


# --- cursors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cursor",
    [
        f"1-{2**31}",
        "1-99999999999999999",
        "999999999999999999-1",
        "1-²",
        "²-1",
        "-1",
        "1-",
        "1--1",
        "1-1-1",
        "\x00",
        "1-1\x00",
    ],
)
def test_cursors_beyond_the_columns_are_400(
    session: tuple[FlaskClient, Headers, str], cursor: str
) -> None:
    client, _, _ = session
    for path in ("/feeds/all.rss", "/feeds/sections/world.json", "/feeds/tags/shipping.atom"):
        response = client.get(path, query_string={"before": cursor})
        assert response.status_code == 400, (path, cursor, response.status_code)
        assert "before" in response.get_data(as_text=True)


# --- deep JSON ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/articles",
        "/api/v1/tag-feeds",
        "/api/v1/tag-feeds/preview",
        "/api/v1/sources",
    ],
)
@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_deeply_nested_json_is_400_naming_the_limit(
    session: tuple[FlaskClient, Headers, str], path: str, opening: str
) -> None:
    client, token, _ = session
    body = opening * 1000 + "1" + ("]" if opening == "[" else "}") * 1000
    assert 2000 <= len(body) <= 10_000
    response = client.post(path, data=body, content_type="application/json", headers=token)
    assert response.status_code == 400, response.get_data(as_text=True)
    problem = response.get_json()
    assert "nested" in problem["error"] and "32" in problem["error"]
    assert "body" in problem["fields"]


def test_nesting_within_the_limit_still_reaches_validation(
    session: tuple[FlaskClient, Headers, str],
) -> None:
    client, token, _ = session
    body = json.dumps(article_payload(title=[[[["deep but allowed"]]]]))
    response = client.post("/api/v1/articles", data=body, content_type="application/json",
                           headers=token)  # fmt: skip
    assert response.status_code == 422
    assert "title" in response.get_json()["fields"]


def test_brackets_inside_strings_do_not_count_as_nesting(
    session: tuple[FlaskClient, Headers, str],
) -> None:
    client, token, _ = session
    summary = '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{{{{\\"'
    body = json.dumps(article_payload(slug="brackets", summary=summary))
    response = client.post("/api/v1/articles", data=body, content_type="application/json",
                           headers=token)  # fmt: skip
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["summary"] == summary


# --- property: feed paths, query strings, conditional headers ---------------------------

SEGMENT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=12
) | st.sampled_from(["world", "shipping", "southkorea", "japan-watch", "%00", "..", "%2F"])
ETAG = st.sampled_from(['""', 'W/""', "*", '"x"', "W/", '"', ",", '"abc-gzip"', "", "\x7f"])
QUERY_VALUE = (
    st.text(max_size=25)
    | st.integers().map(str)
    | st.sampled_from([f"1-{2**31}", "1-1", "0", "-1", "9" * 30, "1e9", "²"])
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kind=st.sampled_from(["all", "trending", "sections", "tags", "custom", "articles", "feeds"]),
    name=SEGMENT,
    fmt=st.sampled_from(["rss", "atom", "json", "xml", ""]),
    query=st.dictionaries(
        st.sampled_from(["limit", "before", "page", "x"]), QUERY_VALUE, max_size=3
    ),
    tags=st.lists(ETAG, max_size=3),
    since=st.sampled_from(["", "Mon, 12 Jan 2026 17:23:00 GMT", "yesterday", "\x00", "0"]),
)
def test_feed_urls_never_answer_5xx(
    session: tuple[FlaskClient, Headers, str],
    kind: str,
    name: str,
    fmt: str,
    query: dict[str, str],
    tags: list[str],
    since: str,
) -> None:
    client, _, _ = session
    name = quote(name, safe="%")  # "%00" and "%2F" stay escapes; "?" and "#" get one
    if kind in ("all", "trending"):
        path = f"/feeds/{kind}.{fmt}"
    elif kind == "articles":
        path = f"/articles/{name}"
    elif kind == "feeds":
        path = f"/feeds/{name}"
    else:
        path = f"/feeds/{kind}/{name}.{fmt}"
    headers = {}
    if tags:
        headers["If-None-Match"] = ", ".join(tags)
    if since:
        headers["If-Modified-Since"] = since
    response = client.get(path, query_string=query, headers=headers)
    assert response.status_code < 500, (path, query, headers, response.get_data(as_text=True))
