"""Times as the admin shows and reads them: in the `admin_time_zone` setting, with
relative phrases ("3 hours ago") beside the exact time.

Stored times stay UTC; only what an editor sees and types is local.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from feeds.web import service


def zone() -> ZoneInfo:
    # load_settings refused a name that is not a time zone, so this cannot fail.
    return ZoneInfo(service().settings.admin_time_zone)


def local_time(moment: datetime | None) -> str:
    """`2026-01-12 17:23 KST`: the moment in the admin's zone, named by its abbreviation."""
    if moment is None:
        return "never"
    here = moment.astimezone(zone())
    return f"{here:%Y-%m-%d %H:%M} {here.tzname()}"


def ago(moment: datetime | None, now: datetime) -> str:
    """How far `moment` lies from `now` in words: "just now", "5 minutes ago", "in 2 days"."""
    if moment is None:
        return ""
    seconds = int((now - moment).total_seconds())
    future, seconds = seconds < 0, abs(seconds)
    if seconds < 60:
        return "just now"
    for size, unit in ((86400 * 365, "year"), (86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = seconds // size
            words = f"{count} {unit}{'' if count == 1 else 's'}"
            return f"in {words}" if future else f"{words} ago"
    return "just now"  # unreachable: every second count >= 60 matched a unit


def to_local_input(moment: datetime) -> str:
    """The value of an `<input type="datetime-local">` showing `moment` in the admin's zone."""
    return f"{moment.astimezone(zone()):%Y-%m-%dT%H:%M}"


def from_local_input(text: str) -> datetime | None:
    """A time typed in the admin's zone (`2026-01-12T17:23`, or with a space, seconds or
    an explicit offset) as UTC; None when it is not a date and time."""
    text = text.strip()
    if not text or len(text) > 40:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone())
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        return None
