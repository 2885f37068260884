"""The session key is the deployment's, not the process's: generated once, kept in the
store, shared by every process and kept across restarts; an explicit setting wins."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from sqlalchemy import select

from feeds.store.schema import instance_secrets
from tests.admin_helpers import login, post
from tests.conftest import FakeClock, bare_app, make_app

SESSION_COOKIE = "session"


def stored_keys(app: Flask) -> list[str]:
    with app.extensions["feeds"].ctx.store.read() as conn:
        return [row.value for row in conn.execute(select(instance_secrets.c.value))]


def shared_app(database_url: str, clock: FakeClock) -> Flask:
    return make_app(database_url, clock, secret_key="")


def test_init_generates_one_key_kept_in_the_store(database_url: str, clock: FakeClock) -> None:
    first = shared_app(database_url, clock)
    second = shared_app(database_url, clock)
    keys = stored_keys(first)
    assert len(keys) == 1
    assert len(keys[0]) >= 32
    assert first.extensions["feeds"].secret_key.get().value == keys[0]
    assert second.extensions["feeds"].secret_key.get().value == keys[0]


def test_two_processes_accept_each_others_sessions_and_forms(
    database_url: str, clock: FakeClock
) -> None:
    one = shared_app(database_url, clock)
    other = shared_app(database_url, clock)
    client = one.test_client()
    token = login(client, one.extensions["feeds"])
    cookie = client.get_cookie(SESSION_COOKIE)
    assert cookie is not None

    elsewhere = other.test_client()
    elsewhere.set_cookie(SESSION_COOKIE, cookie.value)
    assert elsewhere.get("/admin/").status_code == 200
    # A form served by the first process posts to the second one.
    answer = post(elsewhere, "/admin/logout", token)
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/admin/login")


def test_a_restart_keeps_sessions(database_url: str, clock: FakeClock) -> None:
    before = shared_app(database_url, clock)
    client = before.test_client()
    login(client, before.extensions["feeds"])
    cookie = client.get_cookie(SESSION_COOKIE)
    assert cookie is not None
    before.extensions["feeds"].ctx.store.dispose()

    after = shared_app(database_url, clock)
    restarted = after.test_client()
    restarted.set_cookie(SESSION_COOKIE, cookie.value)
    page = restarted.get("/admin/")
    assert page.status_code == 200
    assert "alice" in page.get_data(as_text=True)


def test_the_setting_wins_and_the_log_says_which_key_is_used(
    database_url: str, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="feeds.service.secret_key"):
        generated = shared_app(database_url, clock)
    assert "secret key: generated" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="feeds.service.secret_key"):
        shared_app(database_url, clock)
    assert "secret key: from the store" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="feeds.service.secret_key"):
        explicit = make_app(database_url, clock, secret_key="from-the-setting")
    assert "secret key: from the secret_key setting" in caplog.text
    assert explicit.extensions["feeds"].secret_key.get().value == "from-the-setting"

    # A cookie signed with the stored key means nothing where the setting rules.
    client = generated.test_client()
    login(client, generated.extensions["feeds"])
    cookie = client.get_cookie(SESSION_COOKIE)
    assert cookie is not None
    other = explicit.test_client()
    other.set_cookie(SESSION_COOKIE, cookie.value)
    assert other.get("/admin/").status_code == 302


def test_feeds_never_read_the_key(database_url: str, clock: FakeClock) -> None:
    app = bare_app(database_url, clock, secret_key="")
    assert app.test_client().get("/feeds/all.rss").status_code == 200
    assert app.config["SECRET_KEY"] is None
    assert app.test_client().get("/admin/login").status_code == 200
    assert app.config["SECRET_KEY"] == stored_keys(app)[0]


def test_an_unmigrated_store_answers_503_under_admin(
    empty_database_url: str, clock: FakeClock
) -> None:
    app = bare_app(empty_database_url, clock, secret_key="")
    page = app.test_client().get("/admin/login")
    assert page.status_code == 503
    assert app.config["SECRET_KEY"] is None
