"""feed_content: each article's content with its URLs made absolute when written

Revision ID: 0017
Revises: 0016

Rows written before keep NULL: their feeds make the copy at each render, as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # In place, not batch mode: SQLite's batch copy would drop the table it rebuilds (and
    # adding a nullable column rewrites no row on either database).
    op.add_column("articles", sa.Column("feed_base", sa.Text(), nullable=True))
    op.add_column("articles", sa.Column("feed_content", sa.Text(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE articles DROP COLUMN feed_content")
    op.execute("ALTER TABLE articles DROP COLUMN feed_base")
