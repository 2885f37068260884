"""`feeds sources ...` (outside feeds to ingest) and `feeds scheduler` (the ingest process)."""

from __future__ import annotations

from typing import Any

import click
from flask.cli import with_appcontext
from prometheus_client import start_http_server

from feeds.cli_common import (
    FeedsGroup,
    ReportingCommand,
    cli_actor,
    emit,
    fail,
    json_mode,
    service,
    when,
)
from feeds.jobs import Jobs
from feeds.models import EntryCounts, Source
from feeds.service.push import push_to_dict
from feeds.service.source_health import entry_summary
from feeds.service.sources import source_to_dict


def _line(source: Source) -> str:
    state = source.state
    health = "disabled" if not source.enabled else "ok"
    if source.enabled and state.failures:
        health = f"failing ({state.failures})"
    return f"{source.id}\t{source.name}\t{source.url}\t{health}\tnext {when(state.next_check_at)}"


def _details(source: Source) -> str:
    state = source.state
    lines = [
        f"{source.name} (source {source.id}{', disabled' if not source.enabled else ''})",
        f"  url:          {source.url}",
        f"  section:      {source.section}",
        f"  hashtags:     {' '.join('#' + t.display for t in source.hashtags) or '-'}",
        f"  managed by:   {source.managed_by or 'admin UI / API / CLI'}",
        f"  last fetch:   {when(state.last_fetch_at)} (HTTP {state.last_status or '-'})",
        f"  last success: {when(state.last_success_at)}",
        f"  failures:     {state.failures}",
        f"  last error:   {state.last_error or '-'}",
        f"  next check:   {when(state.next_check_at)}",
        f"  last items:   {entry_summary(state.items)}",
        *_notes(state.items),
    ]
    return "\n".join(lines)


def _notes(counts: EntryCounts) -> list[str]:
    """The refused entries with their reasons, and the warnings, one a line."""
    refused = [f"  refused:      {entry}: {reason}" for entry, reason in counts.refusals]
    return refused + [f"  warning:      {warning}" for warning in counts.warnings]


@click.group("sources", cls=FeedsGroup, help="Outside feeds ingested into the store.")
def sources_group() -> None:
    pass


@sources_group.command("list")
@with_appcontext
def sources_list() -> None:
    """Every source with its health and next check."""
    found = service().sources.list()
    emit([source_to_dict(s) for s in found], "\n".join(_line(s) for s in found) or "no sources")


@sources_group.command("show")
@click.argument("source_id", type=int)
@with_appcontext
def sources_show(source_id: int) -> None:
    """One source's configuration and fetch state."""
    svc = service()
    source = svc.sources.get(source_id)
    push = push_to_dict(svc.push.state(source_id))
    emit({**source_to_dict(source), "push": push}, _details(source) + "\n" + _push_line(push))


def _push_line(push: dict[str, Any]) -> str:
    """The source's WebSub state in one line (see README "Sources that push")."""
    if push["state"] == "none":
        return "  push:         none (the feed names no WebSub hub)"
    line = f"  push:         {push['state']} via {push['hub']}"
    if push["expires_at"]:
        line += f", lease until {push['expires_at']}"
    line += f", {push['pushes']} deliveries taken, {push['refused']} refused"
    if push["error"]:
        line += f"; {push['error']}"
    return line


@sources_group.command("add")
@click.option("--url", required=True, help="http(s) URL of an RSS, Atom or JSON feed.")
@click.option("--name", required=True, help="Credited as the origin of its articles.")
@click.option("--section", required=True, help="Section slug to file articles into.")
@click.option("--hashtag", "hashtags", multiple=True, help="Hashtag to add (repeatable).")
@click.option(
    "--categories",
    type=click.Choice(["none", "all"]),
    default=None,
    help="Turn every category into a hashtag (all) or none; see --map.",
)
@click.option("--map", "mapping", multiple=True, help="CATEGORY=Hashtag (repeatable).")
@click.option("--interval", type=int, default=15, show_default=True, help="Minutes between polls.")
@click.option("--retention", type=int, default=30, show_default=True, help="Days to keep.")
@click.option("--max-items", type=int, default=100, show_default=True, help="Items per fetch.")
@click.option("--disabled", is_flag=True, help="Store it without polling it yet.")
@with_appcontext
def sources_add(
    url: str,
    name: str,
    section: str,
    hashtags: tuple[str, ...],
    categories: str | None,
    mapping: tuple[str, ...],
    interval: int,
    retention: int,
    max_items: int,
    disabled: bool,
) -> None:
    """Add a source; it is fetched on the scheduler's next tick."""
    rule: Any = categories or "none"
    if mapping:
        pairs = [item.partition("=") for item in mapping]
        if categories or any(not sep or not k.strip() for k, sep, _ in pairs):
            raise click.UsageError("--map takes CATEGORY=Hashtag, and not with --categories")
        rule = {k.strip(): v.strip() for k, _, v in pairs}
    payload = {
        "url": url, "name": name, "section": section, "hashtags": list(hashtags),
        "categories": rule, "interval_minutes": interval, "retention_days": retention,
        "max_items": max_items, "enabled": not disabled,
    }  # fmt: skip
    source = service().sources.add(payload, actor=cli_actor())
    emit(source_to_dict(source), f"added source {source.id}: {source.name}")


