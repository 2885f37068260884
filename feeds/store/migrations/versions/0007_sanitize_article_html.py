"""articles.content_html: newsroom HTML kept sanitised, like ingested HTML

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from feeds.ingest.sanitize import sanitize_html

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BATCH = 500

articles = sa.table(
    "articles",
    sa.column("id", sa.Integer),
    sa.column("content_html", sa.Text),
    sa.column("url", sa.Text),
    sa.column("source_id", sa.Integer),
)


def upgrade() -> None:
    # Ingested rows were sanitised when fetched; rows written through the API or an
    # import before this revision were stored as given and may carry script.
    conn = op.get_bind()
    last_id, changed = 0, False
    while True:
        rows = conn.execute(
            sa.select(articles.c.id, articles.c.content_html, articles.c.url)
            .where(articles.c.source_id.is_(None), articles.c.id > last_id)
            .order_by(articles.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        for row in rows:
            cleaned = sanitize_html(row.content_html, row.url)
            if cleaned != row.content_html:
                conn.execute(
                    sa.update(articles).where(articles.c.id == row.id).values(content_html=cleaned)
                )
                changed = True
        last_id = rows[-1].id
    if changed:
        # Every cached or published rendering may hold the old HTML: move every version.
        op.execute("UPDATE feed_versions SET version = version + 1")


def downgrade() -> None:
    # What was removed is not kept anywhere: there is nothing to put back.
    pass
