"""feed_versions.moved_at: when a write last moved the row, indexed

Revision ID: 0023
Revises: 0022

The publisher read every version row each round that anything moved (a store with
20,000 feeds takes a second to read them all); it now reads the rows moved since its
last round. Rows already there take their `changed_at`: the publisher's first round
after the upgrade reads every row anyway.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from feeds.store.types import UTCDateTime

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Added as nullable (SQLite cannot add a NOT NULL column without a default), filled,
    # then made NOT NULL. On SQLite batch mode copies the table, which nothing references.
    op.add_column("feed_versions", sa.Column("moved_at", UTCDateTime(), nullable=True))
    op.execute("UPDATE feed_versions SET moved_at = changed_at")
    with op.batch_alter_table("feed_versions") as batch:
        batch.alter_column("moved_at", existing_type=UTCDateTime(), nullable=False)
    op.create_index("ix_feed_versions_moved_at", "feed_versions", ["moved_at"])


def downgrade() -> None:
    op.drop_index("ix_feed_versions_moved_at", table_name="feed_versions")
    with op.batch_alter_table("feed_versions") as batch:
        batch.drop_column("moved_at")
