"""Admin users: scrypt password hashes, and login throttling per client address."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from werkzeug.security import check_password_hash, generate_password_hash

from feeds.errors import Conflict, FeedsError, NotFound, ValidationError
from feeds.service.audit import note
from feeds.service.context import Context
from feeds.store import users as user_store
from feeds.store.users import UserRecord

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # hashing a megabyte password on every attempt is a cheap DoS
TARGET = "user"


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


def check_password_rules(password: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD:
        raise ValidationError({field: f"must be at least {MIN_PASSWORD} characters"})
    if len(password) > MAX_PASSWORD:
        raise ValidationError({field: f"must be at most {MAX_PASSWORD} characters"})


def _view(user: UserRecord) -> dict[str, Any]:
    # What the audit log keeps of an account: never the password hash.
    return {"name": user.name, "disabled": user.disabled}


class UserService:
    """Admin accounts. With an `actor`, each change is audited in the change's own transaction."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def create(self, name: str, password: str, *, actor: str | None = None) -> UserRecord:
        if not NAME.fullmatch(name):
            raise ValidationError({"name": "letters, digits, '.', '_', '@' and '-', up to 100"})
        check_password_rules(password)
        hashed = hash_password(password)
        with self.ctx.unit_of_work() as conn:
            if user_store.by_name(conn, name) is not None:
                raise Conflict(f"a user named {name!r} exists")
            user = user_store.create(conn, name, hashed, self.ctx.now())
            note(self.ctx, actor, "create", (TARGET, name), after=_view(user))
        return user

    def set_password(self, name: str, password: str, *, actor: str | None = None) -> None:
        """Give `name` a new password (a reset by another admin or on the command line);
        the user's open sessions end."""
        check_password_rules(password)
        hashed = hash_password(password)
        with self.ctx.unit_of_work() as conn:
            if not user_store.set_password(conn, name, hashed, self.ctx.now()):
                raise NotFound(f"no user named {name!r}")
            note(self.ctx, actor, "reset_password", (TARGET, name))

    def change_own_password(self, name: str, current: str, new: str, address: str) -> datetime:
        """A signed-in user's own change: the current password must match (attempts count
        towards the address's login throttling). Returns when the change took effect;
        sessions begun before it end."""
        check_password_rules(new, field="new_password")
        if new == current:
            raise ValidationError({"new_password": "must differ from the current password"})
        if self.authenticate(name, current, address) is None:
            raise ValidationError({"current_password": "is not your current password"})
        hashed = hash_password(new)
        now = self.ctx.now()
        with self.ctx.unit_of_work() as conn:
            if not user_store.set_password(conn, name, hashed, now):
                raise NotFound(f"no user named {name!r}")
            note(self.ctx, f"user:{name}", "change_password", (TARGET, name))
        return now

    def set_disabled(self, name: str, disabled: bool, *, actor: str | None = None) -> None:
        with self.ctx.unit_of_work() as conn:
            before = user_store.by_name(conn, name)
            if before is None or not user_store.set_disabled(conn, name, disabled):
                raise NotFound(f"no user named {name!r}")
            after = replace(before, disabled=disabled)
            if after != before:
                action = "disable" if disabled else "enable"
                note(self.ctx, actor, action, (TARGET, name), before=_view(before),
                     after=_view(after))  # fmt: skip

    def remove(self, name: str, *, actor: str | None = None) -> None:
        """Delete the account; its entries in the audit log stay, naming it."""
        with self.ctx.unit_of_work() as conn:
            before = user_store.by_name(conn, name)
            if before is None or not user_store.delete_user(conn, name):
                raise NotFound(f"no user named {name!r}")
            note(self.ctx, actor, "delete", (TARGET, name), before=_view(before))

    def list(self) -> list[UserRecord]:
        with self.ctx.store.read() as conn:
            return user_store.all_users(conn)

    def find(self, name: str) -> UserRecord | None:
        """The user called `name`, enabled or not."""
        with self.ctx.store.read() as conn:
            return user_store.by_name(conn, name)

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
