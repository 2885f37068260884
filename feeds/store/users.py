"""Admin users and the per-address login failure counter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from feeds.store.schema import login_failures, users


@dataclass(frozen=True)
class UserRecord:
    id: int
    name: str
    password_hash: str
    created_at: datetime
    disabled: bool
    # Sessions that began before this ended when the password changed.
    password_changed_at: datetime | None = None


@dataclass(frozen=True)
class FailureRecord:
    address: str
    count: int
    first_at: datetime
    locked_until: datetime | None


def _user(row: Row[Any]) -> UserRecord:
    return UserRecord(
        id=row.id,
        name=row.name,
        password_hash=row.password_hash,
        created_at=row.created_at,
        disabled=row.disabled,
        password_changed_at=row.password_changed_at,
    )


def create(conn: Connection, name: str, password_hash: str, now: datetime) -> UserRecord:
    user_id = conn.execute(
        insert(users)
        .values(name=name, password_hash=password_hash, created_at=now, disabled=False)
        .returning(users.c.id)
    ).scalar_one()
    return UserRecord(user_id, name, password_hash, now, False)


def by_name(conn: Connection, name: str) -> UserRecord | None:
    row = conn.execute(select(users).where(users.c.name == name)).first()
    return _user(row) if row else None


def all_users(conn: Connection) -> list[UserRecord]:
    return [_user(r) for r in conn.execute(select(users).order_by(users.c.name))]


def set_password(conn: Connection, name: str, password_hash: str, now: datetime) -> bool:
    result = conn.execute(
        update(users)
        .where(users.c.name == name)
        .values(password_hash=password_hash, password_changed_at=now)
    )
    return result.rowcount > 0


def delete_user(conn: Connection, name: str) -> bool:
    return conn.execute(delete(users).where(users.c.name == name)).rowcount > 0


def set_disabled(conn: Connection, name: str, disabled: bool) -> bool:
    result = conn.execute(update(users).where(users.c.name == name).values(disabled=disabled))
    return result.rowcount > 0


def failures(conn: Connection, address: str) -> FailureRecord | None:
    row = conn.execute(select(login_failures).where(login_failures.c.address == address)).first()
    if row is None:
        return None
    # `row.count` would be the tuple method, hence the mapping.
    values = row._mapping
    return FailureRecord(
        values["address"], values["count"], values["first_at"], values["locked_until"]
    )


def clear_failures(conn: Connection, address: str) -> None:
    conn.execute(delete(login_failures).where(login_failures.c.address == address))


def reserve_attempt(
    conn: Connection, address: str, now: datetime, window: timedelta, limit: int
) -> datetime | None:
    """Count one login attempt from `address` atomically, before the password is checked.

    Returns when the lockout ends if the attempt is refused. Each step is a single
    UPDATE, so parallel attempts serialise on the row and none is lost: at most
    `limit` passwords are checked per address and window, however many arrive at once.
    """
    table = login_failures
    unlocked = or_(table.c.locked_until.is_(None), table.c.locked_until <= now)
    # Attempts older than one window are forgotten, so a typo a day never adds up.
    conn.execute(
        update(table)
        .where(table.c.address == address, table.c.first_at <= now - window, unlocked)
        .values(count=0, first_at=now, locked_until=None)
    )
    try:
        with conn.begin_nested():
            conn.execute(insert(table).values(address=address, count=0, first_at=now))
    except IntegrityError:
        pass  # the row exists: the increment below works on it
    counted = conn.execute(
        update(table)
        .where(table.c.address == address, unlocked)
        .values(count=table.c.count + 1)
        .returning(table.c.count)
    ).first()
    if counted is None:
        locked: datetime | None = conn.execute(
            select(table.c.locked_until).where(table.c.address == address)
        ).scalar_one()
        return locked
    if counted[0] > limit:
        until = now + window
        conn.execute(
            update(table).where(table.c.address == address).values(count=0, locked_until=until)
        )
        return until
    return None
