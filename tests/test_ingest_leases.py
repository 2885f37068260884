"""A refresh is bounded in time and keeps its source while it works, and only then.

A refresh past its budget stores nothing and records why; a slow refresh's lease is
renewed by its heartbeat, so another scheduler cannot take the source over; a
scheduler killed with SIGKILL mid-refresh leaves a lease that lapses within its short
term, and the next scheduler process completes the work. Real local HTTP servers and
real scheduler processes; on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from feeds.service import Service
from feeds.store.schema import sources
from tests.conftest import ROOT, FakeClock
from tests.httpservers import RawServer, head_reply, raw_server
from tests.ingest_helpers import (
    Entry,
    add_source,
    config_without_sources,
    ingest_app,
    rss,
    snapshot,
    svc,
)

__all__ = ["raw_server"]  # the fixture, imported for its side effect

FEED = rss([Entry(f"l-{n}", f"Story {n}") for n in range(3)])
LEASE = 2  # seconds: short, so the tests wait little for a lease to lapse


def reply(sock: socket.socket, body: bytes = FEED) -> None:
    headers = {"Content-Type": "application/rss+xml", "Content-Length": str(len(body))}
    sock.sendall(head_reply("200 OK", headers, body))


def real_clock() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def apps(database_url: str, clock: FakeClock) -> Iterator[list[Flask]]:
    """Two apps on one database, as two schedulers, on the real clock with short leases."""
    made = [ingest_app(database_url, clock, ingest_lease_seconds=LEASE) for _ in range(2)]
    for app in made:
        svc(app).set_clock(real_clock)
    yield made
    for app in made:
        svc(app).ctx.store.dispose()


def lease_until(service: Service, source_id: int) -> datetime | None:
    with service.ctx.store.read() as conn:
        value = conn.execute(select(sources.c.lease_until).where(sources.c.id == source_id))
        until: datetime | None = value.scalar_one()
    return until


def wait_for(condition: Callable[[], Any], seconds: float = 60) -> None:
    """Wait for something that must happen; the limit only stops a broken run."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.05)


def test_a_refresh_out_of_time_stores_nothing_and_records_the_error(
    database_url: str, clock: FakeClock, raw_server: Callable[..., RawServer]
) -> None:
    body = rss([Entry(f"b-{n}", f"Story {n}") for n in range(50)])
    server = raw_server(lambda _head, sock: reply(sock, body))
    # Parsing fifty entries takes far longer than a millisecond.
    app = ingest_app(database_url, clock, ingest_budget_seconds=0.001)
    service = svc(app)
    source_id = add_source(service, server.url("/feed"))
    before = snapshot(service)

    outcome = service.sources.refresh(source_id)

    assert outcome.status == "failed"
    assert outcome.error is not None
    assert "ran out of its 0.001 s budget" in outcome.error
    assert "nothing was stored" in outcome.error
    assert not outcome.error.startswith("internal error")
    assert snapshot(service) == before
    state = service.sources.get(source_id).state
    assert (state.last_error, state.failures) == (outcome.error, 1)
    assert state.next_check_at is not None and state.next_check_at > clock.now
    assert lease_until(service, source_id) is None  # given back with the failure
    service.ctx.store.dispose()

    # With time enough, the same document is taken whole.
    roomy = svc(ingest_app(database_url, clock))
    assert roomy.sources.refresh(source_id).new == 50
    roomy.ctx.store.dispose()


def test_a_slow_refresh_keeps_its_lease_and_is_never_taken_over(
    apps: list[Flask], raw_server: Callable[..., RawServer]
) -> None:
    in_fetch, let_go = threading.Event(), threading.Event()

    def handler(_head: bytes, sock: socket.socket) -> None:
        if not in_fetch.is_set():
            in_fetch.set()
            let_go.wait(60)
        reply(sock)

    one, two = (svc(app) for app in apps)
    source_id = add_source(one, raw_server(handler).url("/feed"))
    result: list[Any] = []
    worker = threading.Thread(target=lambda: result.append(one.sources.refresh(source_id)))
    worker.start()
    try:
        assert in_fetch.wait(30)
        first = lease_until(one, source_id)
        assert first is not None
        # Past the end of the lease as claimed, it has been renewed: still held.
        wait_for(lambda: real_clock() > first + timedelta(seconds=LEASE / 2))
        renewed = lease_until(one, source_id)
        assert renewed is not None and renewed > real_clock()
        assert two.sources.refresh(source_id).status == "busy"
    finally:
        let_go.set()
        worker.join(60)
    assert (result[0].status, result[0].new) == ("fetched", 3)
    assert lease_until(one, source_id) is None


def scheduler(database_url: str, config_dir: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDS_")}
    env |= {
        "FEEDS_DATABASE_URL": database_url,
        "FEEDS_CONFIG_DIR": str(config_dir),
        "FEEDS_LOAD_DEMO": "false",
        "FEEDS_SECRET_KEY": "test",
        "FEEDS_FETCH_ALLOW": "localhost",
        "FEEDS_FETCH_TIMEOUT": "60",
        "FEEDS_INGEST_LEASE_SECONDS": str(LEASE),
        "FEEDS_SCHEDULER_TICK_SECONDS": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "feeds", "scheduler"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(10)


def test_a_killed_scheduler_lets_its_lease_lapse_and_the_next_completes_the_work(
    database_url: str, clock: FakeClock, raw_server: Callable[..., RawServer]
) -> None:
    hang = threading.Event()  # set: the first fetch hangs until the test ends

    def handler(_head: bytes, sock: socket.socket) -> None:
        if not hang.is_set():
            hang.set()
            time.sleep(120)  # the scheduler is killed long before this ends
            return
        reply(sock)

    server = raw_server(handler)
    app = ingest_app(database_url, clock)
    service = svc(app)
    source_id = add_source(service, server.url("/feed"))
    config_dir = config_without_sources()

    first = scheduler(database_url, config_dir)
    try:
        wait_for(lambda: len(server.requests) == 1)
        wait_for(lambda: lease_until(service, source_id) is not None)
        killed_at = real_clock()
        first.kill()
    finally:
        stop(first)
    held = lease_until(service, source_id)
    # A dead holder keeps the source no longer than one lease term.
    assert held is not None and held <= killed_at + timedelta(seconds=LEASE)
    assert service.articles.count() == 0

    second = scheduler(database_url, config_dir)
    try:
        wait_for(lambda: service.articles.count() == 3)
    finally:
        stop(second)
    assert len(server.requests) == 2
    state = service.sources.get(source_id).state
    assert (state.last_error, state.failures, state.last_status) == (None, 0, 200)
    assert state.items.new == 3
    service.ctx.store.dispose()
