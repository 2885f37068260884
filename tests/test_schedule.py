"""Next-check times: interval after success, backoff after failures, Retry-After clamped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from feeds.ingest.schedule import (
    ScheduleOptions,
    after_rate_limit,
    backoff_seconds,
    failures_after,
    next_check,
)
from feeds.models import Source

NOW = datetime(2026, 1, 12, 17, 23, tzinfo=UTC)
SOURCE = Source(url="https://example.org/feed", name="Example", section="world",
                interval_seconds=900)  # fmt: skip


def no_jitter() -> float:
    return 0.0


def test_success_waits_one_interval() -> None:
    assert next_check(SOURCE, NOW, ok=True) == NOW + timedelta(seconds=900)


def test_five_500s_then_recovery_grows_then_resets() -> None:
    failures = 0
    waits = []
    for _ in range(5):
        failures = failures_after(failures, ok=False)
        when = next_check(SOURCE, NOW, ok=False, failures=failures, rand=no_jitter)
        waits.append((when - NOW).total_seconds())
    assert waits == [900, 1800, 3600, 7200, 14400]
    failures = failures_after(failures, ok=True)
    assert failures == 0
    assert next_check(SOURCE, NOW, ok=True, failures=failures) == NOW + timedelta(seconds=900)


def test_backoff_is_capped_and_never_gives_up() -> None:
    options = ScheduleOptions(backoff_cap_seconds=24 * 3600)
    for failures in (20, 1000, 10**6):
        wait = backoff_seconds(900, failures, options, no_jitter)
        assert wait == 24 * 3600
    when = next_check(SOURCE, NOW, ok=False, failures=10**6, options=options)
    assert NOW < when <= NOW + timedelta(days=1)


def test_jitter_only_shortens_the_wait() -> None:
    waits = {backoff_seconds(900, 3, rand=lambda value=v: value) for v in (0.0, 0.5, 0.999)}
    assert all(0.8 * 3600 <= wait <= 3600 for wait in waits) and len(waits) == 3


@pytest.mark.parametrize(
    ("retry_in", "expected"),
    [(timedelta(seconds=120), timedelta(seconds=900)),  # sooner than the interval
     (timedelta(hours=2), timedelta(hours=2)),
     (timedelta(days=365), timedelta(hours=24))],  # one year: clamped to a day
)  # fmt: skip
def test_retry_after_is_clamped(retry_in: timedelta, expected: timedelta) -> None:
    when = after_rate_limit(SOURCE, NOW, failures=1, retry_after=NOW + retry_in)
    assert when == NOW + expected
    assert next_check(SOURCE, NOW, ok=False, failures=1, retry_after=NOW + retry_in) == when


def test_garbage_retry_after_falls_back_to_backoff() -> None:
    when = after_rate_limit(SOURCE, NOW, failures=2, retry_after=None, rand=no_jitter)
    assert when == NOW + timedelta(seconds=1800)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_check(SOURCE, datetime(2026, 1, 1), ok=True)
