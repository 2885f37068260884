"""articles.status_before_withdrawal: restoring returns an article to where it was

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

articles = sa.table(
    "articles",
    sa.column("id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("status_before_withdrawal", sa.String),
)
audit_log = sa.table(
    "audit_log",
    sa.column("id", sa.Integer),
    sa.column("action", sa.String),
    sa.column("target_kind", sa.String),
    sa.column("target_id", sa.String),
    sa.column("before", sa.Text),
)
STATUSES = ("draft", "published")


def upgrade() -> None:
    # In place, not batch mode: SQLite's batch copy would drop the table it rebuilds.
    op.add_column("articles", sa.Column("status_before_withdrawal", sa.String(10), nullable=True))
    # Articles withdrawn from the admin before this revision: the audit log kept the
    # status they had. Others stay unknown, and restoring one makes it a draft, which
    # never publishes anything by surprise.
    conn = op.get_bind()
    withdrawn = {
        str(row.id)
        for row in conn.execute(sa.select(articles.c.id).where(articles.c.status == "withdrawn"))
    }
    if not withdrawn:
        return
    last: dict[str, str] = {}
    entries = conn.execute(
        sa.select(audit_log.c.target_id, audit_log.c.before)
        .where(audit_log.c.action == "withdraw", audit_log.c.target_kind == "article")
        .order_by(audit_log.c.id)
    )
    for entry in entries:
        if entry.target_id not in withdrawn:
            continue
        try:
            status = json.loads(entry.before or "null").get("status")
        except (ValueError, AttributeError):
            continue
        if status in STATUSES:
            last[entry.target_id] = status
    for target_id, status in last.items():
        conn.execute(
            sa.update(articles)
            .where(articles.c.id == int(target_id))
            .values(status_before_withdrawal=status)
        )


def downgrade() -> None:
    op.execute("ALTER TABLE articles DROP COLUMN status_before_withdrawal")
