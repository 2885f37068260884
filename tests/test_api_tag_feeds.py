"""The tag feed API: CRUD, preview, file-managed entries, and what the feeds then serve."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree

from feeds.models import Article, ArticleFilter, Status
from feeds.service import Service

API = "/api/v1/tag-feeds"
ASIA = {
    "slug": "asia-no-ads",
    "title": "Asia without ads",
    "any_of": ["#Japan", "SouthKorea"],
    "none_of": ["Sponsored"],
}


@pytest.fixture
def demo_service(demo_app: Flask) -> Service:
    svc: Service = demo_app.extensions["feeds"]
    return svc


@pytest.fixture
def admin(demo_service: Service) -> dict[str, str]:
    return {"Authorization": f"Bearer {demo_service.tokens.create('root', ('admin',))}"}


@pytest.fixture
def writer(demo_service: Service) -> dict[str, str]:
    raw = demo_service.tokens.create("desk", ("articles:write",))
    return {"Authorization": f"Bearer {raw}"}


def expected_guids(service: Service, wanted: Callable[[Article], bool]) -> set[str]:
    """Written apart from the store's query: every visible article, filtered in Python."""
    now = service.ctx.now()
    everything = service.articles.list(ArticleFilter(status=Status.PUBLISHED, limit=500))
    return {a.guid for a in everything if a.published_at <= now and wanted(a)}


def tags_of(article: Article) -> set[str]:
    return {t.display.lower() for t in article.hashtags}


def served_guids(client: FlaskClient, slug: str) -> set[str]:
    response = client.get(f"/feeds/custom/{slug}.json")
    assert response.status_code == 200
    return {item["id"] for item in response.get_json()["items"]}


def test_created_feed_is_listed_and_serves_exactly_its_matches(
    demo_client: FlaskClient, demo_service: Service, admin: dict[str, str]
) -> None:
    response = demo_client.post(API, json=ASIA, headers=admin)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"].endswith(f"{API}/asia-no-ads")
    assert body["any_of"] == ["japan", "southkorea"]
    assert body["managed_by"] is None
    assert urlsplit(body["urls"]["json"]).path == "/feeds/custom/asia-no-ads.json"

    directory = demo_client.get("/feeds/").get_data(as_text=True)
    assert "/feeds/custom/asia-no-ads.rss" in directory
    opml = etree.fromstring(demo_client.get("/feeds.opml").data)
    assert any(
        (o.get("xmlUrl") or "").endswith("/feeds/custom/asia-no-ads.rss") for o in opml.iter()
    )

    def wanted(a: Article) -> bool:
        tags = tags_of(a)
        return bool(tags & {"japan", "southkorea"}) and "sponsored" not in tags and not a.sponsored

    expected = expected_guids(demo_service, wanted)
    assert expected  # the demo has such articles, so the comparison means something
    assert served_guids(demo_client, "asia-no-ads") == expected


def test_changing_a_rule_moves_only_that_feeds_etag(
    demo_client: FlaskClient, demo_service: Service, admin: dict[str, str]
) -> None:
    assert demo_client.post(API, json=ASIA, headers=admin).status_code == 201
    opml = etree.fromstring(demo_client.get("/feeds.opml").data)
    paths = [
        urlsplit(o.get("xmlUrl")).path.replace(".rss", ".json")
        for o in opml.iter("outline")
        if o.get("xmlUrl")
    ]

    def etags() -> dict[str, str]:
        return {p: demo_client.get(p).headers["ETag"] for p in paths}

    before = etags()
    response = demo_client.patch(f"{API}/asia-no-ads", json={"any_of": ["Japan"]}, headers=admin)
    assert response.status_code == 200, response.get_json()
    after = etags()
    changed = {p for p in paths if before[p] != after[p]}
    assert changed == {"/feeds/custom/asia-no-ads.json"}
    only_japan = expected_guids(
        demo_service,
        lambda a: "japan" in tags_of(a) and "sponsored" not in tags_of(a) and not a.sponsored,
    )
    assert served_guids(demo_client, "asia-no-ads") == only_japan


def test_crud_round_trip(demo_client: FlaskClient, admin: dict[str, str]) -> None:
    assert demo_client.post(API, json=ASIA, headers=admin).status_code == 201
    assert demo_client.post(API, json=ASIA, headers=admin).status_code == 409
    got = demo_client.get(f"{API}/asia-no-ads", headers=admin).get_json()
    assert got["title"] == "Asia without ads"
    listed = demo_client.get(API, headers=admin).get_json()
    assert "asia-no-ads" in {f["slug"] for f in listed["items"]}

    put = {"title": "Japan", "any_of": ["Japan"], "limit": 10}
    replaced = demo_client.put(f"{API}/asia-no-ads", json=put, headers=admin)
    assert replaced.status_code == 200, replaced.get_json()
    assert replaced.get_json()["none_of"] == []  # PUT replaces: unspecified fields reset
    assert replaced.get_json()["limit"] == 10

    renamed = demo_client.patch(f"{API}/asia-no-ads", json={"slug": "japan"}, headers=admin)
    assert renamed.get_json()["slug"] == "japan"
    assert demo_client.get("/feeds/custom/asia-no-ads.json").status_code == 404
    assert demo_client.get("/feeds/custom/japan.json").status_code == 200

    assert demo_client.delete(f"{API}/japan", headers=admin).status_code == 204
    assert demo_client.get(f"{API}/japan", headers=admin).status_code == 404
    assert demo_client.get("/feeds/custom/japan.json").status_code == 404


