"""A publisher round reads the version rows moved since the last round, not every feed's.

Writes come from another app on the same store (another process: its own clock, its own
connections). Its clock is set behind to stand for a write that stamped its time before
a round read and committed after it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from feeds.service import Service
from feeds.service.feedkeys import ALL
from feeds.service.publish import FULL_READ_EVERY, MOVED_MARGIN, PublishReport
from feeds.store import Store
from feeds.store.schema import feed_versions
from tests.conftest import FakeClock, article_payload, make_app
from tests.migration_helpers import old_version_row, upgrade_to
from tests.plans import recording
from tests.test_publish import post, titles


@pytest.fixture
def other(database_url: str, clock: FakeClock) -> Iterator[Flask]:
    """Another process on the store, with a clock of its own (starting at the same time)."""
    app = make_app(database_url, FakeClock(clock.now))
    yield app
    app.extensions["feeds"].ctx.store.dispose()


def other_clock(app: Flask) -> FakeClock:
    clock = app.extensions["feeds"].ctx.clock
    assert isinstance(clock, FakeClock)
    return clock


def whole_reads(service: Service) -> tuple[PublishReport, list[str]]:
    """A round, and the statements it sent that read feed_versions with no bound."""
    with recording(service.ctx.store.engine) as seen:
        report = service.publisher.run(discover=False)
    whole = [
        sql
        for sql, _ in seen
        if "FROM feed_versions" in sql and "WHERE" not in sql and "max(" not in sql
    ]
    return report, whole


def test_a_round_after_the_first_reads_only_what_moved(
    service: Service, client: FlaskClient, writer_token: dict[str, str], clock: FakeClock
) -> None:
    post(client, writer_token, title="First Light")
    first, whole = whole_reads(service)
    assert ALL in first.published and whole  # the first round reads every row
    clock.advance(seconds=2)
    quiet, whole = whole_reads(service)
    assert quiet.published == () and whole == []
    post(client, writer_token, title="Second Light", url="https://news.example.com/second")
    clock.advance(seconds=2)
    moved, whole = whole_reads(service)
    assert ALL in moved.published and whole == []
    assert titles(service, ALL)["json"] == ["Second Light", "First Light"]


def test_a_change_another_process_made_between_rounds_is_published(
    service: Service, writer_token: dict[str, str], clock: FakeClock, other: Flask
) -> None:
    post(other.test_client(), writer_token, title="Before")
    service.publisher.run()
    clock.advance(seconds=5)
    other_clock(other).advance(seconds=5)
    post(other.test_client(), writer_token, title="After", url="https://news.example.com/after")
    clock.advance(seconds=2)
    report, whole = whole_reads(service)
    assert ALL in report.published and whole == []
    assert titles(service, ALL)["json"] == ["After", "Before"]


def test_a_round_after_another_process_published_the_tree_reads_every_row(
    service: Service, writer_token: dict[str, str], clock: FakeClock, database_url: str
) -> None:
    same_tree = make_app(
        database_url, FakeClock(clock.now), publish_dir=service.settings.publish_dir
    )
    try:
        post(same_tree.test_client(), writer_token, title="Before")
        service.publisher.run()
        clock.advance(seconds=2)
        post(same_tree.test_client(), writer_token, title="After", url="https://x.example/a")
        same_tree.extensions["feeds"].publisher.run()
        report, whole = whole_reads(service)
    finally:
        same_tree.extensions["feeds"].ctx.store.dispose()
    # The other publisher wrote the change: this round checks every feed against it.
    assert whole and report.published == () and report.failed == ()
    assert titles(service, ALL)["json"] == ["After", "Before"]


def test_a_write_stamped_before_the_last_round_within_the_margin_is_published(
    service: Service, writer_token: dict[str, str], clock: FakeClock, other: Flask
) -> None:
    post(other.test_client(), writer_token, title="Before")
    service.publisher.run()
    # Stamped before that round read, committed after it.
    other_clock(other).advance(seconds=-(MOVED_MARGIN.total_seconds() - 5))
    post(other.test_client(), writer_token, title="Late", url="https://news.example.com/late")
    clock.advance(seconds=2)
    report, whole = whole_reads(service)
    assert ALL in report.published and whole == []
    assert set(titles(service, ALL)["json"]) == {"Before", "Late"}


def test_the_backstop_round_publishes_a_write_stamped_before_the_margin(
    service: Service, writer_token: dict[str, str], clock: FakeClock, other: Flask
) -> None:
    post(other.test_client(), writer_token, title="Before")
    service.publisher.run()
    other_clock(other).advance(seconds=-(MOVED_MARGIN.total_seconds() + 60))
    post(other.test_client(), writer_token, title="Stale", url="https://news.example.com/stale")
    clock.advance(seconds=2)
    missed, _ = whole_reads(service)
    assert ALL not in missed.published  # past the bound the rounds rely on
    clock.advance(seconds=FULL_READ_EVERY.total_seconds())
    report, whole = whole_reads(service)
    assert ALL in report.published and whole
    assert set(titles(service, ALL)["json"]) == {"Before", "Stale"}


def test_the_upgrade_dates_each_existing_row_moved_when_it_last_changed(
    empty_database_url: str,
) -> None:
    store = Store.from_url(empty_database_url)
    upgrade_to(store, "0022")
    with store.engine.begin() as conn:
        old_version_row(conn, "all", 3, "2026-01-01 00:00:00")
        old_version_row(conn, "tag:kept", 3, "2026-01-02 00:00:00")
    store.migrate()
    with store.read() as conn:
        rows = conn.execute(
            select(feed_versions.c.key, feed_versions.c.changed_at, feed_versions.c.moved_at)
        ).all()
    store.dispose()
    assert {key: (changed, moved) for key, changed, moved in rows} == {
        "all": (datetime(2026, 1, 1, tzinfo=UTC),) * 2,
        "tag:kept": (datetime(2026, 1, 2, tzinfo=UTC),) * 2,
    }


def test_an_import_dates_every_feed_it_moved_at_its_end(service: Service, clock: FakeClock) -> None:
    """An import is one transaction, often longer than the margin: a round while it runs
    must not leave behind the feeds its first lines moved."""
    lines = [
        json.dumps(
            article_payload(
                title=f"Batch {n}", hashtags=[f"Batch{n}"], url=f"https://b.example/{n}"
            )
        )
        for n in range(3)
    ]

    def ticking() -> datetime:
        return clock.advance(seconds=MOVED_MARGIN.total_seconds())

    service.set_clock(ticking)
    service.articles.import_lines(lines)
    service.set_clock(clock)
    keys = [f"tag:batch{n}" for n in range(3)]
    with service.ctx.store.read() as conn:
        stamps = conn.execute(
            select(feed_versions.c.moved_at).where(feed_versions.c.key.in_(keys))
        ).scalars()
        assert set(stamps) == {clock.now}
