"""articles.author_slug and its feed index: one feed per newsroom author

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from feeds.models import author_slug

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

articles = sa.table(
    "articles",
    sa.column("author", sa.String),
    sa.column("author_slug", sa.String),
    sa.column("source_id", sa.Integer),
)
COLUMNS = ["author_slug", "status", "published_at", "id", "sponsored"]


def upgrade() -> None:
    # In place, not batch mode: SQLite's batch copy would drop the table it rebuilds.
    op.add_column("articles", sa.Column("author_slug", sa.String(200), nullable=True))
    conn = op.get_bind()
    # One update per distinct byline of the newsroom's own articles; ingested articles
    # keep NULL (their authors are not the newsroom's).
    names = conn.execute(
        sa.select(articles.c.author).where(articles.c.source_id.is_(None)).distinct()
    ).scalars()
    for name in list(names):
        conn.execute(
            sa.update(articles)
            .where(articles.c.source_id.is_(None), articles.c.author == name)
            .values(author_slug=author_slug(name) or None)
        )
    op.create_index("ix_articles_author_feed", "articles", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_articles_author_feed", table_name="articles")
    op.execute("ALTER TABLE articles DROP COLUMN author_slug")
