"""The key that signs admin sessions and CSRF tokens, the same in every process.

A random key per process made a second worker refuse the first one's sessions and CSRF
tokens, and a restart end every session. The `secret_key` setting wins when given;
otherwise the key is made once, by the first process that needs it (`feeds init`, a
migration, a first request), and kept in the store for all the others.
"""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime

from feeds.errors import StorageError
from feeds.service.context import Context
from feeds.store import secrets as secret_store

log = logging.getLogger(__name__)

NAME = "session_key"


@dataclass(frozen=True)
class SecretKey:
    value: str
    # "setting", "store" (made by an earlier process) or "created" (made by this one)
    source: str
    created_at: datetime | None = None

    def describe(self) -> str:
        if self.source == "setting":
            return "from the secret_key setting"
        made = f" on {self.created_at:%Y-%m-%d %H:%M} UTC" if self.created_at else ""
        if self.source == "created":
            return f"generated{made} and kept in the store for every process"
        return f"from the store (generated{made}), shared by every process"


class SecretKeyService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._key: SecretKey | None = None
        self._lock = threading.Lock()

    def get(self) -> SecretKey:
        """The key, read once per process; made and stored if the store has none.

        Raises StorageError when the store cannot be read or is not migrated yet: a
        random key then would be the silent per-process failure this replaces.
        """
        if self._key is not None:
            return self._key
        with self._lock:
            if self._key is None:
                self._key = self._resolve()
                log.info("secret key: %s", self._key.describe())
        return self._key

    def _resolve(self) -> SecretKey:
        if self.ctx.settings.secret_key:
            return SecretKey(self.ctx.settings.secret_key, "setting")
        try:
            with self.ctx.store.begin() as conn:
                found = secret_store.get(conn, NAME)
                if found is not None:
                    return SecretKey(found[0], "store", found[1])
                now = self.ctx.now()
                value = secrets.token_urlsafe(48)
                if secret_store.create_once(conn, NAME, value, now):
                    return SecretKey(value, "created", now)
                found = secret_store.get(conn, NAME)
        except StorageError as exc:
            raise StorageError(
                f"cannot read the secret key from the store (has `feeds init` run?): {exc}"
            ) from exc
        if found is None:  # a rival inserted and then deleted it: nothing sane to use
            raise StorageError("the secret key vanished from the store while being made")
        return SecretKey(found[0], "store", found[1])
