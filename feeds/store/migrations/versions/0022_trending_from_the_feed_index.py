"""ix_articles_feed also holds views: trending ranks its window from the index alone

Revision ID: 0022
Revises: 0021

Trending ranks the articles of its window by views. The window is a range of the feed
index, but views were in the row, so every article of the window cost a row read: on a
store publishing 500 articles a day that is a thousand row reads per ranking. With views
at the end of the index the ranking reads index entries only (SQLite's covering index,
PostgreSQL's index-only scan), and a page walk is unchanged: its order is the index's
first columns.
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

OLD = ["status", "published_at", "id", "sponsored"]
NEW = [*OLD, "views"]


def _replace(columns: list[str]) -> None:
    op.drop_index("ix_articles_feed", table_name="articles")
    op.create_index("ix_articles_feed", "articles", columns)


def upgrade() -> None:
    _replace(NEW)


def downgrade() -> None:
    _replace(OLD)
