"""Refreshing a source by hand: a failure does not lengthen its backoff, keeps the last
document's counts, and reads in words, not errno numbers."""

from __future__ import annotations

import json
import socket

from flask import Flask
from pytest_httpserver import HTTPServer

from feeds.ingest.fetch import network_words
from tests.conftest import FakeClock
from tests.ingest_helpers import (
    Entry,
    add_source,
    ingest_app_fixture,  # noqa: F401 (the `app` fixture)
    rss,
    svc,
)

FEED = rss([Entry("a-1", "Bridge reopens"), Entry("a-2", "Ferry delayed")])


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_failed_refresh_by_hand_keeps_the_backoff_and_the_counts(
    app: Flask, httpserver: HTTPServer, clock: FakeClock
) -> None:
    service = svc(app)
    httpserver.expect_request("/feed").respond_with_data(FEED, content_type="application/rss+xml")
    source_id = add_source(service, httpserver.url_for("/feed"))
    assert service.sources.refresh(source_id).status == "fetched"
    httpserver.clear()
    httpserver.expect_request("/feed").respond_with_data("down", status=503)
    # Two scheduled failures: each lengthens the wait.
    service.sources.ingester.refresh(source_id)
    clock.advance(minutes=1)
    service.sources.ingester.refresh(source_id)
    failing = service.sources.get(source_id).state
    assert failing.failures == 2 and failing.next_check_at is not None
    assert failing.items.entries == 2  # the last document's counts, not 0
    # Tried again by hand, and failing again: the same count and the same next attempt.
    clock.advance(minutes=1)
    outcome = service.sources.refresh(source_id, actor="user:alice")
    assert outcome.status == "failed"
    after = service.sources.get(source_id).state
    assert (after.failures, after.next_check_at) == (2, failing.next_check_at)
    assert after.last_fetch_at == clock.now and after.items.entries == 2
    # The scheduler's next failure counts again.
    service.sources.ingester.refresh(source_id)
    assert service.sources.get(source_id).state.failures == 3


def test_network_errors_are_in_words(app: Flask) -> None:
    service = svc(app)
    source_id = add_source(service, f"http://localhost:{closed_port()}/feed")
    outcome = service.sources.refresh(source_id)
    assert outcome.error is not None
    assert outcome.error.startswith("connection refused: nothing is listening")
    assert "Errno" not in outcome.error
    assert network_words(OSError(113, "No route to host")) == (
        "the host cannot be reached from here (no route)"
    )
    assert network_words(RuntimeError("odd")) == "network error: odd"


def test_the_outcome_names_the_url_after_redirects(app: Flask, httpserver: HTTPServer) -> None:
    service = svc(app)
    httpserver.expect_request("/old").respond_with_data(
        "", status=302, headers={"Location": httpserver.url_for("/new")}
    )
    httpserver.expect_request("/new").respond_with_data(FEED, content_type="application/rss+xml")
    source_id = add_source(service, httpserver.url_for("/old"))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["feeds", "sources", "refresh", str(source_id), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["outcome"]["final_url"] == httpserver.url_for("/new")
    text = runner.invoke(args=["feeds", "sources", "refresh", str(source_id)]).stdout
    assert f"fetched from: {httpserver.url_for('/new')}" in text
