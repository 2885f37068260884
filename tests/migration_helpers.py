"""Bringing a store to an older revision, to test what an upgrade does to existing rows."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from feeds.store import Store
from feeds.store.db import MIGRATIONS


def upgrade_to(store: Store, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
