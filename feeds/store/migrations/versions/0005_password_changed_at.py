"""users.password_changed_at: a password change ends the sessions begun before it

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import feeds.store.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # In place, not batch mode: SQLite's batch copy would drop the table it rebuilds.
    op.add_column(
        "users", sa.Column("password_changed_at", feeds.store.types.UTCDateTime(), nullable=True)
    )


def downgrade() -> None:
    op.execute("ALTER TABLE users DROP COLUMN password_changed_at")
