"""Admin users: scrypt password hashes, and login throttling per client address."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from functools import cache

from werkzeug.security import check_password_hash, generate_password_hash

from feeds.errors import Conflict, FeedsError, NotFound, ValidationError
from feeds.service.context import Context
from feeds.store import users as user_store
from feeds.store.users import UserRecord

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # hashing a megabyte password on every attempt is a cheap DoS


class LoginThrottled(FeedsError):
    """Too many failed logins from one address; `until` says when to try again."""

    def __init__(self, until: datetime) -> None:
        self.until = until
        super().__init__(f"too many failed logins; try again after {until.isoformat()}")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


@cache
def _decoy_hash() -> str:
    # Checked when the user does not exist, so a wrong name costs as long as a wrong
    # password and response times do not reveal which names exist.
    return hash_password("decoy password that matches nothing")


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValidationError({"password": f"must be at least {MIN_PASSWORD} characters"})
    if len(password) > MAX_PASSWORD:
        raise ValidationError({"password": f"must be at most {MAX_PASSWORD} characters"})


class UserService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def create(self, name: str, password: str) -> UserRecord:
        if not NAME.fullmatch(name):
            raise ValidationError({"name": "letters, digits, '.', '_', '@' and '-', up to 100"})
        check_password_rules(password)
        hashed = hash_password(password)
        with self.ctx.store.begin() as conn:
            if user_store.by_name(conn, name) is not None:
                raise Conflict(f"a user named {name!r} exists")
            return user_store.create(conn, name, hashed, self.ctx.now())

    def set_password(self, name: str, password: str) -> None:
        check_password_rules(password)
        with self.ctx.store.begin() as conn:
            if not user_store.set_password(conn, name, hash_password(password)):
                raise NotFound(f"no user named {name!r}")

    def set_disabled(self, name: str, disabled: bool) -> None:
        with self.ctx.store.begin() as conn:
            if not user_store.set_disabled(conn, name, disabled):
                raise NotFound(f"no user named {name!r}")

    def list(self) -> list[UserRecord]:
        with self.ctx.store.read() as conn:
            return user_store.all_users(conn)

    def active(self, name: str) -> UserRecord | None:
        """The enabled user called `name`, or None (sessions are re-checked with this)."""
        with self.ctx.store.read() as conn:
            user = user_store.by_name(conn, name)
        return user if user is not None and not user.disabled else None

    def locked_until(self, address: str) -> datetime | None:
        with self.ctx.store.read() as conn:
            record = user_store.failures(conn, address)
        now = self.ctx.now()
        if record and record.locked_until and record.locked_until > now:
            return record.locked_until
        return None

    def authenticate(self, name: str, password: str, address: str) -> UserRecord | None:
        """The user when name and password match; None otherwise.

        Raises LoginThrottled while `address` is locked out, before looking at the
        password at all: a locked-out guesser learns nothing from further attempts.
        """
        settings = self.ctx.settings
        with self.ctx.store.begin() as conn:
            until = user_store.reserve_attempt(
                conn,
                address,
                self.ctx.now(),
                timedelta(seconds=settings.login_lockout_seconds),
                settings.login_max_failures,
            )
        if until is not None:
            raise LoginThrottled(until)
        with self.ctx.store.read() as conn:
            user = user_store.by_name(conn, name)
        stored = user.password_hash if user else _decoy_hash()
        matches = len(password) <= MAX_PASSWORD and check_password_hash(stored, password)
        if user is not None and matches and not user.disabled:
            with self.ctx.store.begin() as conn:
                user_store.clear_failures(conn, address)
            return user
        return None
