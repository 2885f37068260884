"""Author feeds: one per newsroom byline, listed, versioned, linked from the article page."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

import feedparser
from flask import Flask
from flask.testing import FlaskClient

from feeds.models import FeedKey, FeedKind, author_slug
from feeds.service import Service
from tests.conftest import FakeClock, article_payload
from tests.schemas import validate_atom, validate_jsonfeed

API = "/api/v1/articles"


def create(client: FlaskClient, token: dict[str, str], **changes: Any) -> dict[str, Any]:
    response = client.post(API, json=article_payload(**changes), headers=token)
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def titles(client: FlaskClient, path: str) -> list[str]:
    response = client.get(path)
    assert response.status_code == 200, path
    return [entry.title for entry in feedparser.parse(response.data).entries]


def test_author_slugs_keep_every_script_and_ignore_case_and_spacing() -> None:
    assert author_slug("Min-ji Park") == "min-ji-park"
    assert author_slug("  MIN-JI   park ") == "min-ji-park"
    assert author_slug("김민준") == "김민준"
    assert author_slug("Zoë O'Brien") == "zoë-o-brien"
    assert author_slug("---") == ""


def test_an_authors_feed_holds_their_articles_in_every_format(
    client: FlaskClient, writer_token: dict[str, str]
) -> None:
    create(client, writer_token, title="Cranes Return", author="Min-ji Park")
    create(client, writer_token, title="Port Fees Fall", author="Wei Chen", url=None)
    create(client, writer_token, title="Ferries Run Late", author="min-ji  PARK", url=None)

    assert titles(client, "/feeds/authors/min-ji-park.rss") == ["Ferries Run Late", "Cranes Return"]
    atom = client.get("/feeds/authors/min-ji-park.atom")
    validate_atom(atom.data)
    parsed = feedparser.parse(atom.data)
    assert parsed.bozo == 0
    assert parsed.feed.title.endswith(": Min-ji Park") or parsed.feed.title.endswith(
        ": min-ji  PARK"
    )
    assert {entry.author for entry in parsed.entries} == {"Min-ji Park", "min-ji  PARK"}
    data = json.loads(client.get("/feeds/authors/wei-chen.json").data)
    validate_jsonfeed(data)
    assert data["feed_url"] == "http://localhost/feeds/authors/wei-chen.json"
    assert [item["title"] for item in data["items"]] == ["Port Fees Fall"]
    # Other spellings of the slug lead to the one URL.
    moved = client.get("/feeds/authors/Wei-Chen.json?limit=3")
    assert moved.status_code == 301
    assert moved.headers["Location"].endswith("/feeds/authors/wei-chen.json?limit=3")
    assert client.get("/feeds/authors/nobody.rss").status_code == 404


def test_ingested_bylines_are_not_newsroom_authors(demo_app: Flask) -> None:
    service: Service = demo_app.extensions["feeds"]
    (wire,) = [s for s in service.sources.list() if s.url.startswith("file:")]
    assert wire.id is not None and service.sources.refresh(wire.id).counts.new > 0
    demo_client = demo_app.test_client()
    # The demo wire feed credits Ha-eun Seo; she writes for the wire, not for us.
    all_items = json.loads(demo_client.get("/feeds/all.json?limit=100").data)["items"]
    wire = [item for item in all_items if "_source" in item]
    assert any(a["name"] == "Ha-eun Seo" for item in wire for a in item.get("authors", []))
    assert demo_client.get("/feeds/authors/ha-eun-seo.rss").status_code == 404
    own = {a["name"] for item in all_items if "_source" not in item for a in item["authors"]}
    assert "Partner content" in own  # the sponsor's byline: no feed, as sponsored is left out
    for name in own - {"Partner content"}:
        assert demo_client.get(f"/feeds/authors/{author_slug(name)}.rss").status_code == 200
    assert demo_client.get("/feeds/authors/partner-content.rss").status_code == 404


def test_author_feeds_are_listed_in_the_directory_and_the_opml(demo_client: FlaskClient) -> None:
    opml = ElementTree.fromstring(demo_client.get("/feeds.opml").data)
    urls = {o.get("xmlUrl") for o in opml.iter("outline")}
    authors = {u for u in urls if u and urlsplit(u).path.startswith("/feeds/authors/")}
    assert "http://localhost/feeds/authors/min-ji-park.rss" in authors
    assert "http://localhost/feeds/authors/ha-eun-seo.rss" not in authors
    for url in authors:
        assert demo_client.get(urlsplit(url).path).status_code == 200, url
    page = demo_client.get("/feeds/").get_data(as_text=True)
    assert "<h2>Authors</h2>" in page
    assert 'href="http://localhost/feeds/authors/min-ji-park.atom"' in page


def test_an_authors_feed_version_moves_when_their_article_changes(
    client: FlaskClient, service: Service, writer_token: dict[str, str], clock: FakeClock
) -> None:
    park = FeedKey(FeedKind.AUTHOR, "min-ji-park")
    chen = FeedKey(FeedKind.AUTHOR, "wei-chen")
    first = create(client, writer_token, author="Min-ji Park")
    create(client, writer_token, author="Wei Chen", url=None, title="Other")
    before = {key: service.feeds.settle(key).version for key in (park, chen)}
    etag = client.get("/feeds/authors/min-ji-park.rss").headers["ETag"]

    clock.advance(minutes=5)
    edited = client.patch(
        f"{API}/{first['id']}", json={"title": "Cranes Idle"}, headers=writer_token
    )
    assert edited.status_code == 200
    after = {key: service.feeds.settle(key).version for key in (park, chen)}
    assert after[park] > before[park]
    assert after[chen] == before[chen]
    response = client.get("/feeds/authors/min-ji-park.rss")
    assert response.headers["ETag"] != etag
    assert titles(client, "/feeds/authors/min-ji-park.rss") == ["Cranes Idle"]

    # A change of byline moves both authors' feeds: the story leaves one and joins the other.
    clock.advance(minutes=5)
    moved = client.patch(f"{API}/{first['id']}", json={"author": "Wei Chen"}, headers=writer_token)
    assert moved.status_code == 200
    final = {key: service.feeds.settle(key).version for key in (park, chen)}
    assert final[park] > after[park] and final[chen] > after[chen]
    assert sorted(titles(client, "/feeds/authors/wei-chen.rss")) == ["Cranes Idle", "Other"]
    # An author with no story left is no author of ours.
    assert client.get("/feeds/authors/min-ji-park.rss").status_code == 404


def test_an_authors_feed_outlives_a_withdrawal(
    client: FlaskClient, writer_token: dict[str, str]
) -> None:
    article = create(client, writer_token, author="Hana Kim")
    assert titles(client, "/feeds/authors/hana-kim.rss") == ["Harbour Cranes Return to Work"]
    assert client.delete(f"{API}/{article['id']}", headers=writer_token).status_code in (200, 204)
    # Subscribers keep a valid, empty feed rather than a 404.
    assert titles(client, "/feeds/authors/hana-kim.rss") == []


def test_sponsored_articles_stay_out_of_author_feeds(
    client: FlaskClient, service: Service, writer_token: dict[str, str]
) -> None:
    create(client, writer_token, author="Wei Chen", title="Own story")
    version = service.feeds.settle(FeedKey(FeedKind.AUTHOR, "wei-chen")).version
    create(client, writer_token, author="Wei Chen", title="Paid", sponsored=True, url=None)
    assert service.feeds.settle(FeedKey(FeedKind.AUTHOR, "wei-chen")).version == version
    assert titles(client, "/feeds/authors/wei-chen.rss") == ["Own story"]


def test_the_article_page_links_its_authors_feed(
    client: FlaskClient, writer_token: dict[str, str]
) -> None:
    article = create(client, writer_token, author="Min-ji Park", url=None)
    page = client.get(f"/articles/{article['slug']}").get_data(as_text=True)
    assert 'href="http://localhost/feeds/authors/min-ji-park.rss"' in page


def test_an_authors_feed_links_its_monthly_archive(
    client: FlaskClient, writer_token: dict[str, str]
) -> None:
    create(client, writer_token, author="Wei Chen")
    body = client.get("/feeds/authors/wei-chen.atom").data
    links = [link.href for link in feedparser.parse(body).feed.links if link.rel == "prev-archive"]
    assert links and links[0].startswith("http://localhost/feeds/authors/wei-chen/archive/")
    month = client.get(urlsplit(links[0]).path)
    assert month.status_code == 200
    assert [e.title for e in feedparser.parse(month.data).entries] == [
        "Harbour Cranes Return to Work"
    ]
    assert client.get(urlsplit(links[0].replace("wei-chen", "Wei-Chen")).path).status_code == 404
