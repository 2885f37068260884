"""`feeds demo generate`: a store of any size, shaped like a real newsroom's.

Articles are written in chronological order over five years up to a few days ahead
(those are scheduled), in batches through the store's bulk load (executemany on SQLite,
COPY on PostgreSQL), in one transaction: a failure adds nothing. Each article is the
same as one written through the API, so the store stays consistent for everything else:
its hashtag links carry their feed columns, hashtags a visible article carries are
public, and the versions of every feed the articles touch move as any write moves them.
"""

from __future__ import annotations

import itertools
import os
import random
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from feeds.absolutize import with_feed_copy
from feeds.errors import Conflict, ValidationError
from feeds.hashtags import hashtag
from feeds.models import Article, FeedKey, FeedMoves, Hashtag, Image, Status, author_slug
from feeds.service.articles import feed_moves
from feeds.service.context import Context
from feeds.service.demo_data import HOT_TAGS, SPONSORED_TAG, Newsroom, newsroom
from feeds.service.feedkeys import TRENDING
from feeds.slugs import slugify
from feeds.store import articles as article_store
from feeds.store import bulk
from feeds.store import hashtags as hashtag_store
from feeds.store import sections as section_store
from feeds.store import tagfeeds as tagfeed_store
from feeds.store import versions as version_store
from feeds.store.archive_moves import EVERY

MAX_ARTICLES = 10_000_000
MAX_SEED = 2**31 - 1
BATCH = 2000
HISTORY = timedelta(days=5 * 365)
AHEAD = timedelta(days=3)  # stories published in this span after now are scheduled
DRAFT_SHARE = 0.004
WITHDRAWN_SHARE = 0.003
SPONSORED_SHARE = 0.02
IMAGE_SHARE = 0.55
EDITED_SHARE = 0.25
# Sections in the store's order get these weights (the first is the busiest).
SECTION_WEIGHTS = (30, 25, 20, 15, 10)
# The long-tail example tag is the first used from this rank on (about 0.04% of stories).
TAIL_EXAMPLE_RANK = 300

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class GenerateReport:
    articles: int
    first_id: int
    statuses: dict[str, int]
    scheduled: int
    sponsored: int
    hashtags: int
    # A tag of each kind, for trying the feeds: the hottest, one from the long tail, a rare
    # one; and the slug of the most prolific author.
    examples: dict[str, str] = field(default_factory=dict)


@dataclass
class _Tally:
    statuses: dict[str, int] = field(default_factory=dict)
    scheduled: int = 0
    sponsored: int = 0
    changed: set[FeedKey] = field(default_factory=set)
    public: set[str] = field(default_factory=set)
    due: dict[FeedKey, datetime] = field(default_factory=dict)

    def add(self, article: Article, moves: FeedMoves, now: datetime) -> None:
        self.statuses[article.status.value] = self.statuses.get(article.status.value, 0) + 1
        if article.status is Status.PUBLISHED and article.published_at > now:
            self.scheduled += 1
        self.sponsored += article.sponsored
        self.changed |= moves.changed
        self.public |= moves.public_tags
        for keys, at in moves.expected:
            for key in keys:
                if key not in self.due or at < self.due[key]:
                    self.due[key] = at

    def moves(self, now: datetime) -> FeedMoves:
        by_time: dict[datetime, set[FeedKey]] = {}
        for key, at in self.due.items():
            by_time.setdefault(at, set()).add(key)
        expected = tuple((frozenset(keys), at) for at, keys in sorted(by_time.items()))
        # Every month of each feed changed, now and when its scheduled articles come due
        # (one row a feed instead of one a feed and month: a million articles touch most).
        archives = {(key, EVERY, now) for key in self.changed if key != TRENDING}
        archives |= {(key, EVERY, at) for key, at in self.due.items() if key != TRENDING}
        return FeedMoves(
            frozenset(self.changed), frozenset(self.public), expected, frozenset(archives)
        )


class DemoService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def generate(
        self, count: int, seed: int = 0, progress: Progress | None = None
    ) -> GenerateReport:
        errors = {}
        if not 1 <= count <= MAX_ARTICLES:
            errors["articles"] = f"must be a whole number from 1 to {MAX_ARTICLES}"
        if not 0 <= seed <= MAX_SEED:
            errors["seed"] = f"must be a whole number from 0 to {MAX_SEED}"
        if errors:
            raise ValidationError(errors)
        room = newsroom(seed)
        tags = _vocabulary(room)
        now = self.ctx.now()
        settings = self.ctx.settings
        tally = _Tally()
        with self.ctx.store.begin() as conn, bulk.loading(conn):
            sections = [s.slug for s in section_store.all_sections(conn)]
            if not sections:
                raise Conflict("the store has no sections: run `feeds init` first")
            tag_feeds = tagfeed_store.all_feeds(conn)
            maker = _Maker(self.ctx.settings.guid_authority, room, tags, sections, seed, now)
            maker.images = _images(Path(settings.media_dir))
            first_id = bulk.first_free_id(conn)
            tag_ids = hashtag_store.ensure(conn, tags.values())
            batches = maker.batches(random.Random(f"articles-{seed}"), count, first_id)

            def prepare() -> list[Article] | None:
                """The next batch, tallied and with feed copies: pure Python, run while
                the database writes."""
                batch = next(batches, None)
                if batch is None:
                    return None
                for article in batch:
                    tally.add(article, feed_moves(None, article, now, tag_feeds, settings), now)
                return [with_feed_copy(article, settings.public_root) for article in batch]

            done = 0
            with ThreadPoolExecutor(max_workers=1) as ahead:
                coming = ahead.submit(prepare)
                while (batch := coming.result()) is not None:
                    coming = ahead.submit(prepare)
                    if done == 0 and article_store.slug_taken(conn, batch[0].slug):
                        raise Conflict(
                            f"articles generated with seed {seed} are already in the store;"
                            " pick another seed"
                        )
                    bulk.insert_articles(conn, batch, tag_ids)
                    done += len(batch)
                    if progress is not None:
                        progress(done, count)
            bulk.finish(conn)
            moves = tally.moves(now)
            # Every feed the articles touch has a version row, moved like any write's.
            # Stamped when the load ends, not when it began: a round of the publisher
            # reads rows moved since its last one, less a margin far shorter than a load.
            moved = self.ctx.now()
            bulk.ensure_versions(conn, moves.changed | tally.due.keys(), moved)
            version_store.move(conn, moves, moved)
        bulk.after_load(self.ctx.store)
        return GenerateReport(
            articles=count,
            first_id=first_id,
            statuses=tally.statuses,
            scheduled=tally.scheduled,
            sponsored=tally.sponsored,
            hashtags=len(tags),
            examples={
                "hot": tags[HOT_TAGS[0][0]].key,
                "tail": _first_shown(tags, room.tail_tags[TAIL_EXAMPLE_RANK:], tally.public),
                "rare": _first_shown(tags, room.rare_tags, tally.public),
                "author": author_slug(room.authors[0]),
            },
        )


