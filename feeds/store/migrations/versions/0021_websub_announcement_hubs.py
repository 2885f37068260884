"""websub_announcements.hub and .next_attempt_at: announced per hub, failed pings wait

Revision ID: 0021
Revises: 0020

A ping the outside hub refused or could not take was sent again by the very next round,
so a hub that refuses a URL heard of it every round; `next_attempt_at` holds the end of
the wait. `hub` is the hub a row's version was announced to, so a new `websub_hub` starts
from the feeds' present versions instead of being taken as told what the old one was.
Rows already there get no hub: the first round after the upgrade takes them as the
configured hub's, which is the hub they were announced to unless it was changed in the
same upgrade.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import feeds.store.types

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # In place, not batch mode: adding a nullable column rewrites no row on either database.
    when = feeds.store.types.UTCDateTime
    op.add_column("websub_announcements", sa.Column("hub", sa.String(2000), nullable=True))
    op.add_column("websub_announcements", sa.Column("next_attempt_at", when(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE websub_announcements DROP COLUMN next_attempt_at")
    op.execute("ALTER TABLE websub_announcements DROP COLUMN hub")
