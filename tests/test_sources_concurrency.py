"""Two schedulers, a lost lease, a job killed before it commits: never a duplicate or a half."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select
from werkzeug import Request, Response

from feeds.service import Service
from feeds.store.schema import article_hashtags, articles, sources
from tests.conftest import CONFIG, ROOT, FakeClock
from tests.httpservers import RawServer, head_reply, raw_server
from tests.ingest_helpers import INGEST_SETTINGS, Entry, add_source, ingest_app, rss, svc
from tests.together import run_together

__all__ = ["raw_server"]  # the fixture, imported for its side effect

FEED = rss([Entry(f"c-{n}", f"Story {n}", categories=("Economy",)) for n in range(3)])


@pytest.fixture
def apps(database_url: str, clock: FakeClock) -> Iterator[list[Flask]]:
    """Two apps on one database, as two scheduler processes would be."""
    made = [ingest_app(database_url, clock), ingest_app(database_url, replace(clock))]
    yield made
    for app in made:
        svc(app).ctx.store.dispose()


def slow(body: bytes, seconds: float = 0.5):  # type: ignore[no-untyped-def]
    def handler(_request: Request) -> Response:
        time.sleep(seconds)
        return Response(body, content_type="application/rss+xml")

    return handler


def row_count(service: Service, table=articles) -> int:  # type: ignore[no-untyped-def]
    with service.ctx.store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_two_schedulers_refreshing_one_source_fetch_it_once(
    apps: list[Flask], httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/feed").respond_with_handler(slow(FEED))
    one, two = (svc(app) for app in apps)
    source_id = add_source(one, httpserver.url_for("/feed"))
    outcomes = run_together(
        lambda: one.sources.refresh(source_id), lambda: two.sources.refresh(source_id)
    )
    assert sorted(o.status for o in outcomes) == ["busy", "fetched"]  # type: ignore[attr-defined]
    assert len(httpserver.log) == 1
    assert row_count(one) == 3


def test_two_schedulers_ingesting_due_sources_never_duplicate(
    apps: list[Flask], httpserver: HTTPServer
) -> None:
    one, two = (svc(app) for app in apps)
    for n in range(4):
        httpserver.expect_request(f"/feed{n}").respond_with_handler(slow(FEED, 0.2))
        add_source(one, httpserver.url_for(f"/feed{n}"), name=f"Wire {n}")
    outcomes = run_together(one.sources.ingest_due, two.sources.ingest_due)
    statuses = [o.status for batch in outcomes for o in batch]  # type: ignore[attr-defined]
    assert statuses.count("fetched") <= 4 and "failed" not in statuses
    # Whatever the split, the rest go on the next ticks; none twice.
    for _ in range(3):
        run_together(one.sources.ingest_due, two.sources.ingest_due)
    assert row_count(one) == 12
    with one.ctx.store.read() as conn:
        pairs = conn.execute(select(articles.c.source_id, articles.c.origin_id)).all()
    assert len(set(pairs)) == 12


def feed_reply(sock: socket.socket) -> None:
    headers = {"Content-Type": "application/rss+xml", "Content-Length": str(len(FEED))}
    sock.sendall(head_reply("200 OK", headers, FEED))


def test_a_job_that_lost_its_lease_writes_nothing(
    apps: list[Flask], raw_server: Callable[..., RawServer], clock: FakeClock
) -> None:
    first_request, let_go = threading.Event(), threading.Event()

    def handler(_head: bytes, sock: socket.socket) -> None:
        if not first_request.is_set():
            first_request.set()
            let_go.wait(10)
        feed_reply(sock)

    server = raw_server(handler)  # threaded: the second fetch must not queue behind the first
    one, two = (svc(app) for app in apps)
    source_id = add_source(one, server.url("/feed"))
    result: list[object] = []
    stuck = threading.Thread(target=lambda: result.append(one.sources.refresh(source_id)))
    stuck.start()
    assert first_request.wait(10)
    # The second scheduler's clock is past the first job's lease: it takes over.
    two.set_clock(FakeClock(clock.now + timedelta(minutes=10)))
    assert two.sources.refresh(source_id).status == "fetched"
    let_go.set()
    stuck.join(10)
    assert result[0].status == "busy"  # type: ignore[attr-defined]
    assert row_count(one) == 3


CHILD = """
import json, sys, time
from pathlib import Path
from feeds import create_app
from feeds.service import ingest

settings, source_id, marker = json.loads(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])

def pause():
    marker.write_text("about to commit")
    time.sleep(120)

ingest.before_commit = pause
app = create_app(settings)
app.extensions["feeds"].sources.refresh(source_id)
"""


def test_a_job_killed_before_commit_leaves_nothing_and_the_source_recovers(
    apps: list[Flask], raw_server: Callable[..., RawServer], clock: FakeClock, tmp_path: Path
) -> None:
    server = raw_server(lambda _head, sock: feed_reply(sock))
    service = svc(apps[0])
    source_id = add_source(service, server.url("/feed"))
    settings = INGEST_SETTINGS | {
        "database_url": service.settings.database_url,
        "config_dir": str(CONFIG),
        "load_demo": False,
        "secret_key": "x",
        "scheduler_enabled": False,
        "fetch_allow": ["localhost"],
    }
    marker = tmp_path / "marker"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDS_")}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(settings), str(source_id), str(marker)],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), "the child never reached its commit"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    assert len(server.requests) == 1  # it did fetch
    assert row_count(service) == 0 and row_count(service, article_hashtags) == 0
    with service.ctx.store.read() as conn:
        row = conn.execute(select(sources).where(sources.c.id == source_id)).one()
    assert (row.last_fetch_at, row.body_hash, row.failures) == (None, None, 0)
    assert row.lease_until is not None  # the only trace: a lease that will expire
    assert service.sources.refresh(source_id).status == "busy"
    clock.advance(minutes=10)
    outcome = service.sources.refresh(source_id)
    assert (outcome.status, outcome.new) == ("fetched", 3)
    assert row_count(service) == 3
