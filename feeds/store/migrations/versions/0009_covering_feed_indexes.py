"""Feed indexes hold what a feed filters on, so a walk never reads the rows

The article indexes gain the sponsored flag and the hashtag link's index the sponsored
flag and section, after (published_at, id): the order of a walk is unchanged, and
PostgreSQL answers it from the index alone instead of preferring to fetch and sort a
small tag's rows.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

NEW = (
    ("ix_articles_feed", "articles", ["status", "published_at", "id", "sponsored"]),
    (
        "ix_articles_section_feed",
        "articles",
        ["section", "status", "published_at", "id", "sponsored"],
    ),
    (
        "ix_article_hashtags_tag_feed",
        "article_hashtags",
        ["hashtag_id", "status", "published_at", "article_id", "sponsored", "section"],
    ),
)
OLD = (
    ("ix_articles_status_published_id", "articles", ["status", "published_at", "id"]),
    (
        "ix_articles_section_status_published_id",
        "articles",
        ["section", "status", "published_at", "id"],
    ),
    (
        "ix_article_hashtags_feed",
        "article_hashtags",
        ["hashtag_id", "status", "published_at", "article_id"],
    ),
)


def _replace(
    drop: tuple[tuple[str, str, list[str]], ...], create: tuple[tuple[str, str, list[str]], ...]
) -> None:
    for name, table, _columns in drop:
        op.drop_index(name, table_name=table)
    for name, table, columns in create:
        op.create_index(name, table, columns)


def upgrade() -> None:
    _replace(OLD, NEW)


def downgrade() -> None:
    _replace(NEW, OLD)
