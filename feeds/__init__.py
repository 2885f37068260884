"""Feeds: the newsroom's feed backbone."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask

from feeds.version import __version__

__all__ = ["__version__", "create_app"]


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings, store, service, blueprints, CLI. Starts nothing."""
    from feeds.service import Service
    from feeds.settings import load_settings
    from feeds.store import Store
    from feeds.web import register

    settings = load_settings(overrides)
    logging.basicConfig(level=settings.log_level.upper())
    if logging.getLogger().level > logging.DEBUG:
        # APScheduler logs every job run at INFO: two lines per tick drown the log.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    app = Flask(__name__)
    app.config.update(
        # Empty: read from the store on the first admin request (feeds.web.sessions).
        SECRET_KEY=settings.secret_key or None,
        JSON_SORT_KEYS=False,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
    )
    service = Service(settings, Store.from_url(settings.database_url))
    app.extensions["feeds"] = service
    register(app, settings)
    from feeds.cli import feeds_cli

    app.cli.add_command(feeds_cli)
    return app
