"""The public article page: the lead image once, hashtags and byline linking to their
feeds, and autodiscovery of the article's section, author and hashtag feeds."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask.testing import FlaskClient
from lxml import etree

from feeds.service.article_page import shows_image
from tests.conftest import article_payload

API = "/api/v1/articles"
IMAGE = "https://img.example.com/cranes.jpg"


def create(client: FlaskClient, token: dict[str, str], **changes: Any) -> dict[str, Any]:
    response = client.post(API, json=article_payload(url=None, **changes), headers=token)
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def page(client: FlaskClient, slug: str) -> Any:
    response = client.get(f"/articles/{slug}")
    assert response.status_code == 200
    return etree.HTML(response.data)


def test_the_lead_image_is_shown_once_when_the_content_holds_it(
    client: FlaskClient, writer_token: dict[str, str]
) -> None:
    inside = create(
        client, writer_token, title="Inside", content_html=f'<p>Text</p><img src="{IMAGE}?w=800">'
    )
    apart = create(client, writer_token, title="Apart", content_html="<p>Text only</p>")
    images = page(client, inside["slug"]).xpath("//article//img/@src")
    assert images == [f"{IMAGE}?w=800"]
    images = page(client, apart["slug"]).xpath("//article//img/@src")
    assert images == [IMAGE]


def test_shows_image_resolves_relative_urls() -> None:
    base = "https://news.example.com/world/story"
    assert shows_image('<img src="/media/a.png">', "https://news.example.com/media/a.png", base)
    assert shows_image('<img src="a.png">', "/world/a.png", base)
    assert not shows_image('<img src="/media/b.png">', "/media/a.png", base)
    assert not shows_image("<p>no images</p>", "/media/a.png", base)


def test_hashtags_byline_and_section_link_to_their_feeds(
    client: FlaskClient, writer_token: dict[str, str]
) -> None:
    article = create(client, writer_token, hashtags=["SouthKorea", "서울"], author="Min-ji Park")
    html = page(client, article["slug"])
    tags = html.xpath("//a[@rel='tag']")
    assert [a.text for a in tags] == ["#SouthKorea", "#서울"]
    assert [a.get("href") for a in tags] == [
        "http://localhost/feeds/tags/southkorea.rss",
        "http://localhost/feeds/tags/%EC%84%9C%EC%9A%B8.rss",
    ]
    (author,) = html.xpath("//a[@rel='author']")
    assert author.get("href") == "http://localhost/feeds/authors/min-ji-park.rss"
    for link in [*tags, author]:
        assert client.get(urlsplit(link.get("href")).path).status_code == 200


def test_the_page_announces_its_section_author_and_hashtag_feeds(
    client: FlaskClient, writer_token: dict[str, str]
) -> None:
    article = create(client, writer_token, hashtags=["Shipping"], author="Wei Chen")
    html = page(client, article["slug"])
    alternates = html.xpath("//head/link[@rel='alternate']")
    found = {(link.get("type"), link.get("href")) for link in alternates}
    for path in ("sections/world", "authors/wei-chen", "tags/shipping"):
        assert ("application/rss+xml", f"http://localhost/feeds/{path}.rss") in found
        assert ("application/atom+xml", f"http://localhost/feeds/{path}.atom") in found
        assert ("application/feed+json", f"http://localhost/feeds/{path}.json") in found
    assert all(link.get("title") for link in alternates)
    for _type, href in found:
        assert client.get(urlsplit(href).path).status_code == 200, href


def test_withdrawn_articles_are_gone_and_unknown_ones_not_found(
    client: FlaskClient, writer_token: dict[str, str]
) -> None:
    article = create(client, writer_token)
    assert client.delete(f"{API}/{article['id']}", headers=writer_token).status_code == 200
    assert client.get(f"/articles/{article['slug']}").status_code == 410
    assert client.get("/articles/no-such-story").status_code == 404


def test_sponsored_articles_are_labelled(client: FlaskClient, writer_token: dict[str, str]) -> None:
    article = create(client, writer_token, sponsored=True, author="Partner content")
    html = page(client, article["slug"])
    assert html.xpath("//*[@class='sponsored']/text()") == ["Sponsored"]
