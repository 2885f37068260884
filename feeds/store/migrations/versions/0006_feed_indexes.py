"""Feed indexes: every feed is a range walk ending in (published_at, id)

The article-hashtag link carries the article's status, publish time, sponsored flag and
section, so a hashtag's feed walks (hashtag_id, status, published_at, article_id) instead
of walking every article and probing for the tag.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from feeds.store.types import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

COPIED = ("status", "published_at", "sponsored", "section")


def upgrade() -> None:
    # Added as nullable (SQLite cannot add a NOT NULL column without a default), filled
    # from the articles, then made NOT NULL.
    op.add_column("article_hashtags", sa.Column("status", sa.String(10), nullable=True))
    op.add_column("article_hashtags", sa.Column("published_at", UTCDateTime(), nullable=True))
    op.add_column("article_hashtags", sa.Column("sponsored", sa.Boolean(), nullable=True))
    op.add_column("article_hashtags", sa.Column("section", sa.String(100), nullable=True))
    op.execute(
        "UPDATE article_hashtags SET (status, published_at, sponsored, section) ="
        " (SELECT status, published_at, sponsored, section FROM articles"
        " WHERE articles.id = article_hashtags.article_id)"
    )
    # On SQLite this copies article_hashtags into a new table; nothing references it, so
    # dropping the old copy cascades nowhere.
    with op.batch_alter_table("article_hashtags") as batch:
        for name in COPIED:
            batch.alter_column(name, nullable=False)
        batch.drop_index("ix_article_hashtags_hashtag")
        batch.create_index(
            "ix_article_hashtags_feed", ["hashtag_id", "status", "published_at", "article_id"]
        )
    op.drop_index("ix_articles_status_published", table_name="articles")
    op.drop_index("ix_articles_section_published", table_name="articles")
    op.create_index("ix_articles_status_published_id", "articles", ["status", "published_at", "id"])
    op.create_index(
        "ix_articles_section_status_published_id",
        "articles",
        ["section", "status", "published_at", "id"],
    )
    op.create_index("ix_feed_versions_next_change_at", "feed_versions", ["next_change_at"])


def downgrade() -> None:
    op.drop_index("ix_feed_versions_next_change_at", table_name="feed_versions")
    op.drop_index("ix_articles_section_status_published_id", table_name="articles")
    op.drop_index("ix_articles_status_published_id", table_name="articles")
    op.create_index("ix_articles_section_published", "articles", ["section", "published_at"])
    op.create_index("ix_articles_status_published", "articles", ["status", "published_at"])
    with op.batch_alter_table("article_hashtags") as batch:
        batch.drop_index("ix_article_hashtags_feed")
        batch.create_index("ix_article_hashtags_hashtag", ["hashtag_id", "article_id"])
        for name in COPIED:
            batch.drop_column(name)
