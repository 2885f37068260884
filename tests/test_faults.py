"""With the database down, published feeds keep answering; writes say to come back;
everything recovers without a restart. Tried on a real PostgreSQL cluster that the test
stops and starts, and on a SQLite file that stops being one."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from feeds.errors import StorageError
from feeds.service import Service
from tests.conftest import FakeClock, article_payload, make_app
from tests.pgcluster import ThrowawayPostgres, Unavailable


def outage_and_recovery(
    app: Flask, clock: FakeClock, down: Callable[[], None], up: Callable[[], None]
) -> None:
    svc: Service = app.extensions["feeds"]
    client = app.test_client()
    headers = {"Authorization": f"Bearer {svc.tokens.create('desk', ('articles:write',))}"}
    payload = article_payload(title="Before The Outage")
    assert client.post("/api/v1/articles", json=payload, headers=headers).status_code == 201
    svc.publisher.run()
    healthy = client.get("/feeds/all.rss")
    assert healthy.status_code == 200 and "Age" not in healthy.headers
    assert "stale-if-error=" in healthy.headers["Cache-Control"]

    down()
    clock.advance(seconds=120)
    for path in ("/feeds/all.rss", "/feeds/sections/world.json", "/feeds/tags/shipping.atom"):
        answer = client.get(path, headers={"Accept-Encoding": "br"})
        assert answer.status_code == 200, path
    assert client.get("/feeds/all.rss").data == healthy.data
    refused = client.post("/api/v1/articles", json=article_payload(title="During"), headers=headers)
    assert refused.status_code == 503 and int(refused.headers["Retry-After"]) > 0
    assert client.get("/feeds/all.rss?limit=2").status_code == 503  # needs the store
    with pytest.raises(StorageError):
        svc.publisher.run()
    assert svc.publisher.status().error
    stale = client.get("/feeds/all.rss")
    # Answers say how long ago the store last confirmed them.
    assert (stale.status_code, stale.headers["Age"]) == (200, "120")
    assert stale.data == healthy.data
    assert client.get("/healthz").status_code == 503

    up()
    payload = article_payload(title="After The Outage", url="https://news.example.com/after")
    assert client.post("/api/v1/articles", json=payload, headers=headers).status_code == 201
    assert svc.publisher.run().published
    recovered = client.get("/feeds/all.rss")
    assert recovered.status_code == 200 and "Age" not in recovered.headers
    assert b"After The Outage" in recovered.data
    assert svc.publisher.status().error is None


@pytest.fixture
def postgres() -> Iterator[ThrowawayPostgres]:
    try:
        cluster = ThrowawayPostgres()
    except Unavailable as exc:
        pytest.skip(f"no throwaway PostgreSQL: {exc}")
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


def test_postgresql_stopped_and_started_again(
    postgres: ThrowawayPostgres, clock: FakeClock
) -> None:
    app = make_app(postgres.url, clock)
    try:
        outage_and_recovery(app, clock, postgres.stop, postgres.start)
    finally:
        app.extensions["feeds"].ctx.store.dispose()


def test_sqlite_file_gone_and_back(tmp_path: Path, clock: FakeClock) -> None:
    database = tmp_path / "feeds.db"
    app = make_app(f"sqlite:///{database}", clock)
    store = app.extensions["feeds"].ctx.store
    away = tmp_path / "away"
    files = [database.with_name(database.name + suffix) for suffix in ("", "-wal", "-shm")]

    def down() -> None:
        away.mkdir()
        for path in files:
            if path.exists():
                path.rename(away / path.name)
        # Something that is not a database where the file was: opening it fails.
        database.mkdir()
        # Pooled connections keep the moved file open; a failing disk would not.
        store.engine.dispose()

    def up() -> None:
        database.rmdir()
        for path in away.iterdir():
            path.rename(tmp_path / path.name)
        shutil.rmtree(away)

    try:
        outage_and_recovery(app, clock, down, up)
    finally:
        store.dispose()
