"""Where the web's rate limiter keeps its counters: Redis when configured, else the store."""

from __future__ import annotations

from typing import Any

from feeds.service.context import Context


def limiter_storage(ctx: Context) -> tuple[str, dict[str, Any]]:
    """The `limits` storage URI and options for the `rate_limit_storage` setting."""
    if ctx.settings.rate_limit_storage:
        return ctx.settings.rate_limit_storage, {}
    # Imported for its side effect too: it registers the feeds-db scheme with `limits`.
    from feeds.store.ratelimits import DatabaseLimitStorage

    return f"{DatabaseLimitStorage.STORAGE_SCHEME[0]}://", {"store": ctx.store}
