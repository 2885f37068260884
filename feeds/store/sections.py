"""The sections table."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select, update

from feeds.models import Section
from feeds.store.schema import sections

# Built once: every feed render reads the section titles.
_ALL = select(sections).order_by(sections.c.title)


def all_sections(conn: Connection) -> list[Section]:
    rows = conn.execute(_ALL).all()
    return [Section(slug=r.slug, title=r.title, description=r.description) for r in rows]


def get(conn: Connection, slug: str) -> Section | None:
    row = conn.execute(select(sections).where(sections.c.slug == slug)).first()
    return Section(slug=row.slug, title=row.title, description=row.description) if row else None


def upsert(conn: Connection, section: Section) -> bool:
    """Insert or update; True when something changed."""
    current = get(conn, section.slug)
    if current == section:
        return False
    values = {"title": section.title, "description": section.description}
    if current is None:
        conn.execute(insert(sections).values(slug=section.slug, **values))
    else:
        conn.execute(update(sections).where(sections.c.slug == section.slug).values(**values))
    return True
