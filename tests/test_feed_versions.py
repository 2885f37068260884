"""Versions move whenever what a feed shows changes, including through its definition."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta

from flask.testing import FlaskClient
from lxml import etree

from feeds.models import FeedFormat, FeedKey, FeedKind
from feeds.service import Service
from tests.conftest import FakeClock, article_payload
from tests.plans import recording


def test_a_tag_feed_deleted_and_created_again_never_serves_the_old_render(
    client: FlaskClient, admin_token: dict[str, str]
) -> None:
    created = client.post(
        "/api/v1/tag-feeds",
        json={"slug": "asia", "title": "Old title", "any_of": ["Japan"]},
        headers=admin_token,
    )
    assert created.status_code == 201
    first = client.get("/feeds/custom/asia.json")
    assert first.get_json()["title"].endswith("Old title")
    assert client.delete("/api/v1/tag-feeds/asia", headers=admin_token).status_code == 204
    assert client.get("/feeds/custom/asia.json").status_code == 404
    again = client.post(
        "/api/v1/tag-feeds",
        json={"slug": "asia", "title": "New title", "any_of": ["Korea"]},
        headers=admin_token,
    )
    assert again.status_code == 201
    second = client.get("/feeds/custom/asia.json")
    assert second.get_json()["title"].endswith("New title")
    assert second.headers["ETag"] != first.headers["ETag"]
    assert (
        client.get(
            "/feeds/custom/asia.json", headers={"If-None-Match": first.headers["ETag"]}
        ).status_code
        == 200
    )


def test_a_scheduled_article_matched_by_a_changed_rule_appears_when_due(
    client: FlaskClient, admin_token: dict[str, str], clock: FakeClock
) -> None:
    client.post(
        "/api/v1/tag-feeds",
        json={"slug": "asia", "title": "Asia", "any_of": ["Japan"]},
        headers=admin_token,
    )
    assert client.get("/feeds/custom/asia.json").status_code == 200
    due = (clock.now + timedelta(hours=1)).isoformat()
    scheduled = client.post(
        "/api/v1/articles",
        json=article_payload(hashtags=["Korea"], published_at=due),
        headers=admin_token,
    )
    assert scheduled.status_code == 201
    changed = client.patch(
        "/api/v1/tag-feeds/asia", json={"any_of": ["Korea"]}, headers=admin_token
    )
    assert changed.status_code == 200
    assert client.get("/feeds/custom/asia.json").get_json()["items"] == []
    clock.advance(hours=2)
    items = client.get("/feeds/custom/asia.json").get_json()["items"]
    assert [item["title"] for item in items] == ["Harbour Cranes Return to Work"]


def test_a_renamed_section_shows_in_every_feed(
    client: FlaskClient, service: Service, admin_token: dict[str, str]
) -> None:
    assert (
        client.post("/api/v1/articles", json=article_payload(), headers=admin_token).status_code
        == 201
    )
    paths = ["/feeds/all.json", "/feeds/tags/southkorea.json", "/feeds/sections/world.json"]
    assert all(client.get(p).get_json()["items"][0]["tags"][0] == "World" for p in paths)
    untouched = client.get("/feeds/sections/culture.json").headers["ETag"]
    world = next(s for s in service.catalog.sections() if s.slug == "world")
    service.catalog.save_section(replace(world, title="Planet"))
    assert all(client.get(p).get_json()["items"][0]["tags"][0] == "Planet" for p in paths)
    # Its description alone changes only its own feed.
    service.catalog.save_section(replace(world, title="Planet", description="Elsewhere"))
    assert client.get("/feeds/sections/world.json").get_json()["description"] == "Elsewhere"
    assert client.get("/feeds/sections/culture.json").headers["ETag"] == untouched


def test_a_stored_article_without_a_title_does_not_break_its_feeds(
    client: FlaskClient, service: Service, admin_token: dict[str, str]
) -> None:
    from sqlalchemy import update

    from feeds.store.schema import articles

    created = client.post("/api/v1/articles", json=article_payload(), headers=admin_token)
    with service.ctx.store.begin() as conn:
        conn.execute(
            update(articles).where(articles.c.id == created.get_json()["id"]).values(title="")
        )
    for fmt in ("rss", "atom", "json"):
        response = client.get(f"/feeds/sections/world.{fmt}")
        assert response.status_code == 200
        assert b"(untitled)" in response.data


def test_hashtags_of_drafts_and_scheduled_articles_stay_unknown(
    client: FlaskClient, admin_token: dict[str, str], clock: FakeClock
) -> None:
    draft = article_payload(hashtags=["AcmeBuysGlobex"], status="draft", slug="embargo")
    assert client.post("/api/v1/articles", json=draft, headers=admin_token).status_code == 201
    due = (clock.now + timedelta(hours=1)).isoformat()
    later = article_payload(hashtags=["RateDecision"], published_at=due, slug="later")
    created = client.post("/api/v1/articles", json=later, headers=admin_token)
    assert created.status_code == 201
    for tag in ("acmebuysglobex", "ratedecision", "nosuchtag"):
        response = client.get(f"/feeds/tags/{tag}.rss")
        assert response.status_code == 404, tag
        assert b"AcmeBuysGlobex" not in response.data
    clock.advance(hours=2)
    due_feed = client.get("/feeds/tags/ratedecision.json")
    assert due_feed.status_code == 200
    assert [i["title"] for i in due_feed.get_json()["items"]] == ["Harbour Cranes Return to Work"]
    # Withdrawn after publication: the feed stays known, and empty.
    article_id = created.get_json()["id"]
    assert client.delete(f"/api/v1/articles/{article_id}", headers=admin_token).status_code == 200
    emptied = client.get("/feeds/tags/ratedecision.json")
    assert emptied.status_code == 200 and emptied.get_json()["items"] == []


@contextmanager
def statements(service: Service) -> Iterator[list[str]]:
    """Every SQL statement the service's store runs inside the block, on one line."""
    with recording(service.ctx.store.engine) as seen:
        lines: list[str] = []
        yield lines
        lines.extend(" ".join(sql.split()) for sql, _ in seen)


