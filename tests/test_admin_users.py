"""Admin users: hashing, login throttling, the `feeds users` commands, the 0002 migration."""

from __future__ import annotations

import json

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask.testing import FlaskCliRunner

from feeds.errors import Conflict, ValidationError
from feeds.service import Service
from feeds.service.users import LoginThrottled
from feeds.store.schema import metadata
from tests.conftest import FakeClock

PASSWORD = "correct horse battery"


def test_migrations_match_schema(service: Service) -> None:
    with service.ctx.store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(context, metadata)
    ours = [d for d in diff if "users" in repr(d) or "audit" in repr(d) or "login" in repr(d)]
    assert ours == []


def test_password_is_stored_as_scrypt_hash(service: Service) -> None:
    service.users.create("alice", PASSWORD)
    with service.ctx.store.read() as conn:
        from feeds.store import users as user_store

        record = user_store.by_name(conn, "alice")
    assert record is not None
    assert record.password_hash.startswith("scrypt:")
    assert PASSWORD not in record.password_hash


def test_create_rejects_duplicates_and_short_passwords(service: Service) -> None:
    service.users.create("alice", PASSWORD)
    with pytest.raises(Conflict):
        service.users.create("alice", PASSWORD)
    with pytest.raises(ValidationError):
        service.users.create("bob", "short")
    with pytest.raises(ValidationError):
        service.users.create("no spaces", PASSWORD)


def test_authenticate(service: Service) -> None:
    service.users.create("alice", PASSWORD)
    assert service.users.authenticate("alice", PASSWORD, "10.0.0.1") is not None
    assert service.users.authenticate("alice", "wrong password", "10.0.0.1") is None
    assert service.users.authenticate("nobody", PASSWORD, "10.0.0.1") is None
    service.users.set_disabled("alice", True)
    assert service.users.authenticate("alice", PASSWORD, "10.0.0.1") is None
    assert service.users.active("alice") is None


def test_throttle_after_max_failures_per_address(service: Service, clock: FakeClock) -> None:
    service.users.create("alice", PASSWORD)
    limit = service.settings.login_max_failures
    for _ in range(limit):
        assert service.users.authenticate("alice", "nope nope nope", "10.0.0.9") is None
    # Locked: even the right password is refused, and another address is unaffected.
    with pytest.raises(LoginThrottled):
        service.users.authenticate("alice", PASSWORD, "10.0.0.9")
    assert service.users.authenticate("alice", PASSWORD, "10.0.0.10") is not None
    clock.advance(seconds=service.settings.login_lockout_seconds + 1)
    assert service.users.authenticate("alice", PASSWORD, "10.0.0.9") is not None


def test_success_clears_failures(service: Service) -> None:
    service.users.create("alice", PASSWORD)
    limit = service.settings.login_max_failures
    for _ in range(limit - 1):
        service.users.authenticate("alice", "nope nope nope", "10.0.0.9")
    assert service.users.authenticate("alice", PASSWORD, "10.0.0.9") is not None
    for _ in range(limit - 1):
        service.users.authenticate("alice", "nope nope nope", "10.0.0.9")
    assert service.users.locked_until("10.0.0.9") is None


def test_cli_create_with_password_stdin(runner: FlaskCliRunner, service: Service) -> None:
    result = runner.invoke(
        args=["feeds", "users", "create", "alice", "--password-stdin", "--json"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["name"] == "alice"
    assert service.users.authenticate("alice", PASSWORD, "127.0.0.1") is not None


def test_cli_create_prompts_twice(runner: FlaskCliRunner, service: Service) -> None:
    result = runner.invoke(
        args=["feeds", "users", "create", "bob"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "created user bob" in result.output
    mismatch = runner.invoke(
        args=["feeds", "users", "create", "carol"],
        input=f"{PASSWORD}\nsomething else\n{PASSWORD}\n{PASSWORD}\n",
    )
    assert mismatch.exit_code == 0, mismatch.output
    assert "do not match" in mismatch.output.lower() or "match" in mismatch.output


def test_cli_create_refuses_weak_password(runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=["feeds", "users", "create", "alice", "--password-stdin"], input="short\n"
    )
    assert result.exit_code != 0
    assert "password" in result.output
