"""The human view of a feed: what a browser opening a feed URL is shown."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask.testing import FlaskClient
from lxml import etree

from tests.conftest import article_payload

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def html_page(client: FlaskClient, path: str) -> Any:
    response = client.get(path, headers=BROWSER)
    assert response.status_code == 200, path
    assert response.mimetype == "text/html"
    return etree.HTML(response.data)


def test_the_page_explains_the_feed_and_how_to_follow_it(demo_client: FlaskClient) -> None:
    page = html_page(demo_client, "/feeds/sections/world.atom")
    assert page.findtext(".//h1").endswith("World")
    (field,) = page.xpath("//input[@id='feed-address']")
    assert field.get("value") == "http://localhost/feeds/sections/world.atom"
    assert field.get("readonly") is not None
    assert page.xpath("//label[@for='feed-address']/text()") == ["Feed address"]
    formats = {a.text: a.get("href") for a in page.xpath("//section[@class='subscribe']//a")}
    assert formats["RSS"] == "http://localhost/feeds/sections/world.rss"
    assert formats["JSON Feed"] == "http://localhost/feeds/sections/world.json"
    assert page.xpath("//a[@aria-current='page']/text()") == ["Atom"]
    assert page.xpath("//script") == []
    assert page.xpath("//*[@*[starts-with(name(), 'on')]]") == []


def test_each_item_shows_its_title_author_date_image_summary_and_categories(
    client: FlaskClient, writer_token: dict[str, str]
) -> None:
    created = client.post(
        "/api/v1/articles",
        json=article_payload(hashtags=["SouthKorea"], author="Min-ji Park"),
        headers=writer_token,
    )
    assert created.status_code == 201
    sponsored = client.post(
        "/api/v1/articles",
        json=article_payload(title="Buy Cranes", sponsored=True, url=None, author="Sponsor"),
        headers=writer_token,
    )
    assert sponsored.status_code == 201
    page = html_page(client, "/feeds/all.rss")
    items = page.xpath("//article[@class='item']")
    assert [item.findtext(".//h3/a") for item in items] == [
        "Buy Cranes",
        "Harbour Cranes Return to Work",
    ]
    paid, story = items
    assert story.xpath(".//h3/a/@href") == ["https://news.example.com/world/harbour-cranes"]
    assert story.xpath(".//a[@rel='author']/@href") == [
        "http://localhost/feeds/authors/min-ji-park.rss"
    ]
    assert story.xpath(".//time/@datetime") == ["2026-01-12T08:23:00+00:00"]
    assert story.xpath(".//img/@src") == ["https://img.example.com/cranes.jpg"]
    assert story.xpath(".//img/@alt") == ["Cranes"]
    assert "Cranes moved again" in etree.tostring(story, method="text", encoding="unicode")
    categories = {a.text: a.get("href") for a in story.xpath(".//a[@rel='tag']")}
    assert categories == {
        "World": "http://localhost/feeds/sections/world.rss",
        "#SouthKorea": "http://localhost/feeds/tags/southkorea.rss",
    }
    for href in categories.values():
        assert client.get(urlsplit(href).path).status_code == 200
    assert paid.xpath(".//*[@class='sponsored']/text()") == ["Sponsored"]
    assert story.xpath(".//*[@class='sponsored']") == []


def test_pages_follow_the_feeds_paging_and_missing_feeds_are_404(
    client: FlaskClient, writer_token: dict[str, str]
) -> None:
    for n in range(3):
        payload = article_payload(title=f"Story {n}", url=None, slug=f"story-{n}")
        assert (
            client.post("/api/v1/articles", json=payload, headers=writer_token).status_code == 201
        )
    page = html_page(client, "/feeds/all.json?limit=2")
    assert len(page.xpath("//article[@class='item']")) == 2
    (older,) = page.xpath("//a[@rel='next']/@href")
    assert older.startswith("http://localhost/feeds/all.json?limit=2&before=")
    rest = html_page(client, urlsplit(older).path + "?" + urlsplit(older).query)
    assert len(rest.xpath("//article[@class='item']")) == 1
    assert client.get("/feeds/tags/nothing.rss", headers=BROWSER).status_code == 404
