"""`feeds websub status`: what the outside WebSub hub (`websub_hub`) has yet to accept."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click
from flask.cli import with_appcontext

from feeds.cli_common import FeedsGroup, emit, service, when
from feeds.models import HubAnnouncement


@click.group("websub", cls=FeedsGroup, help="WebSub: the outside hub the feeds announce.")
def websub_group() -> None:
    pass


@websub_group.command("status")
@with_appcontext
def status_command() -> None:
    """Feeds whose latest version the outside hub has not accepted yet: the versions,
    the failed pings in a row and when the next ping may go (after a failure, a minute
    doubling to an hour)."""
    svc = service()
    hub = svc.settings.websub_hub
    if not hub:
        emit({"hub": None, "waiting": []}, "no outside hub (websub_hub is empty)")
        return
    now = svc.now()
    waiting = svc.websub_publisher().waiting()

    def due(change: HubAnnouncement) -> datetime | None:
        """When the feed may be pinged again; None: at the next round."""
        at = change.next_attempt_at
        return at if at is not None and at > now else None

    def wait(change: HubAnnouncement) -> int:
        at = due(change)
        return round((at - now).total_seconds()) if at is not None else 0

    def line(change: HubAnnouncement) -> str:
        at = due(change)
        next_ping = f"{when(at)} (in {wait(change)} s)" if at is not None else "next round"
        return (
            f"{change.feed.storage_key}\tversion {change.version} (hub has {change.announced})"
            f"\tfailures {change.failures}\tnext ping {next_ping}"
        )

    rows: list[dict[str, Any]] = [
        {
            "feed": change.feed.storage_key,
            "announced_version": change.announced,
            "version": change.version,
            "failures": change.failures,
            "next_attempt_at": at.isoformat() if (at := due(change)) is not None else None,
            "next_attempt_in_seconds": wait(change),
        }
        for change in waiting
    ]
    text = [f"outside hub {hub}: {len(waiting)} feeds not announced yet"]
    emit({"hub": hub, "waiting": rows}, "\n".join(text + [line(c) for c in waiting]))
