"""API tokens, stored as SHA-256 hashes: a leaked database does not leak usable tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from feeds.store.schema import api_tokens


@dataclass(frozen=True)
class TokenRecord:
    id: int
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


def _record(row: object) -> TokenRecord:
    return TokenRecord(
        id=row.id,  # type: ignore[attr-defined]
        name=row.name,  # type: ignore[attr-defined]
        scopes=tuple(row.scopes),  # type: ignore[attr-defined]
        created_at=row.created_at,  # type: ignore[attr-defined]
        revoked_at=row.revoked_at,  # type: ignore[attr-defined]
        last_used_at=row.last_used_at,  # type: ignore[attr-defined]
    )


def create(
    conn: Connection, name: str, token_hash: str, scopes: tuple[str, ...], now: datetime
) -> None:
    conn.execute(
        insert(api_tokens).values(
            name=name, token_hash=token_hash, scopes=list(scopes), created_at=now
        )
    )


def by_hash(conn: Connection, token_hash: str) -> TokenRecord | None:
    row = conn.execute(select(api_tokens).where(api_tokens.c.token_hash == token_hash)).first()
    return _record(row) if row else None


def all_tokens(conn: Connection) -> list[TokenRecord]:
    return [_record(r) for r in conn.execute(select(api_tokens).order_by(api_tokens.c.name))]


def revoke(conn: Connection, name: str, now: datetime) -> bool:
    result = conn.execute(
        update(api_tokens)
        .where(api_tokens.c.name == name, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return result.rowcount > 0


def touch(conn: Connection, token_id: int, now: datetime) -> None:
    conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=now))
