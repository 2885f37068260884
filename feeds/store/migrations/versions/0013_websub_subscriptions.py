"""websub_subscriptions: the built-in WebSub hub's subscribers

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import feeds.store.types

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    when = feeds.store.types.UTCDateTime
    op.create_table(
        "websub_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(2000), nullable=False),
        sa.Column("callback", sa.String(2000), nullable=False),
        sa.Column("feed", sa.String(600), nullable=False),
        sa.Column("format", sa.String(10), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("secret", sa.String(200), nullable=True),
        sa.Column("lease_seconds", sa.Integer(), nullable=False),
        sa.Column("expires_at", when(), nullable=True),
        sa.Column("verified_at", when(), nullable=True),
        sa.Column("created_at", when(), nullable=False),
        sa.Column("pending_mode", sa.String(20), nullable=True),
        sa.Column("pending_secret", sa.String(200), nullable=True),
        sa.Column("pending_lease", sa.Integer(), nullable=True),
        sa.Column("pending_at", when(), nullable=True),
        sa.Column("verify_error", sa.Text(), nullable=True),
        sa.Column("delivered_version", sa.Integer(), nullable=True),
        sa.Column("last_delivery_at", when(), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("failures", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", when(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_websub_subscriptions")),
        sa.UniqueConstraint("topic", "callback", name=op.f("uq_websub_subscriptions_topic")),
    )
    op.create_index(
        op.f("ix_websub_subscriptions_feed"), "websub_subscriptions", ["feed"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_websub_subscriptions_feed"), table_name="websub_subscriptions")
    op.drop_table("websub_subscriptions")
