"""Each article keeps its content made absolute when it is written; feeds render that
copy while it was made against the article's link, and make it afresh otherwise. The
copy is made by whoever builds the article; the store keeps what it is given."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from flask.testing import FlaskClient
from sqlalchemy import select, update

from feeds.absolutize import absolutize_html
from feeds.models import Article, FeedContent
from feeds.service import Service
from feeds.store import articles as article_store
from feeds.store.schema import articles
from tests.conftest import FakeClock, article_payload, make_app

CONTENT = '<p>See <a href="more">more</a> and <img src="/media/pic.jpg"></p>'


def stored_copy(service: Service, article_id: int) -> tuple[str | None, str | None]:
    with service.ctx.store.read() as conn:
        row = conn.execute(
            select(articles.c.feed_base, articles.c.feed_content).where(articles.c.id == article_id)
        ).one()
    return row.feed_base, row.feed_content


def stored_content(service: Service, article_id: int) -> str:
    """The content as stored (the API sanitises what it is given)."""
    with service.ctx.store.read() as conn:
        content: str = conn.execute(
            select(articles.c.content_html).where(articles.c.id == article_id)
        ).scalar_one()
    return content


def item_content(client: FlaskClient, path: str) -> str:
    items = client.get(path).get_json()["items"]
    assert len(items) == 1
    content: str = items[0]["content_html"]
    return content


def test_the_copy_made_at_write_time_is_what_feeds_render(
    client: FlaskClient, service: Service, admin_token: dict[str, str]
) -> None:
    payload = article_payload(url=None, slug="cranes", content_html=CONTENT, hashtags=["Cranes"])
    created = client.post("/api/v1/articles", json=payload, headers=admin_token)
    assert created.status_code == 201
    article_id = created.get_json()["id"]
    base, copy = stored_copy(service, article_id)
    assert base == "http://localhost/articles/cranes"
    assert copy == absolutize_html(stored_content(service, article_id), base)
    assert 'href="http://localhost/articles/more"' in copy
    assert 'src="http://localhost/media/pic.jpg"' in copy
    assert item_content(client, "/feeds/tags/cranes.json") == copy
    # The render reads the copy, it does not make it again: a copy changed in the store
    # (with the same base) is what a new render shows.
    with service.ctx.store.begin() as conn:
        conn.execute(
            update(articles).where(articles.c.id == article_id).values(feed_content="<p>kept</p>")
        )
    assert item_content(client, "/feeds/tags/cranes.json?limit=5") == "<p>kept</p>"
    # An edit makes the copy again.
    edited = client.patch(
        f"/api/v1/articles/{article_id}",
        json={"content_html": '<p><a href="/other">x</a></p>'},
        headers=admin_token,
    )
    assert edited.status_code == 200
    copy = stored_copy(service, article_id)[1]
    assert copy is not None and 'href="http://localhost/other"' in copy and "kept" not in copy


def test_a_canonical_url_is_the_base_whatever_the_public_url(
    client: FlaskClient, service: Service, admin_token: dict[str, str]
) -> None:
    payload = article_payload(content_html=CONTENT, hashtags=["Cranes"])
    created = client.post("/api/v1/articles", json=payload, headers=admin_token)
    base, copy = stored_copy(service, created.get_json()["id"])
    assert base == payload["url"]
    assert copy is not None and 'href="https://news.example.com/world/more"' in copy


def test_after_the_public_url_changes_content_is_made_absolute_at_render(
    client: FlaskClient,
    service: Service,
    admin_token: dict[str, str],
    database_url: str,
    clock: FakeClock,
) -> None:
    payload = article_payload(url=None, slug="cranes", content_html=CONTENT, hashtags=["Cranes"])
    created = client.post("/api/v1/articles", json=payload, headers=admin_token)
    assert created.status_code == 201
    moved = make_app(database_url, clock, public_url="https://feeds.example.org/news/")
    try:
        content = item_content(moved.test_client(), "/feeds/tags/cranes.json")
    finally:
        moved.extensions["feeds"].ctx.store.dispose()
    # The stored copy names the old address; the render resolves against the new one.
    stored = stored_content(service, created.get_json()["id"])
    assert content == absolutize_html(stored, "https://feeds.example.org/news/articles/cranes")
    assert 'href="https://feeds.example.org/news/articles/more"' in content
    assert 'src="https://feeds.example.org/media/pic.jpg"' in content
    assert stored_copy(service, created.get_json()["id"])[0] == "http://localhost/articles/cranes"


def test_the_store_keeps_the_copy_it_is_given_and_makes_none(service: Service) -> None:
    when = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    article = Article(
        guid="tag:example.org,2026:given", slug="given", title="Given", summary="",
        content_html=CONTENT, author="A. Writer", section="world", hashtags=(),
        published_at=when, updated_at=when, url="https://news.example.com/given",
    )  # fmt: skip
    given = FeedContent("https://news.example.com/given", "<p>as given</p>")
    with service.ctx.store.begin() as conn:
        with_copy = article_store.insert_article(conn, replace(article, feed_content=given))
        without = article_store.insert_article(
            conn, replace(article, guid="tag:example.org,2026:bare", slug="bare")
        )
    assert stored_copy(service, with_copy) == (given.base, given.html)
    assert stored_copy(service, without) == (None, None)
    # An update writes the copy the new article carries, NULLs when it carries none.
    with service.ctx.store.begin() as conn:
        article_store.update_article(conn, with_copy, replace(article, title="Edited"))
    assert stored_copy(service, with_copy) == (None, None)


def test_a_status_change_keeps_the_copy_and_an_edit_makes_it_again(
    client: FlaskClient, service: Service, admin_token: dict[str, str]
) -> None:
    payload = article_payload(url=None, slug="cranes", content_html=CONTENT, hashtags=["Cranes"])
    article_id = client.post("/api/v1/articles", json=payload, headers=admin_token).get_json()["id"]
    base = stored_copy(service, article_id)[0]
    with service.ctx.store.begin() as conn:
        conn.execute(
            update(articles).where(articles.c.id == article_id).values(feed_content="<p>kept</p>")
        )
    service.articles.withdraw(article_id)
    service.articles.restore(article_id)
    assert stored_copy(service, article_id) == (base, "<p>kept</p>")
    # A new slug is a new link: the copy is made against it.
    moved = client.patch(
        f"/api/v1/articles/{article_id}", json={"slug": "cranes-2"}, headers=admin_token
    )
    assert moved.status_code == 200
    base, copy = stored_copy(service, article_id)
    assert base == service.ctx.settings.public_root + "articles/cranes-2"
    assert copy == absolutize_html(stored_content(service, article_id), base)
