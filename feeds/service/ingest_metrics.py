"""Prometheus metrics of ingestion.

They live in prometheus_client's default registry, which /metrics already serves; the
scheduler process (`feeds scheduler`) counts in its own registry and serves none.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

FETCHES = Counter(
    "feeds_ingest_fetches_total",
    "Source fetches by outcome (fetched, not_modified, unchanged, failed, gone, busy)",
    ["outcome"],
)
ITEMS = Counter(
    "feeds_ingest_items_total", "Ingested entries written, by kind (new, updated)", ["kind"]
)
SKIPPED = Counter(
    "feeds_ingest_entries_skipped_total",
    "Entries of fetched documents left out, by reason (duplicates, too_old, over_limit, refused)",
    ["reason"],
)
SKIP_REASONS = ("duplicates", "too_old", "over_limit", "refused")
DOCUMENTS = Counter(
    "feeds_ingest_documents_total",
    "Fetched documents parsed, by the reader that parsed them (lxml, feedparser, json)",
    ["parser"],
)
FETCH_SECONDS = Histogram(
    "feeds_ingest_fetch_seconds",
    "Seconds from the start of a fetch to the stored outcome",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40),
)
