"""feed_pollers: who polls each feed, kept across restarts and shared by every process

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import feeds.store.types

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    when = feeds.store.types.UTCDateTime
    op.create_table(
        "feed_pollers",
        sa.Column("feed", sa.String(600), nullable=False),
        sa.Column("poller", sa.String(32), nullable=False),
        sa.Column("agent", sa.String(100), nullable=False),
        sa.Column("user_agent", sa.String(300), nullable=False),
        sa.Column("subscribers", sa.Integer(), nullable=True),
        sa.Column("first_seen", when(), nullable=False),
        sa.Column("last_seen", when(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("not_modified", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("feed", "poller"),
    )
    op.create_index("ix_feed_pollers_last_seen", "feed_pollers", ["last_seen"])


def downgrade() -> None:
    op.drop_index("ix_feed_pollers_last_seen", table_name="feed_pollers")
    op.drop_table("feed_pollers")
