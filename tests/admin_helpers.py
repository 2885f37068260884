"""Helpers for the admin UI tests: users, CSRF tokens, logging in."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from feeds.service import Service

PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/admin/login") -> str:
    page = client.get(path)
    found = _TOKEN.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def login(client: FlaskClient, service: Service, name: str = "alice") -> str:
    """Create the user if needed, log in, and return a CSRF token for later posts."""
    if service.users.active(name) is None:
        service.users.create(name, PASSWORD)
    token = csrf_token(client)
    response = client.post(
        "/admin/login", data={"name": name, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return csrf_token(client, "/admin/")


def post(client: FlaskClient, path: str, token: str, **data: object) -> TestResponse:
    return client.post(path, data={"csrf_token": token, **data})  # type: ignore[dict-item]
