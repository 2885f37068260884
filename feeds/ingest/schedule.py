"""When to check a source next: pure functions of the outcome, the clock and a dice roll.

A source is never given up on: every outcome yields a next check, at worst a day away.
Only a 410 disables a source, and that is the caller's decision, not this module's.
"""

from __future__ import annotations

import email.utils
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from feeds.models import Source, require_utc
from feeds.settings import Settings

DAY = 24 * 3600
# Waits shrink by up to this fraction at random so sources that failed together
# (one host down) do not all come back in the same second.
JITTER = 0.2


@dataclass(frozen=True)
class ScheduleOptions:
    backoff_cap_seconds: int = DAY
    retry_after_cap_seconds: int = DAY

    @classmethod
    def from_settings(cls, settings: Settings) -> ScheduleOptions:
        return cls(backoff_cap_seconds=settings.backoff_cap_seconds)


def after_success(source: Source, now: datetime) -> datetime:
    """A fetch worked (or said 304): come back after the source's interval."""
    return require_utc(now, "now") + timedelta(seconds=source.interval_seconds)


def backoff_seconds(
    interval_seconds: int,
    failures: int,
    options: ScheduleOptions = ScheduleOptions(),
    rand: Callable[[], float] = random.random,
) -> float:
    """The wait after *failures* consecutive failures: doubling from the interval, capped."""
    if failures <= 0:
        return float(interval_seconds)
    cap = max(options.backoff_cap_seconds, 1)
    # The exponent is bounded so a source failing for months does not overflow.
    delay = min(float(cap), interval_seconds * 2.0 ** min(failures - 1, 32))
    return delay * (1.0 - JITTER * rand())


def after_failure(
    source: Source,
    now: datetime,
    failures: int,
    options: ScheduleOptions = ScheduleOptions(),
    rand: Callable[[], float] = random.random,
) -> datetime:
    """A fetch failed for the *failures*-th time in a row (counting this one)."""
    wait = backoff_seconds(source.interval_seconds, failures, options, rand)
    return require_utc(now, "now") + timedelta(seconds=wait)


def after_rate_limit(
    source: Source,
    now: datetime,
    failures: int,
    retry_after: datetime | None,
    options: ScheduleOptions = ScheduleOptions(),
    rand: Callable[[], float] = random.random,
) -> datetime:
    """A 429/503: honour Retry-After, but no sooner than the interval, no later than a day.

    Without a usable Retry-After it is an ordinary failure with backoff.
    """
    now = require_utc(now, "now")
    if retry_after is None:
        return after_failure(source, now, failures, options, rand)
    earliest = now + timedelta(seconds=source.interval_seconds)
    latest = now + timedelta(seconds=max(options.retry_after_cap_seconds, source.interval_seconds))
    return min(max(require_utc(retry_after, "retry_after"), earliest), latest)


def next_check(
    source: Source,
    now: datetime,
    *,
    ok: bool,
    failures: int = 0,
    retry_after: datetime | None = None,
    options: ScheduleOptions = ScheduleOptions(),
    rand: Callable[[], float] = random.random,
) -> datetime:
    """One entry point: *failures* is the count including this outcome (0 after success)."""
    if ok:
        return after_success(source, now)
    if retry_after is not None:
        return after_rate_limit(source, now, failures, retry_after, options, rand)
    return after_failure(source, now, failures, options, rand)


def failures_after(previous: int, ok: bool) -> int:
    """The consecutive-failure count after an outcome: reset by any success."""
    return 0 if ok else previous + 1


def parse_retry_after(value: str | None, now: datetime | None = None) -> datetime | None:
    """Retry-After as an instant: delta-seconds or an HTTP-date; anything else is None."""
    if not value:
        return None
    now = now or datetime.now(UTC)
    value = value.strip()
    if value.isdigit():
        try:
            return now + timedelta(seconds=int(value))
        except OverflowError:
            return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
