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
from hypothesis import HealthCheck, settings
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
