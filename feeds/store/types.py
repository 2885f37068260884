"""Column types shared by the tables."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import DateTime, Dialect, Text
from sqlalchemy.types import TypeDecorator


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime given to the store")
    return value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python; UTC in the database whatever the driver does.

    SQLite has no time zone type, so values are stored as naive UTC there; PostgreSQL
    gets `timestamptz`. Either way a naive value handed in is a bug and raises.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = _utc(value)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def bind_processor(self, dialect: Dialect) -> Any:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        # The text SQLite's DATETIME would write for the naive UTC value, in one call per
        # value instead of three Python calls and a %-format of seven fields (a first
        # fetch writes two per article and one per hashtag link). tests/test_store.py
        # checks it agrees with the general path.
        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            return _utc(value).replace(tzinfo=None).isoformat(" ", "microseconds")

        return process

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        # SQLite hands back the ISO text SQLAlchemy wrote: one C-level parse per value
        # instead of a regular expression and two Python calls (a feed page reads a
        # hundred of them). Text in any other form takes the general path.
        general = super().result_processor(dialect, coltype)
        assert general is not None  # a TypeDecorator always has one
        parse = datetime.fromisoformat

        def process(value: str | None) -> datetime | None:
            if value is None:
                return None
            try:
                parsed = parse(value)
            except (TypeError, ValueError):
                return cast("datetime | None", general(value))
            if parsed.tzinfo is None:
                return parsed.replace(tzinfo=UTC)
            return parsed.astimezone(UTC)

        return process


class JSONList(TypeDecorator[list[Any]]):
    """A JSON array stored as text, so both databases compare it the same way."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: list[Any] | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return json.dumps(list(value), ensure_ascii=False, separators=(",", ":"))

    def process_result_value(self, value: str | None, dialect: Dialect) -> list[Any] | None:
        if value is None:
            return None
        loaded = json.loads(value)
        return loaded if isinstance(loaded, list) else []