def test_hashtags_may_be_a_text_as_articles_take_them(
    demo_client: FlaskClient, admin: dict[str, str]
) -> None:
    body = {"slug": "asia", "title": "Asia", "any_of": "#Japan #SouthKorea", "none_of": "#Ads"}
    created = demo_client.post(API, json=body, headers=admin)
    assert created.status_code == 201, created.get_json()
    feed = created.get_json()
    assert (feed["any_of"], feed["none_of"]) == (["japan", "southkorea"], ["ads"])
    listed = demo_client.get(API, headers=admin).get_json()
    as_lists = {"slug": "asia-2", "title": "Asia", "any_of": ["Japan", "SouthKorea"]}
    again = demo_client.post(API, json=as_lists, headers=admin).get_json()
    assert again["any_of"] == feed["any_of"]
    assert listed["count"] == len(listed["items"])


@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        ({"any_of": ["Japan"], "none_of": ["Japan"]}, "rule", "can match nothing"),
        ({"all_of": ["A"], "none_of": ["a"]}, "rule", "both all_of and none_of"),
        ({"title": "x"}, "rule", "at least one"),
        ({"any_of": ["Japan"], "sections": ["nowhere"]}, "sections", "unknown section"),
        ({"any_of": ["Japan"], "colour": "red"}, "colour", "unknown field"),
        ({"any_of": "Japan Korea"}, "any_of", "holds no hashtag"),
        ({"any_of": 7}, "any_of", "a list of hashtags or a text"),
    ],
)
def test_invalid_rules_are_refused_with_the_reason(
    demo_client: FlaskClient, admin: dict[str, str], payload: Any, field: str, words: str
) -> None:
    body = {"slug": "bad", "title": "Bad"} | payload
    response = demo_client.post(API, json=body, headers=admin)
    assert response.status_code == 422
    assert words in response.get_json()["fields"][field]
    assert demo_client.get(f"{API}/bad", headers=admin).status_code == 404


def test_file_managed_feeds_are_read_only(demo_client: FlaskClient, admin: dict[str, str]) -> None:
    feed = demo_client.get(f"{API}/east-asia", headers=admin).get_json()
    assert feed["managed_by"].endswith("tag_feeds.toml")
    attempts = [
        demo_client.put(f"{API}/east-asia", json={"title": "x", "any_of": ["a"]}, headers=admin),
        demo_client.patch(f"{API}/east-asia", json={"title": "x"}, headers=admin),
        demo_client.delete(f"{API}/east-asia", headers=admin),
    ]
    for response in attempts:
        assert response.status_code == 409
        assert "tag_feeds.toml" in response.get_json()["error"]
    assert demo_client.get(f"{API}/east-asia", headers=admin).get_json() == feed


def test_preview_returns_matches_without_saving(
    demo_client: FlaskClient, demo_service: Service, writer: dict[str, str]
) -> None:
    rule = {"any_of": ["Shipping"], "include_sponsored": True}
    response = demo_client.post(f"{API}/preview", json=rule, headers=writer)
    assert response.status_code == 200, response.get_json()
    got = {item["guid"] for item in response.get_json()["items"]}
    assert got == expected_guids(demo_service, lambda a: "shipping" in tags_of(a))
    assert demo_client.get(f"{API}/preview", headers=writer).status_code == 404
    bad = demo_client.post(f"{API}/preview", json={"none_of": ["x"]}, headers=writer)
    assert bad.status_code == 422


def test_reads_take_any_token_writes_need_admin(
    demo_client: FlaskClient, writer: dict[str, str]
) -> None:
    assert demo_client.get(API).status_code == 401
    assert demo_client.get(API, headers=writer).status_code == 200
    assert demo_client.post(API, json=ASIA, headers=writer).status_code == 403
    assert demo_client.delete(f"{API}/east-asia", headers=writer).status_code == 403
    assert demo_client.post(API, data="nope", headers=writer).status_code == 403


def test_api_changes_are_audited(
    demo_client: FlaskClient, demo_service: Service, admin: dict[str, str]
) -> None:
    demo_client.post(API, json=ASIA, headers=admin)
    demo_client.patch(f"{API}/asia-no-ads", json={"title": "Asia"}, headers=admin)
    demo_client.delete(f"{API}/asia-no-ads", headers=admin)
    entries = demo_service.audit.entries()
    assert [(e.action, e.actor, e.target_id) for e in entries] == [
        ("delete", "token:root", "asia-no-ads"),
        ("update", "token:root", "asia-no-ads"),
        ("create", "token:root", "asia-no-ads"),
    ]
    update = entries[1]
    assert update.before["title"] == "Asia without ads"
    assert update.after["title"] == "Asia"
    assert entries[0].after is None


def test_bad_json_is_a_400(demo_client: FlaskClient, admin: dict[str, str]) -> None:
    response = demo_client.post(API, data="{", headers=admin, content_type="application/json")
    assert response.status_code == 400
