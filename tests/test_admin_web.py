"""The admin pages: tag feeds from the form, articles, audit log, dashboard."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from flask import Flask
from flask.testing import FlaskClient

from feeds.models import ArticleFilter, Source, SourceState, Status
from feeds.service import Service
from tests.admin_helpers import login, post

FORM = {
    "title": "Green shipping, all sections",
    "slug": "green-all",
    "any_of": "#Shipping, #Climate",
    "none_of": "#Sponsored",
    "limit": "20",
}


@pytest.fixture
def svc(demo_app: Flask) -> Service:
    service: Service = demo_app.extensions["feeds"]
    return service


@pytest.fixture
def token(demo_client: FlaskClient, svc: Service) -> str:
    return login(demo_client, svc)


def test_create_tag_feed_from_the_form(demo_client: FlaskClient, svc: Service, token: str) -> None:
    response = post(demo_client, "/admin/tag-feeds/new", token, **FORM)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/tag-feeds/green-all"
    feed = svc.catalog.tag_feed("green-all")
    assert feed.rule.any_of == ("shipping", "climate")
    assert feed.limit == 20
    page = demo_client.get("/admin/tag-feeds/green-all").get_data(as_text=True)
    assert "http://localhost/feeds/custom/green-all.atom" in page  # copyable URL
    assert "Created tag feed" in page

    now = svc.ctx.now()
    expected = {
        a.guid
        for a in svc.articles.list(ArticleFilter(status=Status.PUBLISHED, limit=500))
        if a.published_at <= now
        and {t.display.lower() for t in a.hashtags} & {"shipping", "climate"}
        and not a.sponsored
    }
    served = demo_client.get("/feeds/custom/green-all.json").get_json()
    assert {item["id"] for item in served["items"]} == expected
    assert "/feeds/custom/green-all.rss" in demo_client.get("/feeds.opml").get_data(as_text=True)


def test_form_errors_are_shown_next_to_fields(
    demo_client: FlaskClient, svc: Service, token: str
) -> None:
    bad = FORM | {"slug": "Bad Slug", "none_of": "#Shipping #Climate"}
    response = post(demo_client, "/admin/tag-feeds/new", token, **bad)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="error-slug"' in page
    assert 'value="Green shipping, all sections"' in page  # what was typed stays
    impossible = post(
        demo_client, "/admin/tag-feeds/new", token, **(FORM | {"none_of": "#Shipping #Climate"})
    )
    assert impossible.status_code == 422
    assert "can match nothing" in impossible.get_data(as_text=True)


def test_edit_and_delete(demo_client: FlaskClient, svc: Service, token: str) -> None:
    post(demo_client, "/admin/tag-feeds/new", token, **FORM)
    etag = demo_client.get("/feeds/custom/green-all.json").headers["ETag"]
    edited = post(demo_client, "/admin/tag-feeds/green-all", token, **(FORM | {"any_of": "Japan"}))
    assert edited.status_code == 302
    assert svc.catalog.tag_feed("green-all").rule.any_of == ("japan",)
    assert demo_client.get("/feeds/custom/green-all.json").headers["ETag"] != etag
    deleted = post(demo_client, "/admin/tag-feeds/green-all/delete", token)
    assert deleted.headers["Location"] == "/admin/tag-feeds"
    assert demo_client.get("/feeds/custom/green-all.json").status_code == 404


def test_file_managed_feed_is_read_only_in_the_ui(
    demo_client: FlaskClient, svc: Service, token: str
) -> None:
    page = demo_client.get("/admin/tag-feeds/east-asia").get_data(as_text=True)
    assert 'id="managed"' in page and "tag_feeds.toml" in page
    assert "<fieldset disabled" in page
    before = svc.catalog.tag_feed("east-asia")
    response = post(demo_client, "/admin/tag-feeds/east-asia", token, **(FORM | {"slug": "x"}))
    assert response.status_code == 409
    assert "tag_feeds.toml" in response.get_data(as_text=True)
    gone = post(demo_client, "/admin/tag-feeds/east-asia/delete", token)
    assert gone.status_code == 302
    assert svc.catalog.tag_feed("east-asia") == before


def test_live_preview_endpoint(demo_client: FlaskClient, svc: Service, token: str) -> None:
    response = post(demo_client, "/admin/tag-feeds/preview", token, any_of="#Japan", title="")
    assert response.status_code == 200
    data = response.get_json()
    now = svc.ctx.now()
    expected = {
        a.title
        for a in svc.articles.list(ArticleFilter(status=Status.PUBLISHED, limit=500))
        if a.published_at <= now
        and "japan" in {t.display.lower() for t in a.hashtags}
        and not a.sponsored
    }
    assert {item["title"] for item in data["items"]} == expected
    assert data["count"] == len(expected)
    assert "preview" not in {f.slug for f in svc.catalog.tag_feeds()}
    bad = post(demo_client, "/admin/tag-feeds/preview", token, none_of="#Japan")
    assert bad.status_code == 422 and bad.get_json()["ok"] is False


def test_article_search_filters(demo_client: FlaskClient, svc: Service, token: str) -> None:
    everything = svc.articles.list(ArticleFilter(limit=500))
    sample = everything[0]
    page = demo_client.get("/admin/articles", query_string={"q": sample.title[:12]})
    assert sample.title in page.get_data(as_text=True)
    in_section = demo_client.get("/admin/articles", query_string={"section": "sport"})
    rows = re.findall(r'id="article-(\d+)"', in_section.get_data(as_text=True))
    assert {int(r) for r in rows} == {a.id for a in everything if a.section == "sport"}
    tagged = demo_client.get("/admin/articles", query_string={"hashtag": "#JAPAN"})
    rows = re.findall(r'id="article-(\d+)"', tagged.get_data(as_text=True))
    expected = {a.id for a in everything if "japan" in {t.key for t in a.hashtags}}
    assert {int(r) for r in rows} == expected
    drafts = demo_client.get("/admin/articles", query_string={"status": "draft"})
    rows = re.findall(r'id="article-(\d+)"', drafts.get_data(as_text=True))
    assert {int(r) for r in rows} == {a.id for a in everything if a.status is Status.DRAFT}


def test_withdraw_and_restore_are_audited(
    demo_client: FlaskClient, svc: Service, token: str
) -> None:
    now = svc.ctx.now()
    published = svc.articles.list(ArticleFilter(status=Status.PUBLISHED, limit=500))
    article = next(a for a in published if a.published_at <= now)
    assert article.id is not None
    in_feed = demo_client.get("/feeds/all.json").get_data(as_text=True)
    assert article.guid in in_feed
    response = post(
        demo_client, f"/admin/articles/{article.id}/withdraw", token, next="/admin/articles?q=x"
    )
    assert response.headers["Location"] == "/admin/articles?q=x"
    assert svc.articles.get(article.id).status is Status.WITHDRAWN
    assert article.guid not in demo_client.get("/feeds/all.json").get_data(as_text=True)
    post(demo_client, f"/admin/articles/{article.id}/restore", token)
    assert svc.articles.get(article.id).status is Status.PUBLISHED

    entries = svc.audit.entries()
    assert [(e.action, e.target_kind, e.actor) for e in entries[:2]] == [
        ("restore", "article", "user:alice"),
        ("withdraw", "article", "user:alice"),
    ]
    assert entries[1].before["status"] == "published"
    assert entries[1].after["status"] == "withdrawn"
    page = demo_client.get("/admin/audit").get_data(as_text=True)
    assert "withdraw article" in page and "user:alice" in page and "changed: status" in page


def test_audit_page_shows_ui_and_api_changes(
    demo_client: FlaskClient, svc: Service, token: str
) -> None:
    post(demo_client, "/admin/tag-feeds/new", token, **FORM)
    raw = svc.tokens.create("robot", ("admin",))
    demo_client.patch(
        "/api/v1/tag-feeds/green-all",
        json={"title": "Renamed by robot"},
        headers={"Authorization": f"Bearer {raw}"},
    )
    page = demo_client.get("/admin/audit").get_data(as_text=True)
    assert "token:robot" in page and "user:alice" in page
    assert "Renamed by robot" in page and "Green shipping, all sections" in page


def test_dashboard_lists_feeds_and_counts_pollers(
    demo_client: FlaskClient, svc: Service, token: str
) -> None:
    first = demo_client.get("/feeds/custom/east-asia.rss", headers={"User-Agent": "Reader/1"})
    demo_client.get(
        "/feeds/custom/east-asia.atom",
        headers={"User-Agent": "Reader/1", "If-None-Match": first.headers["ETag"]},
    )
    again = demo_client.get(
        "/feeds/custom/east-asia.rss",
        headers={"User-Agent": "Reader/1", "If-None-Match": first.headers["ETag"]},
    )
    assert again.status_code == 304
    demo_client.get("/feeds/custom/east-asia.json", headers={"User-Agent": "Other/2"})
    demo_client.get("/feeds/custom/no-such-feed.json", headers={"User-Agent": "Spam/1"})

    page = demo_client.get("/admin/").get_data(as_text=True)
    for entry in svc.directory.listing():
        for _fmt, url in entry.urls:
            assert url in page
    row = re.search(r'data-feed="custom:east-asia">(.*?)</tr>', page, re.S)
    assert row is not None
    assert re.search(r'class="num pollers">2<', row.group(1))
    assert re.search(r'class="num ratio">25%<', row.group(1))  # 1 of 4 requests was a 304
    assert "custom:no-such-feed" not in page


def test_dashboard_without_sources_shows_the_placeholder(
    demo_client: FlaskClient, svc: Service, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(svc, "sources", raising=False)
    page = demo_client.get("/admin/").get_data(as_text=True)
    assert "Outside sources are not available" in page


def test_dashboard_sources_panel_uses_service_sources(
    demo_client: FlaskClient, svc: Service, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = Source(
        url="https://wire.example/feed.xml",
        name="Wire",
        section="world",
        state=SourceState(failures=3, last_error="HTTP 503 from wire.example"),
    )
    monkeypatch.setattr(svc, "sources", SimpleNamespace(list=lambda: [failing]), raising=False)
    page = demo_client.get("/admin/").get_data(as_text=True)
    assert "Wire" in page and "failing (3)" in page and "HTTP 503 from wire.example" in page


@pytest.mark.parametrize("page", ["%C2%B2", "99999999999999999999", "0", "x"])
def test_odd_page_numbers_are_not_found(demo_client: FlaskClient, token: str, page: str) -> None:
    # Not a page number: a 404, rather than another page shown as if it were the one asked.
    for path in ("/admin/articles", "/admin/audit"):
        response = demo_client.get(f"{path}?page={page}")
        assert response.status_code == 404, path
