"""Secrets shared by every process of one deployment, kept in the store."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from feeds.store.schema import instance_secrets


def get(conn: Connection, name: str) -> tuple[str, datetime] | None:
    row = conn.execute(
        select(instance_secrets.c.value, instance_secrets.c.created_at).where(
            instance_secrets.c.name == name
        )
    ).first()
    return (row.value, row.created_at) if row else None


def create_once(conn: Connection, name: str, value: str, now: datetime) -> bool:
    """Store `value` unless another process stored one first; True when this one won.

    The insert runs in a savepoint so a lost race leaves the caller's transaction usable
    for reading the winner's value.
    """
    try:
        with conn.begin_nested():
            conn.execute(insert(instance_secrets).values(name=name, value=value, created_at=now))
    except IntegrityError:
        return False
    return True
