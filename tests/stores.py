"""Empty databases of their own for tests that need more than the per-test store."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.conftest import PG_URL


@contextmanager
def fresh_database(folder: Path) -> Iterator[str]:
    """The URL of an empty database on the suite's database (a PostgreSQL schema or an
    SQLite file in `folder`), dropped afterwards."""
    if not PG_URL:
        yield f"sqlite:///{folder}/store.db"
        return
    schema = f"feeds_own_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
