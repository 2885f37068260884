"""websub_announcements: what the outside WebSub hub was told, kept in the store

Revision ID: 0020
Revises: 0019

Each scheduler process used to remember in memory which feed versions it had announced
to the outside hub, so two schedulers both pinged it for every change and a restart
forgot failed pings. The table starts empty: the first round takes every feed's present
version as announced, as a process starting did.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import feeds.store.types

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    when = feeds.store.types.UTCDateTime
    op.create_table(
        "websub_announcements",
        sa.Column("feed", sa.String(500), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("announced_at", when(), nullable=True),
        sa.Column("failures", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("pinging_until", when(), nullable=True),
        sa.PrimaryKeyConstraint("feed", name=op.f("pk_websub_announcements")),
    )


def downgrade() -> None:
    op.drop_table("websub_announcements")
