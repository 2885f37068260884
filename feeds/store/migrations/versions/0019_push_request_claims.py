"""source_push.requesting_until: our subscription requests to hubs are claimed

Revision ID: 0019
Revises: 0018

A scheduler's claim on asking a source's hub for a subscription (or its renewal), so
two schedulers on one store never both ask. Existing rows start unclaimed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import feeds.store.types

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # In place, not batch mode: adding a nullable column rewrites no row on either database.
    when = feeds.store.types.UTCDateTime
    op.add_column("source_push", sa.Column("requesting_until", when(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE source_push DROP COLUMN requesting_until")
