"""sources.items_*: every entry of the latest fetch accounted for

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import feeds.store.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

COUNTS = ("items_duplicates", "items_too_old", "items_over_limit", "items_refused")
NOTES = ("items_refusals", "items_warnings")


def upgrade() -> None:
    # Plain ADD COLUMN, not batch mode: on SQLite batch mode copies and drops the table,
    # and with foreign keys on, dropping sources would cascade to its articles.
    for name in COUNTS:
        op.add_column("sources", sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    for name in NOTES:
        op.add_column(
            "sources",
            sa.Column(name, feeds.store.types.JSONList(), nullable=False, server_default="[]"),
        )


def downgrade() -> None:
    for name in (*COUNTS, *NOTES):
        op.execute(f"ALTER TABLE sources DROP COLUMN {name}")
