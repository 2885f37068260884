"""Rate-limit counters in the store, so every process of a deployment counts together.

A `limits` storage backend (fixed windows only) for deployments without Redis: one row
per key holding the count and the window's end. Registered under the `feeds-db` scheme;
the limiter builds it from `feeds-db://` with the store passed as an option.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from limits.storage import Storage
from sqlalchemy import case, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from feeds.errors import FeedsError
from feeds.store.db import Store
from feeds.store.schema import rate_limits

# Expired rows are removed on one increment in this many, by whichever process makes it.
SWEEP_EVERY = 500


class DatabaseLimitStorage(Storage):
    STORAGE_SCHEME = ["feeds-db"]  # noqa: RUF012  (limits registers schemes by this list)

    def __init__(
        self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any
    ) -> None:
        store = options.get("store")
        if not isinstance(store, Store):
            raise ValueError("the feeds-db rate-limit storage needs store=<Store>")
        self.store = store
        self._calls = itertools.count(1)
        super().__init__(uri, wrap_exceptions=wrap_exceptions)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return FeedsError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        insert = pg_insert if self.store.dialect == "postgresql" else sqlite_insert
        statement = insert(rate_limits).values(key=key, count=amount, expires_at=now + expiry)
        expired = rate_limits.c.expires_at <= now
        # One statement: two processes counting the same key never lose a hit.
        upsert = statement.on_conflict_do_update(
            index_elements=[rate_limits.c.key],
            set_={
                "count": case((expired, amount), else_=rate_limits.c.count + amount),
                "expires_at": case((expired, now + expiry), else_=rate_limits.c.expires_at),
            },
        ).returning(rate_limits.c.count)
        with self.store.begin() as conn:
            count = conn.execute(upsert).scalar_one()
            if next(self._calls) % SWEEP_EVERY == 0:
                conn.execute(delete(rate_limits).where(rate_limits.c.expires_at <= now))
        return int(count)

    def _row(self, key: str) -> tuple[int, float] | None:
        with self.store.read() as conn:
            row = conn.execute(
                select(rate_limits.c.count, rate_limits.c.expires_at).where(
                    rate_limits.c.key == key
                )
            ).first()
        # By position: a Row's `count` is the tuple method.
        if row is None or row[1] <= time.time():
            return None
        return int(row[0]), float(row[1])

    def get(self, key: str) -> int:
        row = self._row(key)
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return row[1] if row else time.time()

    def check(self) -> bool:
        try:
            with self.store.read() as conn:
                conn.execute(select(func.count()).select_from(rate_limits))
        except FeedsError:
            return False
        return True

    def reset(self) -> int | None:
        with self.store.begin() as conn:
            return conn.execute(delete(rate_limits)).rowcount

    def clear(self, key: str) -> None:
        with self.store.begin() as conn:
            conn.execute(delete(rate_limits).where(rate_limits.c.key == key))
