"""/healthz tells the truth: 503 on an unmigrated, missing, broken or unreachable store,
a late scheduler or publisher; a terse public body; the details in the log, /metrics and
the admin dashboard."""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text, update

from feeds.service import Service
from feeds.store import Store
from feeds.store.schema import sources
from tests.admin_helpers import login
from tests.conftest import PG_URL, FakeClock, bare_app
from tests.migration_helpers import upgrade_to

ON_SQLITE = pytest.mark.skipif(bool(PG_URL), reason="the store's file is SQLite's")


def health(client: FlaskClient) -> tuple[int, dict[str, object], str]:
    answer = client.get("/healthz")
    return answer.status_code, answer.get_json(), answer.get_data(as_text=True)


def test_a_healthy_service_says_ok(client: FlaskClient) -> None:
    status, body, _ = health(client)
    assert status == 200
    assert body["status"] == "ok"
    checks = body["checks"]
    assert isinstance(checks, dict)
    assert checks["store"] == "ok"
    assert checks["config"] == "ok"
    assert set(checks) >= {"store", "scheduler", "publisher", "config"}


def test_an_unmigrated_store_is_503(empty_database_url: str, clock: FakeClock) -> None:
    store = Store.from_url(empty_database_url)
    with store.read() as conn:  # the database exists, with no tables
        conn.execute(text("SELECT 1"))
    store.dispose()
    app = bare_app(empty_database_url, clock)
    status, body, _ = health(app.test_client())
    assert status == 503
    assert body == {"status": "degraded", "checks": body["checks"]}
    assert body["checks"]["store"] == "unmigrated"  # type: ignore[index]
    app.extensions["feeds"].ctx.store.dispose()


def test_a_store_behind_the_code_is_503(empty_database_url: str, clock: FakeClock) -> None:
    store = Store.from_url(empty_database_url)
    upgrade_to(store, "0010")
    store.dispose()
    app = bare_app(empty_database_url, clock)
    svc: Service = app.extensions["feeds"]
    status, body, _ = health(app.test_client())
    assert status == 503
    assert body["checks"]["store"] == "unmigrated"  # type: ignore[index]
    detail = svc.health.check().checks[0].detail
    assert "revision 0010" in detail and "feeds init" in detail
    svc.setup.migrate()
    assert health(app.test_client())[0] == 200
    svc.ctx.store.dispose()


@ON_SQLITE
def test_a_moved_sqlite_file_is_503_and_not_recreated(
    app: Flask, client: FlaskClient, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = Path(database_url.removeprefix("sqlite:///"))
    assert health(client)[0] == 200
    moved = path.with_name("moved.db")
    os.rename(path, moved)
    with caplog.at_level(logging.WARNING, logger="feeds.service.health"):
        status, body, raw = health(client)
    assert status == 503
    assert body["checks"]["store"] == "failing"  # type: ignore[index]
    assert str(path) not in raw and "feeds.db" not in raw
    assert f"the database file {path} is missing" in caplog.text
    assert not path.exists(), "the check must not create an empty store in its place"
    os.rename(moved, path)
    assert health(client)[0] == 200


@ON_SQLITE
def test_an_unreadable_sqlite_file_is_503(
    app: Flask, client: FlaskClient, database_url: str
) -> None:
    path = Path(database_url.removeprefix("sqlite:///"))
    app.extensions["feeds"].ctx.store.dispose()
    for extra in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        extra.unlink(missing_ok=True)
    path.write_bytes(b"this is not a database " * 200)
    status, body, raw = health(client)
    assert status == 503
    assert body["checks"]["store"] == "failing"  # type: ignore[index]
    assert "not a database" not in raw


def test_an_unreachable_postgresql_is_503_and_the_body_names_no_host(clock: FakeClock) -> None:
    app = bare_app("postgresql+psycopg://feeds@127.0.0.1:59999/nowhere", clock)
    status, body, raw = health(app.test_client())
    assert status == 503
    assert body["checks"]["store"] == "failing"  # type: ignore[index]
    for secret in ("127.0.0.1", "59999", "nowhere", "feeds@"):
        assert secret not in raw
    detail = app.extensions["feeds"].health.check().checks[0].detail
    assert "59999" in detail
    app.extensions["feeds"].ctx.store.dispose()


def make_due(service: Service, since: timedelta) -> None:
    with service.ctx.store.begin() as conn:
        conn.execute(update(sources).values(next_check_at=service.now() - since, enabled=True))


def test_a_late_scheduler_is_503(client: FlaskClient, service: Service) -> None:
    assert service.sources.list(), "the config files declare a source"
    make_due(service, timedelta(seconds=30))
    assert health(client)[1]["checks"]["scheduler"] == "ok"  # type: ignore[index]
    make_due(service, timedelta(hours=2))
    status, body, _ = health(client)
    assert status == 503
    assert body["checks"]["scheduler"] == "late"  # type: ignore[index]


def test_a_late_or_failing_publisher_is_503(
    client: FlaskClient, service: Service, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def beat(at: object, error: str | None = None) -> SimpleNamespace:
        return SimpleNamespace(status=lambda: SimpleNamespace(beat_at=at, error=error))

    monkeypatch.setattr(service, "publisher", beat(clock.now), raising=False)
    assert health(client)[0] == 200
    monkeypatch.setattr(service, "publisher", beat(clock.now - timedelta(hours=1)), raising=False)
    status, body, _ = health(client)
    assert (status, body["checks"]["publisher"]) == (503, "late")  # type: ignore[index]
    monkeypatch.setattr(service, "publisher", beat(clock.now, "disk full"), raising=False)
    status, body, raw = health(client)
    assert (status, body["checks"]["publisher"]) == (503, "failing")  # type: ignore[index]
    assert "disk full" not in raw
    # Never a heartbeat: waiting at first, late once the grace has passed.
    monkeypatch.setattr(service, "publisher", beat(None), raising=False)
    assert health(client)[1]["checks"]["publisher"] == "waiting"  # type: ignore[index]
    clock.advance(hours=1)
    assert health(client)[1]["checks"]["publisher"] == "late"  # type: ignore[index]


def test_details_reach_metrics_and_the_dashboard(client: FlaskClient, service: Service) -> None:
    login(client, service)
    make_due(service, timedelta(hours=2))
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'feeds_health_check_ok{check="scheduler",state="late"} 0.0' in metrics
    assert 'feeds_health_check_ok{check="store",state="ok"} 1.0' in metrics
    page = client.get("/admin/").get_data(as_text=True)
    assert "The service is degraded" in page
    assert "is `feeds scheduler` running?" in page
