"""Which dates of an outside entry to trust, and what an entry is dated by.

feedparser turns 2024-02-30 into 1 March and accepts a +2500 offset, so a date is
trusted only when its raw string describes a real instant. Placeholders for "no date"
(`Mon, 01 Jan 0001`, Unix time 0) count as missing. Dates further ahead than the
window are clamped to the fetch time; an entry with no usable date gets its fallback.

What this module does not do: pick the fallback (normalize.py dates undated entries a
second apart in document order).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from feeds.ingest.parsed import DateValue, ParsedEntry

_MONTHS = {
    name: number
    for number, name in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[Tt ]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_RFC822 = re.compile(
    r"(\d{1,2})[\s-]+([A-Za-z]{3})[a-z]*\.?[\s-]+(\d{2,4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?"
)
_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})\s*$")
# Dates before this are placeholders for "no date", not news: .NET's DateTime.MinValue
# and Hugo's zero time (`Mon, 01 Jan 0001`), Unix time 0 and its time-zone shifts.
NO_DATE_BEFORE = datetime(1970, 1, 2, tzinfo=UTC)


def trusted_date(date: DateValue) -> datetime | None:
    """feedparser's value, unless the raw string shows it rolled over or is out of range,
    or it is a "no date" placeholder (see NO_DATE_BEFORE)."""
    if date.value is None or date.value < NO_DATE_BEFORE:
        return None
    raw = date.raw or ""
    offset = _OFFSET.search(raw)
    if offset and (int(offset.group(2)) > 14 or int(offset.group(3)) > 59):
        return None
    iso, rfc = _ISO.search(raw), _RFC822.search(raw)
    if iso:
        year, month, day = (int(g) for g in iso.group(1, 2, 3))
        clock = iso.group(4, 5, 6)
    elif rfc and rfc.group(2).lower() in _MONTHS:
        year, month, day = int(rfc.group(3)), _MONTHS[rfc.group(2).lower()], int(rfc.group(1))
        year += (2000 if year < 50 else 1900) if year < 100 else 0
        clock = rfc.group(4, 5, 6)
    else:
        return date.value
    hour, minute, second = (int(part or 0) for part in clock)
    try:
        datetime(year, month, day, hour, minute, min(second, 59))  # noqa: DTZ001 (validity only)
    except ValueError:
        return None
    return date.value


def trusted_dates(entry: ParsedEntry) -> tuple[datetime | None, datetime | None]:
    """The entry's (published, updated), each None unless trusted."""
    return trusted_date(entry.published), trusted_date(entry.updated)


def entry_dates(
    entry: ParsedEntry,
    fetched_at: datetime,
    window_seconds: int,
    fallback: datetime,
    trusted: tuple[datetime | None, datetime | None] | None = None,
) -> tuple[datetime, datetime]:
    """(published, updated); *trusted* is `trusted_dates(entry)` when already known."""
    limit = fetched_at + timedelta(seconds=window_seconds)

    def settle(value: datetime | None) -> datetime | None:
        return None if value is None else (fetched_at if value > limit else value)

    trusted_published, trusted_updated = trusted or trusted_dates(entry)
    published = settle(trusted_published)
    updated = settle(trusted_updated)
    published = published or updated or fallback
    return published, max(updated or published, published)
