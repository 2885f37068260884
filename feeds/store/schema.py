"""Table definitions. Alembic migrations create them; a test checks the two agree."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

from feeds.store.types import JSONList, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

sections = Table(
    "sections",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", String(100), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False, default=""),
)

sources = Table(
    "sources",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("url", Text, nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("section", String(100), ForeignKey("sections.slug"), nullable=False),
    Column("hashtags", JSONList, nullable=False, default=list),
    Column("category_mode", String(10), nullable=False, default="none"),
    Column("category_map", JSONList, nullable=False, default=list),
    Column("interval_seconds", Integer, nullable=False, default=900),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("retention_days", Integer, nullable=False, default=30),
    Column("max_items", Integer, nullable=False, default=100),
    Column("managed_by", String(200)),
    # Fetch state
    Column("etag", Text),
    Column("last_modified", Text),
    Column("body_hash", String(64)),
    Column("last_fetch_at", UTCDateTime),
    Column("last_success_at", UTCDateTime),
    Column("last_status", Integer),
    Column("last_error", Text),
    Column("failures", Integer, nullable=False, default=0),
    Column("next_check_at", UTCDateTime),
    Column("items_new", Integer, nullable=False, default=0),
    Column("items_updated", Integer, nullable=False, default=0),
    Column("items_unchanged", Integer, nullable=False, default=0),
    Column("items_duplicates", Integer, nullable=False, default=0, server_default="0"),
    Column("items_too_old", Integer, nullable=False, default=0, server_default="0"),
    Column("items_over_limit", Integer, nullable=False, default=0, server_default="0"),
    Column("items_refused", Integer, nullable=False, default=0, server_default="0"),
    Column("items_refusals", JSONList, nullable=False, default=list, server_default="[]"),
    Column("items_warnings", JSONList, nullable=False, default=list, server_default="[]"),
    Column("redirect_target", Text),
    Column("redirect_seen", Integer, nullable=False, default=0),
    Column("lease_until", UTCDateTime),
    Index("ix_sources_due", "enabled", "next_check_at"),
)

articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("guid", String(200), nullable=False, unique=True),
    Column("slug", String(200), nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False, default=""),
    Column("content_html", Text, nullable=False, default=""),
    Column("author", String(200), nullable=False, default=""),
    # The author feed's slug (feeds.slugs.author_slug); NULL for ingested articles.
    Column("author_slug", String(200)),
    Column("section", String(100), ForeignKey("sections.slug"), nullable=False),
    Column("url", Text),
    Column("image_url", Text),
    Column("image_type", String(100)),
    Column("image_length", Integer),
    Column("image_alt", Text),
    Column("views", Integer, nullable=False, default=0),
    Column("sponsored", Boolean, nullable=False, default=False),
    Column("status", String(10), nullable=False),
    Column("language", String(35), nullable=False),
    Column("published_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("source_id", Integer, ForeignKey("sources.id", ondelete="CASCADE")),
    Column("origin_id", Text),
    Column("origin_link", Text),
    Column("origin_date", Text),
    Column("content_hash", String(64)),
    # What `status` was when the article was withdrawn: a restore returns it there.
    Column("status_before_withdrawal", String(10)),
    # The content with its URLs made absolute when it was written, and the link they
    # were resolved against: feed renders use it while that is still the article's link
    # (see feeds/absolutize.py). NULL for rows written before it was kept.
    Column("feed_base", Text),
    Column("feed_content", Text),
    UniqueConstraint("source_id", "origin_id", name="uq_articles_source_origin"),
    # Feeds read newest first from a point: each index has the columns a feed fixes, then
    # (published_at, id), so a page is one range walk whatever the store's size; the
    # sponsored flag after them lets the walk filter without reading the row, and views
    # let trending rank its window (a range of this index) without reading the rows.
    Index("ix_articles_feed", "status", "published_at", "id", "sponsored", "views"),
    Index("ix_articles_section_feed", "section", "status", "published_at", "id", "sponsored"),
    Index("ix_articles_author_feed", "author_slug", "status", "published_at", "id", "sponsored"),
    # `feeds import` finds the newsroom's article for a record by its canonical URL. A
    # hash index: URLs have no length limit, and a btree entry must fit in a page.
    Index(
        "ix_articles_newsroom_url",
        "url",
        postgresql_using="hash",
        postgresql_where=text("source_id IS NULL"),
        sqlite_where=text("source_id IS NULL"),
    ),
)

hashtags = Table(
    "hashtags",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(400), nullable=False, unique=True),
    Column("display", String(400), nullable=False),
    # Set once a visible article carries the tag; until then its feed is unknown (404),
    # so a tag used only by drafts or scheduled articles cannot leak a story.
    Column("public", Boolean, nullable=False, default=False, server_default=false()),
)

article_hashtags = Table(
    "article_hashtags",
    metadata,
    Column(
        "article_id",
        Integer,
        ForeignKey("articles.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "hashtag_id",
        Integer,
        ForeignKey("hashtags.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("position", Integer, nullable=False),
    # Copies of the article's columns that hashtag feeds and tag-feed rules filter and
    # order by, kept in step on every write, so a hashtag's feed is one walk of the
    # index below (which holds all it needs) and never a walk of every article probing
    # for the tag.
    Column("status", String(10), nullable=False),
    Column("published_at", UTCDateTime, nullable=False),
    Column("sponsored", Boolean, nullable=False),
    Column("section", String(100), nullable=False),
    Index(
        "ix_article_hashtags_tag_feed",
        "hashtag_id",
        "status",
        "published_at",
        "article_id",
        "sponsored",
        "section",
    ),
)

tag_feeds = Table(
    "tag_feeds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", String(100), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("any_of", JSONList, nullable=False, default=list),
    Column("all_of", JSONList, nullable=False, default=list),
    Column("none_of", JSONList, nullable=False, default=list),
    Column("sections", JSONList, nullable=False, default=list),
    Column("include_sponsored", Boolean, nullable=False, default=False),
    Column("item_limit", Integer, nullable=False, default=50),
    Column("managed_by", String(200)),
)

feed_versions = Table(
    "feed_versions",
    metadata,
    Column("key", String(500), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
    Column("next_change_at", UTCDateTime),
    # When a write last created the row or moved its version or next change, by the
    # writer's clock: the publisher reads the rows moved since its last round.
    Column("moved_at", UTCDateTime, nullable=False),
    Index("ix_feed_versions_next_change_at", "next_change_at"),
    Index("ix_feed_versions_moved_at", "moved_at"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("scopes", JSONList, nullable=False, default=list),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    Column("last_used_at", UTCDateTime),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("password_changed_at", UTCDateTime),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(50), nullable=False),
    Column("target_kind", String(50), nullable=False),
    Column("target_id", String(200), nullable=False),
    # JSON documents as text, like JSONList: both databases store and return them alike.
    Column("before", Text),
    Column("after", Text),
    Index("ix_audit_log_at", "at"),
)

login_failures = Table(
    "login_failures",
    metadata,
    # One row per client address; kept in the store so every worker sees the same count.
    Column("address", String(100), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("first_at", UTCDateTime, nullable=False),
    Column("locked_until", UTCDateTime),
)

instance_secrets = Table(
    "instance_secrets",
    metadata,
    # Secrets every process of one deployment must share (the session signing key), made
    # once by the first process that needs them.
    Column("name", String(100), primary_key=True),
    Column("value", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

rate_limits = Table(
    "rate_limits",
    metadata,
    # Fixed-window counters of the rate limiter when no Redis is configured, so every
    # worker counts the same requests. expires_at is epoch seconds, as the limiter keeps it.
    Column("key", String(400), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("expires_at", Float, nullable=False),
)

websub_subscriptions = Table(
    "websub_subscriptions",
    metadata,
    # One row per (topic, callback) of the built-in WebSub hub. `pending_*` hold an
    # intent (subscribe or unsubscribe) waiting for its verification GET; the live
    # subscription's fields change only once the subscriber confirms.
    Column("id", Integer, primary_key=True),
    Column("topic", String(2000), nullable=False),
    Column("callback", String(2000), nullable=False),
    Column("feed", String(600), nullable=False),
    Column("format", String(10), nullable=False),
    Column("active", Boolean, nullable=False, server_default=false()),
    Column("secret", String(200)),
    Column("lease_seconds", Integer, nullable=False),
    Column("expires_at", UTCDateTime),
    Column("verified_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("pending_mode", String(20)),
    Column("pending_secret", String(200)),
    Column("pending_lease", Integer),
    Column("pending_at", UTCDateTime),
    Column("verify_error", Text),
    # A scheduler took the pending intent's verification until then (a conditional
    # update, so of two schedulers one sends the GET); the outcome clears it.
    Column("verifying_until", UTCDateTime),
    # Content distribution: the feed version last delivered (or given up on).
    Column("delivered_version", Integer),
    Column("last_delivery_at", UTCDateTime),
    Column("last_status", Integer),
    Column("last_error", Text),
    Column("failures", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", UTCDateTime),
    UniqueConstraint("topic", "callback"),
    Index("ix_websub_subscriptions_feed", "feed"),
)

feed_pollers = Table(
    "feed_pollers",
    metadata,
    # Who polls each feed: one row per (feed, poller), a poller being a User-Agent (with
    # any subscriber count taken out) and an address, kept as a digest. Web processes
    # add their counts every `poller_flush_seconds`, never on a feed request; counts
    # restart when a poller returns after a day away, and rows idle for a week go.
    Column("feed", String(600), primary_key=True),
    Column("poller", String(32), primary_key=True),
    Column("agent", String(100), nullable=False),
    Column("user_agent", String(300), nullable=False),
    Column("subscribers", Integer),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    Column("requests", Integer, nullable=False),
    Column("not_modified", Integer, nullable=False),
    Index("ix_feed_pollers_last_seen", "last_seen"),
)

source_push = Table(
    "source_push",
    metadata,
    # WebSub subscriptions this service holds as a subscriber, one per source whose feed
    # advertises a hub. `token` names the callback (`/websub/callback/<token>`), so a
    # source's callback cannot be guessed from its id.
    Column("source_id", Integer, ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True),
    Column("hub", String(2000), nullable=False),
    Column("topic", String(2000), nullable=False),
    Column("token", String(64), nullable=False, unique=True),
    Column("secret", String(200), nullable=False),
    Column("state", String(20), nullable=False),
    Column("lease_seconds", Integer),
    Column("expires_at", UTCDateTime),
    Column("requested_at", UTCDateTime),
    Column("verified_at", UTCDateTime),
    Column("next_attempt_at", UTCDateTime),
    Column("failures", Integer, nullable=False, server_default=text("0")),
    Column("error", Text),
    Column("pushes", Integer, nullable=False, server_default=text("0")),
    Column("last_push_at", UTCDateTime),
    Column("refused", Integer, nullable=False, server_default=text("0")),
    Column("last_refused_at", UTCDateTime),
    # A scheduler is asking the hub for the subscription until then (a conditional
    # update, so of two schedulers one asks); the outcome clears it.
    Column("requesting_until", UTCDateTime),
)

websub_announcements = Table(
    "websub_announcements",
    metadata,
    # What the outside WebSub hub (setting websub_hub) was told, one row per feed, so
    # every scheduler process on the store shares it and a restart keeps it. `version`
    # is the feed version the hub last accepted (or the one the feed had when first
    # seen, which is not a change); `hub` the hub it was announced to (a new hub starts
    # from the present versions; none: a row from before hubs were recorded, taken as
    # the configured hub's); `pinging_until` is a scheduler's claim on the ping for a
    # newer one (a conditional update, so of two schedulers one pings); after a failed
    # ping, no ping before `next_attempt_at` (backoff by `failures`).
    Column("feed", String(500), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("announced_at", UTCDateTime),
    Column("failures", Integer, nullable=False, server_default=text("0")),
    Column("pinging_until", UTCDateTime),
    Column("hub", String(2000)),
    Column("next_attempt_at", UTCDateTime),
)

archive_moves = Table(
    "archive_moves",
    metadata,
    # Monthly archives (RFC 5005) a write changed and the publisher has not published
    # since: one row per feed, month and instant the change shows (a scheduled article's
    # month changes when it comes due). `month` is `YYYY-MM`, or `*` for every month of
    # the feed (its definition or a section title changed); `key` is `*` for every feed.
    # `version` counts the writes, so the publisher deletes only the moves it published.
    Column("key", String(500), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("due_at", UTCDateTime, primary_key=True),
    Column("version", Integer, nullable=False),
    Index("ix_archive_moves_due_at", "due_at"),
)
