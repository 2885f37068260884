"""Accounts in the admin UI and the CLI: own password, resets, removal, API tokens."""

from __future__ import annotations

import json
import re

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from feeds.service import Service
from tests.admin_helpers import PASSWORD, csrf_token, login, post
from tests.conftest import FakeClock

NEW = "a much longer passphrase"


def audit(service: Service, kind: str) -> list[tuple[str, str, str]]:
    return [(e.actor, e.action, e.target_id) for e in service.audit.entries(target_kind=kind)]


def signed_in(client: FlaskClient) -> bool:
    return client.get("/admin/").status_code == 200


def test_change_own_password_keeps_this_session_and_ends_the_others(
    app: Flask, service: Service, clock: FakeClock
) -> None:
    here, elsewhere = app.test_client(), app.test_client()
    token = login(here, service)
    login(elsewhere, service)
    clock.advance(seconds=5)
    response = post(
        here, "/admin/account", token,
        current_password=PASSWORD, new_password=NEW, repeat_password=NEW,
    )  # fmt: skip
    assert response.status_code == 302
    assert signed_in(here)
    assert not signed_in(elsewhere)
    assert service.users.authenticate("alice", NEW, "10.1.1.1") is not None
    assert service.users.authenticate("alice", PASSWORD, "10.1.1.1") is None
    assert audit(service, "user") == [("user:alice", "change_password", "alice")]
    # Never the hash, never the password.
    entry = service.audit.entries(target_kind="user")[0]
    assert entry.before is None and entry.after is None


def test_own_password_errors_are_tied_to_their_fields(app: Flask, service: Service) -> None:
    client = app.test_client()
    token = login(client, service)
    wrong = post(
        client, "/admin/account", token,
        current_password="not it at all", new_password=NEW, repeat_password=NEW,
    )  # fmt: skip
    assert wrong.status_code == 422
    page = wrong.get_data(as_text=True)
    assert re.search(
        r'id="field-current_password"[^>]*aria-describedby="error-current_password"'
        r' aria-invalid="true"',
        page,
    )
    assert 'id="error-current_password">is not your current password' in page
    mismatch = post(
        client, "/admin/account", token,
        current_password=PASSWORD, new_password=NEW, repeat_password=NEW + "!",
    )  # fmt: skip
    assert mismatch.status_code == 422
    assert 'id="error-repeat_password">does not match' in mismatch.get_data(as_text=True)
    short = post(
        client, "/admin/account", token,
        current_password=PASSWORD, new_password="short", repeat_password="short",
    )  # fmt: skip
    assert 'id="error-new_password">must be at least 10' in short.get_data(as_text=True)
    assert service.users.authenticate("alice", PASSWORD, "10.1.1.1") is not None
    assert audit(service, "user") == []


def test_another_admin_resets_a_password_and_their_sessions_end(
    app: Flask, service: Service, clock: FakeClock
) -> None:
    bob = app.test_client()
    login(bob, service, "bob")
    alice = app.test_client()
    token = login(alice, service)
    clock.advance(seconds=5)
    assert "New password for bob" in alice.get("/admin/users/bob/password").get_data(True)
    done = post(alice, "/admin/users/bob/password", token, password=NEW, repeat_password=NEW)
    assert done.status_code == 302
    assert not signed_in(bob)
    assert service.users.authenticate("bob", NEW, "10.1.1.2") is not None
    assert ("user:alice", "reset_password", "bob") in audit(service, "user")
    # Your own password goes through Account, which asks for the current one.
    own = post(alice, "/admin/users/alice/password", token, password=NEW, repeat_password=NEW)
    assert own.status_code == 409
    assert post(alice, "/admin/users/nobody/password", token).status_code == 404


def test_users_are_added_disabled_and_removed_after_a_confirmation(
    app: Flask, service: Service
) -> None:
    client = app.test_client()
    token = login(client, service)
    made = post(client, "/admin/users", token, name="carol", password=NEW, repeat_password=NEW)
    assert made.status_code == 302
    assert service.users.find("carol") is not None
    again = post(client, "/admin/users", token, name="carol", password=NEW, repeat_password=NEW)
    assert again.status_code == 422 and "exists" in again.get_data(as_text=True)

    assert post(client, "/admin/users/carol/disable", token).status_code == 302
    assert service.users.active("carol") is None
    confirm = client.get("/admin/users/carol/remove").get_data(as_text=True)
    assert "Remove user carol?" in confirm and "Remove user carol</button>" in confirm
    assert service.users.find("carol") is not None  # asking removes nothing
    assert post(client, "/admin/users/carol/remove", token).status_code == 302
    assert service.users.find("carol") is None
    assert post(client, "/admin/users/alice/remove", token).status_code == 409
    assert [a for _, a, t in audit(service, "user") if t == "carol"] == [
        "delete", "disable", "create",
    ]  # fmt: skip


