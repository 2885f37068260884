"""The feed queries agree with the plain definition of each feed, page after page.

Several hundred articles with random hashtags, sections, statuses, sponsorship and dates
(some scheduled) are written through the service; every kind of feed query (all,
section, hashtag, rules with any/all/none and sections, trending) is then paged through
with `before=` cursors and compared with a filter-and-sort of the same articles in
Python. The hashtag link's copies of each article's columns are checked to match the
article after every kind of write.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from feeds.models import Article, FeedQuery, Status, TagRule
from feeds.service import Service
from feeds.store import feedquery
from feeds.store.schema import article_hashtags, articles
from tests.conftest import FakeClock, article_payload

SECTIONS = ("world", "business", "technology", "culture", "sport")
PAGE = 3
TAGS = ("Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta", "Eta", "Theta")


@pytest.fixture
def stored(service: Service, clock: FakeClock) -> list[Article]:
    rng = random.Random(7)
    made = []
    with service.ctx.unit_of_work():
        for n in range(360):
            # Whole minutes over a few days, so many articles share a publish time and
            # the id must break the tie; a few lie in the future (scheduled).
            published = clock.now - timedelta(minutes=rng.randrange(-300, 6000, 7))
            payload = article_payload(
                title=f"Story {n}",
                slug=f"story-{n}",
                section=rng.choice(SECTIONS),
                hashtags=rng.sample(TAGS, rng.randrange(0, 6)),
                sponsored=rng.random() < 0.15,
                status=rng.choice(["published"] * 8 + ["draft", "withdrawn"]),
                published_at=published.isoformat(),
                views=rng.randrange(0, 50),
            )
            made.append(service.articles.create(payload))
    return made


def expected(stored: list[Article], spec: FeedQuery, now: Any) -> list[int]:
    def shown(a: Article) -> bool:
        if not a.visible_at(now) or (a.sponsored and not spec.include_sponsored):
            return False
        if spec.section is not None and a.section != spec.section:
            return False
        if spec.tag is not None and spec.tag not in a.hashtag_keys:
            return False
        if spec.published_after is not None and a.published_at < spec.published_after:
            return False
        if spec.by_views and a.views == 0:
            return False
        return spec.rule is None or spec.rule.matches(a)

    found = [a for a in stored if shown(a)]
    if spec.by_views:
        found.sort(key=lambda a: (a.views, a.published_at, a.id), reverse=True)
    else:
        found.sort(key=lambda a: (a.published_at, a.id), reverse=True)
    return [a.id for a in found if a.id is not None]


def rule_query(**rule: Any) -> FeedQuery:
    """A tag feed's query, as the service builds it: sponsorship is the rule's choice."""
    tag_rule = TagRule(**rule)
    return FeedQuery(rule=tag_rule, include_sponsored=tag_rule.include_sponsored)


SPECS = {
    "all": FeedQuery(include_sponsored=True),
    "section": FeedQuery(section="business", include_sponsored=False),
    "tag": FeedQuery(tag="gamma", include_sponsored=False),
    "unknown tag": FeedQuery(tag="nobody", include_sponsored=False),
    "any of": rule_query(any_of=("alpha", "beta", "nobody"), include_sponsored=True),
    "any all none sections": rule_query(
        any_of=("alpha", "beta", "gamma"),
        all_of=("delta",),
        none_of=("epsilon",),
        sections=("world", "business"),
    ),
    "all of": rule_query(all_of=("zeta", "eta")),
    "all of unknown": rule_query(all_of=("zeta", "nobody"), include_sponsored=True),
    "sections none": rule_query(
        sections=("sport", "culture"), none_of=("theta", "alpha"), include_sponsored=True
    ),
}


@pytest.mark.parametrize("name", list(SPECS))
def test_pages_match_the_definition(
    service: Service, clock: FakeClock, stored: list[Article], name: str
) -> None:
    spec = SPECS[name]
    want = expected(stored, spec, clock.now)
    got: list[int] = []
    read: list[Article] = []
    before = None
    with service.ctx.store.read() as conn:
        while True:
            page = feedquery.visible(conn, spec, clock.now, PAGE, before)
            got.extend(a.id for a in page if a.id is not None)
            read.extend(page)
            if len(page) < PAGE:
                break
            before = (page[-1].published_at, page[-1].id)
        future = expected(stored, spec, clock.now + timedelta(days=1))
        next_due = feedquery.next_pending(conn, spec, clock.now)
        newest = feedquery.newest_change(conn, spec, clock.now)
    assert got == want
    if name != "unknown tag" and name != "all of unknown":
        assert len(want) > 2 * PAGE  # the feed really pages
    by_id = {a.id: a for a in stored}
    # Each article reads back as written: its hashtags in the writer's order (read in
    # the page's own statement), its times aware UTC, every other field the same.
    assert [a.hashtags for a in read] == [by_id[a.id].hashtags for a in read]
    assert read == [by_id[a.id] for a in read]
    assert any(len(a.hashtags) > 2 for a in read) or not read
    scheduled = [by_id[i].published_at for i in future if by_id[i].published_at > clock.now]
    assert next_due == min(scheduled, default=None)
    if name == "all":
        assert next_due is not None  # the data holds scheduled articles
    assert newest == max((by_id[i].updated_at for i in want), default=None)


def test_trending_ranks_the_window_by_views(
    service: Service, clock: FakeClock, stored: list[Article]
) -> None:
    spec = FeedQuery(
        published_after=clock.now - timedelta(hours=48), by_views=True, include_sponsored=False
    )
    with service.ctx.store.read() as conn:
        got = [a.id for a in feedquery.visible(conn, spec, clock.now, 500)]
    want = expected(stored, spec, clock.now)
    # The whole ranking: unread articles of the window are left out, not ranked last.
    unread = [a for a in stored if a.visible_at(clock.now) and a.views == 0]
    assert len(want) > 20 and unread
    assert got == want


def link_mismatches(service: Service) -> list[Any]:
    link = article_hashtags
    copied = ("status", "published_at", "sponsored", "section")
    with service.ctx.store.read() as conn:
        rows = conn.execute(
            select(
                link.c.article_id, *(link.c[c] for c in copied), *(articles.c[c] for c in copied)
            ).join(articles, articles.c.id == link.c.article_id)
        ).all()
    assert rows
    return [row for row in rows if tuple(row[1:5]) != tuple(row[5:9])]


def test_links_follow_every_change_to_their_article(
    service: Service, clock: FakeClock, stored: list[Article]
) -> None:
    assert link_mismatches(service) == []
    tagged = [a for a in stored if a.hashtags]
    first, second, third, fourth = (a.id or 0 for a in tagged[:4])
    later = (clock.now + timedelta(days=2)).isoformat()
    service.articles.withdraw(first)
    service.articles.patch(second, {"published_at": later})
    service.articles.patch(third, {"sponsored": not tagged[2].sponsored, "section": "sport"})
    service.articles.patch(fourth, {"status": "draft"})
    service.articles.restore(first)
    service.articles.withdraw(third)
    assert link_mismatches(service) == []
    with service.ctx.store.read() as conn:
        statuses = dict(
            conn.execute(
                select(article_hashtags.c.article_id, article_hashtags.c.status).where(
                    article_hashtags.c.article_id.in_([first, third, fourth])
                )
            ).all()
        )
    assert statuses == {
        # A restore returns to the status before withdrawal; one never recorded (the
        # fixture stores some articles withdrawn from the start) comes back a draft.
        first: Status.DRAFT.value
        if tagged[0].status is Status.WITHDRAWN
        else tagged[0].status.value,
        third: Status.WITHDRAWN.value,
        fourth: Status.DRAFT.value,
    }


def test_an_all_of_rule_is_driven_by_its_rarest_tag_from_a_bounded_probe(
    service: Service, clock: FakeClock
) -> None:
    # Both tags have more links than the probe reads: "Dense" on an article a minute,
    # "Sparse" on one a day. A walk from the present meets far fewer Sparse links.
    with service.ctx.unit_of_work():
        for n in range(feedquery.SIZE_PROBE + 6):
            for tag, step in (("Dense", timedelta(minutes=1)), ("Sparse", timedelta(days=1))):
                published = clock.now - step * (n + 1)
                payload = article_payload(title=f"{tag} {n}", slug=f"{tag.lower()}-{n}", url=None)
                payload |= {"hashtags": [tag], "published_at": published.isoformat()}
                service.articles.create(payload)
        both = article_payload(title="Both", slug="both", hashtags=["Dense", "Sparse"], url=None)
        both["published_at"] = (clock.now - timedelta(days=3, hours=1)).isoformat()
        service.articles.create(both)
    spec = FeedQuery(rule=TagRule(all_of=("dense", "sparse")))
    with service.ctx.store.read() as conn:
        ids = feedquery._tag_ids(conn, ["dense", "sparse"])
        assert feedquery._smallest(conn, [ids["dense"], ids["sparse"]]) == ids["sparse"]
        assert feedquery._smallest(conn, [ids["sparse"], ids["dense"]]) == ids["sparse"]
        found = feedquery.visible(conn, spec, clock.now, 10)
    assert [a.title for a in found] == ["Both"]
