"""API bearer tokens: minted once, shown once, stored hashed, revocable."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from datetime import timedelta

from feeds.errors import Conflict, NotFound, StorageError, ValidationError
from feeds.service.audit import note
from feeds.service.context import Context
from feeds.store import tokens as token_store
from feeds.store.tokens import TokenRecord

SCOPES = ("articles:write", "admin")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
PREFIX = "feeds_"
TARGET = "token"
# last_used_at answers "is this token still in use?"; a minute's precision is plenty and
# spares a write on every request of a busy client.
TOUCH_EVERY = timedelta(minutes=1)

log = logging.getLogger(__name__)


def hash_token(raw: str) -> str:
    # Tokens are 256 random bits, so a plain SHA-256 is enough: there is nothing to
    # brute-force that a slow hash would protect.
    return hashlib.sha256(raw.encode()).hexdigest()


class TokenService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def create(
        self, name: str, scopes: tuple[str, ...] = SCOPES, *, actor: str | None = None
    ) -> str:
        """Mint a token and return its value, the only time anyone sees it."""
        if not NAME.fullmatch(name):
            raise ValidationError({"name": "letters, digits, '.', '_' and '-', up to 100"})
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown or not scopes:
            raise ValidationError({"scopes": f"choose from {', '.join(SCOPES)}"})
        raw = PREFIX + secrets.token_urlsafe(32)
        with self.ctx.unit_of_work() as conn:
            existing = [t for t in token_store.all_tokens(conn) if t.name == name]
            if existing:
                raise Conflict(f"a token named {name!r} exists; revoke it or pick another name")
            token_store.create(conn, name, hash_token(raw), tuple(scopes), self.ctx.now())
            view = {"name": name, "scopes": list(scopes)}
            note(self.ctx, actor, "create", (TARGET, name), after=view)
        return raw

    def revoke(self, name: str, *, actor: str | None = None) -> None:
        with self.ctx.unit_of_work() as conn:
            if not token_store.revoke(conn, name, self.ctx.now()):
                raise NotFound(f"no active token named {name!r}")
            note(self.ctx, actor, "revoke", (TARGET, name))

    def list(self) -> list[TokenRecord]:
        with self.ctx.store.read() as conn:
            return token_store.all_tokens(conn)

    def check(self, raw: str) -> TokenRecord | None:
        """The active token for `raw`, or None."""
        with self.ctx.store.read() as conn:
            record = token_store.by_hash(conn, hash_token(raw))
        if record is None or record.revoked_at is not None:
            return None
        return record

    def touch(self, record: TokenRecord) -> None:
        """Record that `record` was just used, unless that was recorded under a minute ago.

        Best effort: a store too busy for this write must not fail the request.
        """
        now = self.ctx.now()
        if record.last_used_at is not None and now - record.last_used_at < TOUCH_EVERY:
            return
        try:
            with self.ctx.store.begin() as conn:
                token_store.touch(conn, record.id, now)
        except StorageError as exc:
            log.warning("could not record use of token %r: %s", record.name, exc)
