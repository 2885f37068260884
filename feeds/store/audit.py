"""The audit log: one append-only row per admin change."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select

from feeds.store.schema import audit_log


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    target_kind: str
    target_id: str
    before: Any
    after: Any


def _load(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _dump(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _entry(row: Row[Any]) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.at,
        actor=row.actor,
        action=row.action,
        target_kind=row.target_kind,
        target_id=row.target_id,
        before=_load(row.before),
        after=_load(row.after),
    )


def record(
    conn: Connection,
    *,
    at: datetime,
    actor: str,
    action: str,
    target_kind: str,
    target_id: str,
    before: Any,
    after: Any,
) -> None:
    conn.execute(
        insert(audit_log).values(
            at=at,
            actor=actor[:200],
            action=action,
            target_kind=target_kind,
            target_id=target_id[:200],
            before=_dump(before),
            after=_dump(after),
        )
    )


def entries(
    conn: Connection, *, limit: int, offset: int = 0, target_kind: str | None = None
) -> list[AuditEntry]:
    query = select(audit_log)
    if target_kind:
        query = query.where(audit_log.c.target_kind == target_kind)
    query = query.order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
    return [_entry(r) for r in conn.execute(query.limit(limit).offset(offset))]


def count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())