WRITES = ("INSERT", "UPDATE", "DELETE")


def test_a_feed_request_only_reads(
    client: FlaskClient, service: Service, admin_token: dict[str, str], clock: FakeClock
) -> None:
    due = (clock.now + timedelta(hours=1)).isoformat()
    later = article_payload(hashtags=["RateDecision"], published_at=due, slug="later")
    assert client.post("/api/v1/articles", json=later, headers=admin_token).status_code == 201
    created = client.post(
        "/api/v1/tag-feeds",
        json={"slug": "rates", "title": "Rates", "any_of": ["RateDecision"]},
        headers=admin_token,
    )
    assert created.status_code == 201
    paths = [
        "/feeds/all.json",
        "/feeds/sections/world.json",
        "/feeds/tags/ratedecision.json",
        "/feeds/custom/rates.json",
        "/feeds/authors/min-ji-park.json",
        "/feeds/trending.json",
    ]
    with statements(service) as before_due:
        assert client.get("/feeds/tags/ratedecision.json").status_code == 404
        assert client.get("/feeds/custom/rates.json").get_json()["items"] == []
    clock.advance(hours=2)  # the scheduled article comes due; no writer has seen it
    with statements(service) as after_due:
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, path
            if path != "/feeds/trending.json":
                titles = [item["title"] for item in response.get_json()["items"]]
                assert "Harbour Cranes Return to Work" in titles, path
    assert not [s for s in before_due + after_due if s.startswith(WRITES)]
    # The scheduled change recorded by a writer (the publisher) moves no content.
    tag = service.feeds.request(FeedKey(FeedKind.TAG, "ratedecision"), FeedFormat.JSON)
    served = service.feeds.get(tag).body
    service.feeds.settle(tag.key)
    assert service.feeds.get(tag).body == served
    # A cache hit is the version read alone.
    with statements(service) as hit:
        assert service.feeds.get(tag).body == served
    assert len(hit) == 1 and "feed_versions" in hit[0]


def test_a_cache_miss_names_the_feed_once(client: FlaskClient, service: Service) -> None:
    request = service.feeds.request(FeedKey(FeedKind.SECTION, "world"), FeedFormat.RSS)
    service.feeds.settle(request.key)
    with statements(service) as miss:
        service.feeds.get(request)
    lookups = [s for s in miss if "FROM sections WHERE sections.slug" in s]
    assert len(lookups) == 1, miss


def test_a_page_walked_on_the_articles_is_read_in_one_statement(
    client: FlaskClient, service: Service, admin_token: dict[str, str]
) -> None:
    # all, a section and an author walk the articles table alone: the walk's rows are
    # the page, with their columns, not ids first and then the rows by id.
    for n in range(4):
        payload = article_payload(slug=f"cranes-{n}", url=f"https://news.example.com/c/{n}")
        payload["published_at"] = f"2026-01-1{n}T17:23:00+09:00"
        assert client.post("/api/v1/articles", json=payload, headers=admin_token).status_code == 201
    for key in (FeedKey(FeedKind.ALL), FeedKey(FeedKind.SECTION, "world")):
        request = service.feeds.request(key, FeedFormat.RSS, limit=3)
        service.feeds.settle(request.key)
        with statements(service) as miss:
            body = service.feeds.get(request).body
        reads = [s for s in miss if " FROM articles" in s]
        assert len(reads) == 1, miss
        assert "ORDER BY articles.published_at DESC, articles.id DESC" in reads[0]
        links = [item.findtext("link") for item in etree.fromstring(body).findall("channel/item")]
        assert links == [f"https://news.example.com/c/{n}" for n in (3, 2, 1)]
