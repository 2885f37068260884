"""hashtags.public: a tag becomes known once a published article carries it

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN, not batch mode: on SQLite batch mode copies and drops the
    # table, and with foreign keys on, dropping it would cascade to article_hashtags.
    op.add_column(
        "hashtags", sa.Column("public", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    # Tags already shown in a feed stay known; those only on drafts or scheduled
    # articles do not become visible through the upgrade.
    op.execute(
        "UPDATE hashtags SET public = TRUE WHERE id IN ("
        " SELECT article_hashtags.hashtag_id FROM article_hashtags"
        " JOIN articles ON articles.id = article_hashtags.article_id"
        " WHERE articles.status IN ('published', 'withdrawn')"
        " AND articles.published_at <= CURRENT_TIMESTAMP)"
    )


def downgrade() -> None:
    # DROP COLUMN in place (SQLite 3.35+, PostgreSQL), for the same reason.
    op.execute("ALTER TABLE hashtags DROP COLUMN public")
