"""articles: an index on the newsroom's canonical URLs, which `feeds import` matches on

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_articles_newsroom_url",
        "articles",
        ["url"],
        postgresql_using="hash",
        postgresql_where=sa.text("source_id IS NULL"),
        sqlite_where=sa.text("source_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_articles_newsroom_url", table_name="articles")
