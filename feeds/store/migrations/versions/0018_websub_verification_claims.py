"""websub_subscriptions.verifying_until: the hub's verifications are claimed

Revision ID: 0018
Revises: 0017

A scheduler's claim on a pending intent's verification GET, so two schedulers on one
store never both send it. Existing rows start unclaimed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import feeds.store.types

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # In place, not batch mode: adding a nullable column rewrites no row on either database.
    when = feeds.store.types.UTCDateTime
    op.add_column("websub_subscriptions", sa.Column("verifying_until", when(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE websub_subscriptions DROP COLUMN verifying_until")
