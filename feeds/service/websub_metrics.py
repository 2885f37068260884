"""Prometheus metrics of WebSub: the hub's verifications and deliveries, and the
deliveries our source callbacks receive.

The hub's rounds run in the scheduler process (serve them with
`scheduler_metrics_port`); callbacks are answered by the web processes (`/metrics`).
"""

from __future__ import annotations

from prometheus_client import Counter

HUB_VERIFICATIONS = Counter(
    "feeds_websub_hub_verifications_total",
    "Intents the built-in hub verified with a callback, by outcome (confirmed, failed)",
    ["outcome"],
)
HUB_DELIVERIES = Counter(
    "feeds_websub_hub_deliveries_total",
    "Content distributions by the built-in hub, by outcome (delivered, retry, gave_up)",
    ["outcome"],
)
RECEIVED = Counter(
    "feeds_websub_received_total",
    "Deliveries to our source callbacks, by outcome (ingested, refused, busy, unknown, disabled)",
    ["outcome"],
)