def _toggle(name: str, verb: str, help_text: str) -> None:
    @sources_group.command(name, help=help_text)
    @click.argument("source_id", type=int)
    @with_appcontext
    def command(source_id: int) -> None:
        changed = getattr(service().sources, name)(source_id, actor=cli_actor())
        emit(source_to_dict(changed), f"{verb} source {source_id}")


_toggle("enable", "enabled", "Poll the source again (it is due at once).")
_toggle("disable", "disabled", "Stop polling the source; its articles stay.")


@sources_group.command("remove")
@click.argument("source_id", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def sources_remove(source_id: int, yes: bool) -> None:
    """Delete the source and every article ingested from it (asks first)."""
    sources = service().sources
    source = sources.get(source_id)
    held = sources.article_count(source_id)
    if not yes:
        if json_mode():
            fail("removing asks for confirmation: add --yes", kind="usage")
        click.confirm(
            f"Remove source {source_id} ({source.name}) and the {held} articles it brought in?",
            abort=True,
        )
    removed = sources.remove(source_id, actor=cli_actor())
    emit(
        {"id": source_id, "removed": True, "articles_removed": removed},
        f"removed source {source_id} and {removed} articles",
    )


@sources_group.command("refresh")
@click.argument("source_id", type=int)
@with_appcontext
def sources_refresh(source_id: int) -> None:
    """Fetch one source now and print what happened."""
    svc = service()
    outcome = svc.sources.refresh(source_id)
    source = svc.sources.get(source_id)
    wait = None
    if outcome.next_check_at is not None:
        wait = max(0, round((outcome.next_check_at - svc.now()).total_seconds()))
    text = (
        f"{source.name}: {outcome.status}"
        + (f" (HTTP {outcome.http_status})" if outcome.http_status else "")
        + f", {entry_summary(outcome.counts)}"
        + "".join(f"\n{note}" for note in _notes(outcome.counts))
        + (f"\n  error: {outcome.error}" if outcome.error else "")
        + (
            f"\n  fetched from: {outcome.final_url}"
            if outcome.final_url and outcome.final_url != source.url
            else ""
        )
        + f"\n  next check: {when(outcome.next_check_at)}"
        + (f" (in {wait} s)" if wait is not None else "")
    )
    data = {
        "id": source_id,
        "outcome": outcome.to_dict(),
        "next_check_in_seconds": wait,
        "source": source_to_dict(source),
    }
    emit(data, text)
    if outcome.status in ("failed", "gone"):
        raise SystemExit(1)


@click.command("scheduler", cls=ReportingCommand)
@click.option(
    "--once",
    is_flag=True,
    help="Run one ingest tick, one round of WebSub work and housekeeping, then exit.",
)
@with_appcontext
def scheduler_command(once: bool) -> None:
    """Run the ingest scheduler in the foreground (its own process in production)."""
    svc = service()
    if not svc.setup.is_migrated():
        fail("the store is not set up: run `feeds init` first", kind="storage")
    jobs = Jobs(svc)
    if once:
        outcomes = jobs.tick()
        push = jobs.push_round() if svc.settings.push_enabled else {}
        hub = jobs.hub_round() if svc.settings.hub_enabled else {}
        # What the outside hub was told is kept in the store, so one run after another
        # pings for what changed in between (nothing on the very first run).
        pinged = jobs.notify_hub()
        pruned = jobs.housekeeping()
        emit(
            {"sources": len(outcomes), "pruned": pruned, "push": push, "hub": hub,
             "pinged": pinged},
            f"ingested {len(outcomes)} sources, pruned {pruned} articles; "
            f"WebSub: {hub.get('delivered', 0)} deliveries, "
            f"{push.get('requested', 0)} subscriptions asked of outside hubs, "
            f"{pinged} feed URLs announced to the outside hub",
        )  # fmt: skip
        return
    port = svc.settings.scheduler_metrics_port
    if port:
        # The web app's /metrics cannot see this process's counters (fetches, items,
        # durations), so the scheduler serves its own for Prometheus to scrape.
        start_http_server(port, addr=svc.settings.scheduler_metrics_host)
        click.echo(f"metrics on http://{svc.settings.scheduler_metrics_host}:{port}/metrics")
    click.echo(f"scheduler running: a tick every {svc.settings.scheduler_tick_seconds} s")
    jobs.run_blocking()
