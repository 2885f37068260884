"""source_push: WebSub subscriptions held for sources whose feeds advertise a hub

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import feeds.store.types

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    when = feeds.store.types.UTCDateTime
    op.create_table(
        "source_push",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("hub", sa.String(2000), nullable=False),
        sa.Column("topic", sa.String(2000), nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("secret", sa.String(200), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("lease_seconds", sa.Integer(), nullable=True),
        sa.Column("expires_at", when(), nullable=True),
        sa.Column("requested_at", when(), nullable=True),
        sa.Column("verified_at", when(), nullable=True),
        sa.Column("next_attempt_at", when(), nullable=True),
        sa.Column("failures", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("pushes", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_push_at", when(), nullable=True),
        sa.Column("refused", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_refused_at", when(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_source_push_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source_id", name=op.f("pk_source_push")),
        sa.UniqueConstraint("token", name=op.f("uq_source_push_token")),
    )


def downgrade() -> None:
    op.drop_table("source_push")
