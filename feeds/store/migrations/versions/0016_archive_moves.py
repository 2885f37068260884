"""archive_moves: the monthly archives writes changed, for the publisher

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import feeds.store.types

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "archive_moves",
        sa.Column("key", sa.String(500), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("due_at", feeds.store.types.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "month", "due_at", name=op.f("pk_archive_moves")),
    )
    op.create_index(op.f("ix_archive_moves_due_at"), "archive_moves", ["due_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_archive_moves_due_at"), table_name="archive_moves")
    op.drop_table("archive_moves")