def _first_shown(tags: dict[str, Hashtag], names: Sequence[str], shown: set[str]) -> str:
    """The first of `names` whose feed has something to show ("" if none has)."""
    return next((tags[name].key for name in names if tags[name].key in shown), "")


def _vocabulary(room: Newsroom) -> dict[str, Hashtag]:
    names = [name for name, _ in HOT_TAGS] + [SPONSORED_TAG]
    names += [*room.tail_tags, *room.rare_tags]
    return {name: hashtag(name) for name in names}


def _images(folder: Path) -> list[Image]:
    """The media folder's PNG files as article images (none when the folder is absent)."""
    if not folder.is_dir():
        return []
    return [
        Image(
            url=f"/media/{entry.name}",
            mime_type="image/png",
            length=entry.stat().st_size,
            alt=entry.name.removesuffix(".png").capitalize(),
        )
        for entry in sorted(os.scandir(folder), key=lambda e: e.name)
        if entry.name.endswith(".png") and entry.is_file()
    ]


class _Maker:
    """Builds the articles of one run, oldest first."""

    def __init__(
        self,
        authority: str,
        room: Newsroom,
        tags: dict[str, Hashtag],
        sections: list[str],
        seed: int,
        now: datetime,
    ) -> None:
        self.authority = authority
        self.room = room
        self.tags = tags
        self.sections = sections
        extra = max(0, len(sections) - len(SECTION_WEIGHTS))
        weights = [*SECTION_WEIGHTS, *([5] * extra)][: len(sections)]
        self.section_weights = list(itertools.accumulate(weights))
        self.seed = seed
        self.now = now
        self.images: list[Image] = []

    def slug(self, title: str, serial: int) -> str:
        # The seed and serial make it unique; `g` keeps seed 1, serial 23 apart from 12, 3.
        return f"{slugify(title)[:60].rstrip('-')}-g{self.seed}-{serial}"

    def batches(self, rng: random.Random, count: int, first_id: int) -> Iterator[list[Article]]:
        start = self.now - HISTORY
        span = HISTORY + AHEAD
        batch: list[Article] = []
        for serial in range(count):
            # Evenly spread, jittered within each slot: chronological, so ids follow time.
            offset = span * ((serial + rng.random()) / count)
            published = (start + offset).replace(microsecond=0)
            batch.append(self.article(rng, serial, first_id + serial, published))
            if len(batch) == BATCH:
                yield batch
                batch = []
        if batch:
            yield batch

    def article(
        self, rng: random.Random, serial: int, article_id: int, published: datetime
    ) -> Article:
        room = self.room
        title = room.title(rng)
        roll = rng.random()
        status = Status.PUBLISHED
        if roll < DRAFT_SHARE:
            status = Status.DRAFT
        elif roll < DRAFT_SHARE + WITHDRAWN_SHARE:
            status = Status.WITHDRAWN
        sponsored = rng.random() < SPONSORED_SHARE
        image = None
        figure = None
        if self.images and rng.random() < IMAGE_SHARE:
            image = rng.choice(self.images)
            figure = f'<figure><img src="{image.url}" alt="{image.alt}"></figure>'
        updated = published
        if published < self.now and rng.random() < EDITED_SHARE:
            updated = min(published + timedelta(minutes=rng.randint(5, 4320)), self.now)
        seen = status is Status.PUBLISHED and published <= self.now
        return Article(
            id=article_id,
            guid=f"tag:{self.authority}:article:{uuid.UUID(int=rng.getrandbits(128), version=4)}",
            slug=self.slug(title, serial),
            title=title,
            summary=room.summary(rng),
            content_html=room.body(rng, figure),
            author=room.author(rng),
            section=rng.choices(self.sections, cum_weights=self.section_weights)[0],
            hashtags=tuple(self.tags[name] for name in room.hashtags(rng, sponsored)),
            published_at=published,
            updated_at=updated,
            image=image,
            views=int(rng.lognormvariate(3.5, 1.4)) if seen else 0,
            sponsored=sponsored,
            status=status,
        )
