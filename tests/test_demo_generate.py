"""`feeds demo generate`: an invented newsroom, and a store consistent for everything else.

The generated store is checked the way the rest of the service sees it: hashtag links
agree with their articles, a hashtag is public exactly when a visible article carries
it, the feeds serve the newest visible articles, feed versions moved (and know when the
next scheduled article comes due), every article passes the API's own validation, and
an article written afterwards through the API gets the next id.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from feeds.models import ArticleFilter, FeedKey, FeedKind, Status
from feeds.service import Service
from feeds.service.articles import article_to_dict
from feeds.service.demo_data import newsroom
from feeds.service.demo_generate import _Maker, _vocabulary
from feeds.store import versions as version_store
from feeds.store.schema import article_hashtags, articles, hashtags
from tests.conftest import FakeClock, article_payload
from tests.test_cli import error_json, ok_json, run
from tests.test_feed_queries import link_mismatches

COUNT = 3000
SECTIONS = ["world", "business", "technology", "culture", "sport"]


def generate(runner: FlaskCliRunner, count: int = COUNT, seed: int = 5) -> dict[str, Any]:
    report: dict[str, Any] = ok_json(
        run(runner, "demo", "generate", "--articles", str(count), "--seed", str(seed), "--json")
    )
    return report


def stored(service: Service) -> list[Any]:
    with service.ctx.store.read() as conn:
        return list(
            conn.execute(
                select(
                    articles.c.id, articles.c.status, articles.c.published_at,
                    articles.c.sponsored, articles.c.section, articles.c.updated_at,
                ).order_by(articles.c.id)
            )
        )  # fmt: skip


def test_report_and_shape(runner: FlaskCliRunner, service: Service, clock: FakeClock) -> None:
    report = generate(runner)
    assert report["articles"] == COUNT
    assert sum(report["statuses"].values()) == COUNT
    assert report["first_id"] == 1
    rows = stored(service)
    assert len(rows) == COUNT
    # Oldest first, so ids follow publish time; five years up to three days ahead.
    published = [row.published_at for row in rows]
    assert published == sorted(published)
    assert clock.now - timedelta(days=5 * 365) <= published[0] < clock.now - timedelta(days=1800)
    assert clock.now < published[-1] <= clock.now + timedelta(days=3)
    scheduled = [r for r in rows if r.status == "published" and r.published_at > clock.now]
    assert len(scheduled) == report["scheduled"] > 0
    assert Counter(r.status for r in rows) == report["statuses"]
    assert {"draft", "withdrawn"} <= set(report["statuses"])
    assert sum(r.sponsored for r in rows) == report["sponsored"] > 0
    sections = Counter(r.section for r in rows)
    assert set(sections) == set(SECTIONS)
    counts = sorted(sections.values())
    assert counts[-1] > 2 * counts[0]  # some sections are busier than others
    with service.ctx.store.read() as conn:
        per_tag = Counter(
            key for (key,) in conn.execute(
                select(hashtags.c.key).join(
                    article_hashtags, article_hashtags.c.hashtag_id == hashtags.c.id
                )
            )
        )  # fmt: skip
    assert 0.25 < per_tag["latest"] / COUNT < 0.35  # the hot tag
    assert per_tag[report["examples"]["tail"]] < COUNT / 200  # the long tail
    assert per_tag[report["examples"]["rare"]] < 5  # one story in 10,000
    assert len(per_tag) > 500
    assert max(len(a.hashtags) for a in service.articles.list(ArticleFilter(limit=500))) <= (
        service.settings.max_hashtags_per_article
    )


def test_the_store_stays_consistent(
    runner: FlaskCliRunner, client: FlaskClient, service: Service, clock: FakeClock,
    writer_token: dict[str, str],
) -> None:  # fmt: skip
    # A feed with a version row before the load (the publisher recorded it): the load
    # must move it.
    service.feeds.settle(FeedKey(FeedKind.ALL))
    with service.ctx.store.read() as conn:
        before = version_store.get(conn, FeedKey(FeedKind.ALL))
    assert before is not None
    report = generate(runner)

    assert link_mismatches(service) == []
    with service.ctx.store.read() as conn:
        flags = {
            row.id: row.public for row in conn.execute(select(hashtags.c.id, hashtags.c.public))
        }
        visible = {
            tag_id for (tag_id,) in conn.execute(
                select(article_hashtags.c.hashtag_id).where(
                    article_hashtags.c.status == Status.PUBLISHED.value,
                    article_hashtags.c.published_at <= clock.now,
                )
            )
        }  # fmt: skip
        after = version_store.get(conn, FeedKey(FeedKind.ALL))
    assert {tag_id for tag_id, public in flags.items() if public} == visible
    assert len(flags) > len(visible)  # the vocabulary holds tags no visible story carries
    assert after is not None and after.version > before.version
    rows = stored(service)
    due = min(
        r.published_at for r in rows if r.status == "published" and r.published_at > clock.now
    )
    assert after.next_change_at == due

    newest = max(
        (r for r in rows if r.status == "published" and r.published_at <= clock.now),
        key=lambda r: (r.published_at, r.id),
    )
    feed = json.loads(client.get("/feeds/all.json").data)
    assert feed["items"][0]["id"] == service.articles.get(newest.id).guid
    hot = json.loads(client.get(f"/feeds/tags/{report['examples']['hot']}.json").data)
    assert len(hot["items"]) == service.settings.feed_limit
    assert all("latest" in item["tags"] for item in hot["items"])
    assert client.get(f"/feeds/tags/{report['examples']['rare']}.json").status_code == 200

    # Every stored article is one the API would accept as it stands.
    for article in service.articles.list(ArticleFilter(limit=300)):
        payload = article_to_dict(article)
        for read_only in ("id", "guid", "origin"):
            payload.pop(read_only)
        service.articles.parse(payload)

    created = client.post("/api/v1/articles", json=article_payload(), headers=writer_token)
    assert created.status_code == 201
    assert created.get_json()["id"] == COUNT + 1


def test_same_seed_twice_is_refused_and_adds_nothing(
    runner: FlaskCliRunner, service: Service
) -> None:
    generate(runner, count=50, seed=9)
    failure = error_json(
        run(runner, "demo", "generate", "--articles", "50", "--seed", "9", "--json")
    )
    assert failure["kind"] == "conflict" and "seed 9" in failure["error"]
    assert service.articles.count() == 50
    assert generate(runner, count=50, seed=10)["first_id"] == 51


@pytest.mark.parametrize(
    ("args", "field"),
    [(["--articles", "0"], "articles"), (["--articles", "5", "--seed", "-1"], "seed")],
)
def test_bad_counts_are_refused_naming_the_option(
    runner: FlaskCliRunner, service: Service, args: list[str], field: str
) -> None:
    failure = error_json(run(runner, "demo", "generate", *args, "--json"))
    assert list(failure["fields"]) == [field]
    assert service.articles.count() == 0


def test_a_seed_always_gives_the_same_newsroom(clock: FakeClock) -> None:
    def titles_and_tags(seed: int) -> list[tuple[str, str, tuple[str, ...]]]:
        room = newsroom(seed)
        maker = _Maker("example.org,2026", room, _vocabulary(room), SECTIONS, seed, clock.now)
        return [
            (a.guid, a.title, tuple(t.key for t in a.hashtags))
            for batch in maker.batches(random.Random(f"articles-{seed}"), 300, 1)
            for a in batch
        ]

    assert titles_and_tags(3) == titles_and_tags(3)
    assert titles_and_tags(3) != titles_and_tags(4)


def test_progress_goes_to_stderr(runner: FlaskCliRunner) -> None:
    shown = run(runner, "demo", "generate", "--articles", "40", "--seed", "9", "--progress")
    assert shown.exit_code == 0, shown.output
    steps = shown.stderr.splitlines()
    assert steps
    assert all(s.startswith("generated ") and s.endswith(" of 40 articles") for s in steps)
    assert steps[-1] == "generated 40 of 40 articles"
    quiet = run(runner, "demo", "generate", "--articles", "40", "--seed", "10")
    assert quiet.exit_code == 0 and quiet.stderr == ""
