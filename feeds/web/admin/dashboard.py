"""The admin dashboard: every feed, poller statistics, source health, configuration."""

from __future__ import annotations

from feeds.models import HubSubscription, Source
from feeds.service import Service
from feeds.service.hub import subscription_state
from feeds.service.pollers import PollSummary
from feeds.service.source_health import SourceHealth, health
from feeds.web import service
from feeds.web.admin.base import blueprint, now, render_page
from feeds.web.pollstats import poller_stats


def sources_panel(svc: Service) -> list[tuple[Source, SourceHealth]] | None:
    """Outside sources with their health for the dashboard, or None while the service
    has no sources part (older builds, and a test that takes it away)."""
    sources = getattr(svc, "sources", None)
    lister = getattr(sources, "list", None)
    if not callable(lister):
        return None
    at = now()
    return [(source, health(source, at)) for source in lister()]


def subscribers_panel(svc: Service) -> list[tuple[HubSubscription, str]]:
    """The built-in WebSub hub's subscribers with their state."""
    return [(sub, subscription_state(sub)) for sub in svc.hub.subscriptions()]


def polls(svc: Service) -> dict[str, PollSummary]:
    # This process's latest counts first, so the page includes the requests just made.
    svc.pollers.flush(poller_stats())
    return svc.pollers.summary()


@blueprint.get("/")
def dashboard() -> str:
    svc = service()
    return render_page(
        "dashboard",
        listing=svc.directory.listing(),
        polls=polls(svc),
        facts=svc.directory.facts(),
        sources=sources_panel(svc),
        subscribers=subscribers_panel(svc),
        pushes=svc.push.states(),
        config=svc.setup.config_status(),
        service_health=svc.health.check(),
    )
