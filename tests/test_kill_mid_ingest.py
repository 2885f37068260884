"""A scheduler killed with SIGKILL 20 times mid-refresh loses nothing and stores nothing twice.

Real `feeds scheduler` processes refresh one local source; each is killed at a different
point after the source's server has the request (before the reply, while the document is
parsed and stored, after the commit); after each kill the store holds none of the
document or all of it. The source is made due again after each kill, so every run
fetches. Then one scheduler is let finish: every entry is stored exactly once and the
source carries no error. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from feeds.store.schema import articles, sources
from tests.conftest import FakeClock
from tests.httpservers import RawServer, raw_server
from tests.ingest_helpers import Entry, add_source, ingest_app, rss, svc
from tests.test_ingest_leases import (
    config_without_sources,
    lease_until,
    real_clock,
    reply,
    scheduler,
    stop,
    wait_for,
)

__all__ = ["raw_server"]  # the fixture, imported for its side effect

ENTRIES = 40  # enough that parsing and storing take a while for a kill to land in
FEED = rss([Entry(f"k-{n}", f"Killed story {n}") for n in range(ENTRIES)])
KILLS = 20
# Seconds from the request's arrival to the kill: 0 (before the reply, sent 0.1 s in)
# up to 0.38 s, around the time a refresh of this size commits.
STEP = 0.02


@pytest.mark.slow
def test_a_scheduler_killed_20_times_mid_refresh_stores_every_entry_once(
    database_url: str, clock: FakeClock, raw_server: Callable[..., RawServer]
) -> None:
    arrivals: list[float] = []

    def handler(_head: bytes, sock: socket.socket) -> None:
        arrivals.append(time.monotonic())
        time.sleep(0.1)  # the first kills land before the document is sent
        reply(sock, FEED)

    server = raw_server(handler)
    app = ingest_app(database_url, clock)
    service = svc(app)
    source_id = add_source(service, server.url("/feed"))
    config_dir = config_without_sources()

    def make_due() -> None:
        # A run that committed moved the next check ahead; the next run must fetch again.
        with service.ctx.store.begin() as conn:
            past = real_clock() - timedelta(seconds=1)
            conn.execute(update(sources).values(next_check_at=past))

    def lease_free() -> bool:
        until = lease_until(service, source_id)
        return until is None or until <= real_clock()

    stored_after_kill: list[int] = []
    for kill in range(KILLS):
        make_due()
        process = scheduler(database_url, config_dir)
        try:
            wait_for(lambda n=kill: len(arrivals) == n + 1)
            time.sleep(max(0.0, arrivals[-1] + kill * STEP - time.monotonic()))
            process.kill()
        finally:
            stop(process)
        stored_after_kill.append(service.articles.count())
        # A refresh is one transaction: a kill leaves none of its entries or all of them.
        assert stored_after_kill[-1] in (0, ENTRIES)
        wait_for(lease_free)

    make_due()
    last = scheduler(database_url, config_dir)
    try:
        wait_for(lambda: len(arrivals) == KILLS + 1)  # it holds the lease from here
        wait_for(lambda: lease_until(service, source_id) is None)
    finally:
        stop(last)

    with service.ctx.store.read() as conn:
        stored = conn.execute(select(func.count()).select_from(articles)).scalar_one()
    assert stored == ENTRIES == service.articles.count()
    state = service.sources.get(source_id).state
    assert (state.last_error, state.failures, state.last_status) == (None, 0, 200)
    # The figure for docs/RELIABILITY.md: how many kills landed before the commit.
    print(f"{KILLS} kills, store count after each: {stored_after_kill}")
    service.ctx.store.dispose()
