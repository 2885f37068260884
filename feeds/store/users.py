"""Admin users and the per-address login failure counter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update

from feeds.store.schema import login_failures, users


@dataclass(frozen=True)
class UserRecord:
    id: int
    name: str
    password_hash: str
    created_at: datetime
    disabled: bool


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


def set_password(conn: Connection, name: str, password_hash: str) -> bool:
    result = conn.execute(
        update(users).where(users.c.name == name).values(password_hash=password_hash)
    )
    return result.rowcount > 0


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


def save_failures(conn: Connection, record: FailureRecord) -> None:
    values = {
        "count": record.count,
        "first_at": record.first_at,
        "locked_until": record.locked_until,
    }
    result = conn.execute(
        update(login_failures).where(login_failures.c.address == record.address).values(**values)
    )
    if result.rowcount == 0:
        conn.execute(insert(login_failures).values(address=record.address, **values))


def clear_failures(conn: Connection, address: str) -> None:
    conn.execute(delete(login_failures).where(login_failures.c.address == address))
