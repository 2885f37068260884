"""`feeds users enable|disable`: plain and --json output, unknown names."""

from __future__ import annotations

import json

from flask.testing import FlaskCliRunner

from feeds.service import Service
from tests.admin_helpers import PASSWORD


def test_disable_and_enable_with_json(runner: FlaskCliRunner, service: Service) -> None:
    service.users.create("alice", PASSWORD)
    result = runner.invoke(args=["feeds", "users", "disable", "alice", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"name": "alice", "disabled": True}
    assert service.users.active("alice") is None
    result = runner.invoke(args=["feeds", "users", "enable", "alice", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"name": "alice", "disabled": False}
    assert service.users.active("alice") is not None


def test_plain_output_and_unknown_user(runner: FlaskCliRunner, service: Service) -> None:
    service.users.create("bob", PASSWORD)
    assert runner.invoke(args=["feeds", "users", "disable", "bob"]).output == "disabled bob\n"
    assert runner.invoke(args=["feeds", "users", "enable", "bob"]).output == "enabled bob\n"
    missing = runner.invoke(args=["feeds", "users", "enable", "nobody", "--json"])
    assert missing.exit_code != 0 and "nobody" in missing.output
