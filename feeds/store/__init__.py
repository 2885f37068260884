"""The article store: SQLAlchemy Core on SQLite or PostgreSQL, one module per table group."""

from feeds.store.db import Store

__all__ = ["Store"]
