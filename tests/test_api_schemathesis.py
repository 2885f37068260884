"""Schemathesis drives every API operation with inputs generated from the OpenAPI
document the app serves: never a 5xx, and every answer matches the document (status,
content type and body).

Runs on SQLite, and on PostgreSQL when FEEDS_TEST_DATABASE_URL names it, like the rest
of the suite. Each operation gets a store of its own holding the demo and the config
files' sources, whose only URL is a `file:` one: a refresh never leaves the machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from jsonschema import Draft202012Validator
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import FakeClock, make_app

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def api_app(database_url: str, clock: FakeClock) -> Iterator[Flask]:
    # No rate limits: hundreds of requests from one client are the point here.
    app = make_app(
        database_url, clock, load_demo=True, api_rate_limit="", api_auth_failure_limit=""
    )
    yield app
    app.extensions["feeds"].ctx.store.dispose()


@pytest.fixture
def api_token(api_app: Flask) -> dict[str, str]:
    raw = api_app.extensions["feeds"].tokens.create("schemathesis", ("articles:write", "admin"))
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def api_schema(api_app: Flask, api_token: dict[str, str]) -> Any:
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api_app, headers=api_token)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_never_fails_and_matches_its_document(
    case: schemathesis.Case, api_token: dict[str, str]
) -> None:
    response = case.call(headers=api_token)
    case.validate_response(response, checks=CHECKS)


def served_document(client: FlaskClient) -> dict[str, Any]:
    document: dict[str, Any] = client.get("/api/v1/openapi.json").get_json()
    return document


@pytest.mark.parametrize(
    ("component", "payload"),
    [
        ("ArticleInput", {"title": "", "author": "A", "section": "world"}),
        ("ArticleInput", {"title": "T", "author": "", "section": "world"}),
        ("ArticleInput", {"title": "T", "author": "A", "section": ""}),
        ("ArticleInput", {"title": "T" * 301, "author": "A", "section": "world"}),
        ("ArticleInput", {"title": "T", "author": "A", "section": "world", "guid": "x"}),
        ("ArticleInput", {"title": "T", "author": "A", "section": "world", "colour": "red"}),
        ("ArticleInput", {"title": "T", "author": "A", "section": "world", "published_at": ""}),
        ("ArticleInput", {"title": "T", "author": "A", "section": "world", "slug": "Not A Slug"}),
        ("SourceInput", {"name": "", "url": "https://example.org/feed", "section": "world"}),
        ("TagFeedInput", {"slug": "x", "title": "", "any_of": ["Japan"]}),
        ("TagFeedInput", {"slug": "x", "title": "Everything"}),
        ("TagFeedInput", {"slug": "x", "title": "Nothing", "any_of": [], "sections": []}),
    ],
)
def test_the_document_refuses_what_the_api_refuses(
    component: str, payload: dict[str, Any], client: FlaskClient, admin_token: dict[str, str]
) -> None:
    document = served_document(client)
    schema = {"$ref": f"#/components/schemas/{component}", "components": document["components"]}
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert list(validator.iter_errors(payload)), f"the document accepts {payload}"
    path = {"ArticleInput": "/articles", "SourceInput": "/sources", "TagFeedInput": "/tag-feeds"}
    answer = client.post(f"/api/v1{path[component]}", json=payload, headers=admin_token)
    assert answer.status_code == 422, answer.get_json()


def test_the_document_refuses_an_empty_since(
    client: FlaskClient, admin_token: dict[str, str]
) -> None:
    document = served_document(client)
    (since,) = [
        p for p in document["paths"]["/articles"]["get"]["parameters"] if p["name"] == "since"
    ]
    validator = Draft202012Validator(
        since["schema"], format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    assert list(validator.iter_errors(""))
    assert client.get("/api/v1/articles?since=", headers=admin_token).status_code == 422