def test_tokens_are_shown_once_and_revoked(app: Flask, service: Service) -> None:
    client = app.test_client()
    token = login(client, service)
    made = post(client, "/admin/tokens", token, name="desk-bot", scopes="articles:write")
    assert made.status_code == 201
    page = made.get_data(as_text=True)
    raw = re.search(r'id="token-value" class="url" readonly value="(feeds_[^"]+)"', page)
    assert raw is not None
    headers = {"Authorization": f"Bearer {raw.group(1)}"}
    assert client.get("/api/v1/articles", headers=headers).status_code == 200
    # Shown once: neither the listing nor the session cookie carries it afterwards.
    listing = client.get("/admin/tokens").get_data(as_text=True)
    assert raw.group(1) not in listing and "desk-bot" in listing
    assert "Set-Cookie" not in made.headers or raw.group(1) not in made.headers["Set-Cookie"]
    (record,) = service.tokens.list()
    assert record.scopes == ("articles:write",)

    none = post(client, "/admin/tokens", token, name="nothing")
    assert none.status_code == 422 and 'id="error-scopes"' in none.get_data(as_text=True)
    clash = post(client, "/admin/tokens", token, name="desk-bot", scopes="admin")
    assert clash.status_code == 409

    assert "Revoke token desk-bot?" in client.get("/admin/tokens/desk-bot/revoke").get_data(True)
    assert post(client, "/admin/tokens/desk-bot/revoke", token).status_code == 302
    assert client.get("/api/v1/articles", headers=headers).status_code == 401
    assert client.get("/admin/tokens/desk-bot/revoke").status_code == 404
    assert audit(service, "token") == [
        ("user:alice", "revoke", "desk-bot"), ("user:alice", "create", "desk-bot"),
    ]  # fmt: skip


def test_account_pages_need_a_session_and_a_csrf_token(app: Flask, service: Service) -> None:
    client = app.test_client()
    for path in ("/admin/account", "/admin/users", "/admin/tokens"):
        assert client.get(path).status_code == 302
    login(client, service)
    forged = client.post("/admin/tokens", data={"name": "x", "scopes": "admin"})
    assert forged.status_code == 400
    assert service.tokens.list() == []
    assert csrf_token(client, "/admin/tokens")


# -- the CLI ----------------------------------------------------------------------------


def test_cli_reset_and_remove(
    runner: FlaskCliRunner, service: Service, app: Flask, clock: FakeClock
) -> None:
    service.users.create("dan", PASSWORD)
    client = app.test_client()
    login(client, service, "dan")
    clock.advance(seconds=1)
    reset = runner.invoke(
        args=["feeds", "users", "password", "dan", "--password-stdin", "--json"], input=NEW + "\n"
    )
    assert reset.exit_code == 0, reset.output
    assert json.loads(reset.stdout) == {"name": "dan", "password_reset": True}
    assert service.users.authenticate("dan", NEW, "10.1.1.3") is not None
    assert not signed_in(client)
    prompted = runner.invoke(args=["feeds", "users", "password", "dan"], input=f"{NEW}x\n{NEW}x\n")
    assert prompted.exit_code == 0 and "new password set for dan" in prompted.stdout
    missing = runner.invoke(args=["feeds", "users", "password", "ghost", "--json"])
    assert missing.exit_code == 1 and json.loads(missing.stdout)["kind"] == "not_found"

    kept = runner.invoke(args=["feeds", "users", "remove", "dan"], input="n\n")
    assert kept.exit_code == 1 and service.users.find("dan") is not None
    unasked = runner.invoke(args=["feeds", "users", "remove", "dan", "--json"])
    assert unasked.exit_code == 2 and "--yes" in json.loads(unasked.stdout)["error"]
    gone = runner.invoke(args=["feeds", "users", "remove", "dan", "--yes", "--json"])
    assert json.loads(gone.stdout) == {"name": "dan", "removed": True}
    assert service.users.find("dan") is None
    actions = [(e.action, e.actor.startswith("cli")) for e in service.audit.entries()]
    assert actions[:3] == [("delete", True), ("reset_password", True), ("reset_password", True)]
