"""Articles in the admin: totals and status filters, honest search and paging, editing
with a sanitised preview and every error at once, and a preview only admins see.

The browser test edits an article in real Chromium and reads the change back from the
feeds that hold it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import BaseWSGIServer

from feeds.errors import ConfigError
from feeds.models import Status
from feeds.service import Service
from feeds.settings import load_settings
from feeds.web.admin.base import PAGE
from tests.admin_helpers import PASSWORD, login, post
from tests.conftest import FakeClock, article_payload, make_app, serving
from tests.test_admin_browser import CHROMIUM, browser_page, log_in

Headers = dict[str, str]


@pytest.fixture
def seoul_app(database_url: str, clock: FakeClock) -> Iterator[Flask]:
    app = make_app(database_url, clock, admin_time_zone="Asia/Seoul")
    yield app
    app.extensions["feeds"].ctx.store.dispose()


def create(svc: Service, **changes: Any) -> int:
    article = svc.articles.create(article_payload(**changes))
    assert article.id is not None
    return article.id


def past(clock: FakeClock, hours: int = 1) -> str:
    return (clock.now - timedelta(hours=hours)).isoformat()


def edit(client: FlaskClient, article_id: int, token: str, **fields: str) -> Any:
    """Post the edit form: the article's fields as the form shows them, with `fields`."""
    form = {
        "action": "save", "title": "Harbour Cranes Return to Work", "summary": "",
        "content_html": "<p>x</p>", "hashtags": "", "section": "world", "status": "published",
        "published_at": "2026-01-12T17:23", "image_url": "", "image_alt": "",
    }  # fmt: skip
    return post(client, f"/admin/articles/{article_id}/edit", token, **(form | fields))


def totals(html: str) -> str:
    found = re.search(r'<p id="totals"[^>]*>\s*(.*?)\s*</p>', html, re.S)
    assert found, html
    return " ".join(found.group(1).split())


def test_list_shows_totals_status_counts_and_pages(
    client: FlaskClient, service: Service, clock: FakeClock
) -> None:
    for n in range(PAGE + 3):
        create(service, slug=f"a-{n}", title=f"Story {n}", published_at=past(clock, n + 1))
    create(service, slug="d", title="Draft story", status="draft", published_at=past(clock))
    login(client, service)
    page = client.get("/admin/articles").get_data(as_text=True)
    assert totals(page) == f"1–{PAGE} of {PAGE + 4} articles · page 1 of 2"
    assert f"All ({PAGE + 4})" in page
    assert f"Published ({PAGE + 3})" in page and "Draft (1)" in page
    second = client.get("/admin/articles?page=2").get_data(as_text=True)
    assert totals(second) == f"{PAGE + 1}–{PAGE + 4} of {PAGE + 4} articles · page 2 of 2"
    drafts = client.get("/admin/articles?status=draft").get_data(as_text=True)
    assert totals(drafts) == "1–1 of 1 article · page 1 of 1"


def test_a_page_past_the_end_goes_to_the_last_page_and_a_bad_page_is_404(
    client: FlaskClient, service: Service, clock: FakeClock
) -> None:
    create(service, slug="only", published_at=past(clock))
    login(client, service)
    response = client.get("/admin/articles?status=published&page=7")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/articles?status=published&page=1")
    for bad in ("9999999", "0", "abc", "-1"):
        assert client.get(f"/admin/articles?page={bad}").status_code == 404, bad


def test_search_matches_words_anywhere_in_the_title(
    client: FlaskClient, service: Service, clock: FakeClock
) -> None:
    create(service, slug="x", title="Harbour Cranes Return", published_at=past(clock))
    login(client, service)
    page = client.get("/admin/articles?q=cranes").get_data(as_text=True)
    assert "Harbour Cranes Return" in page
    assert "starts with" not in page
    assert 'placeholder="Words in the title…"' in page


def test_editing_changes_the_article_in_the_admins_time_zone_and_is_audited(
    seoul_app: Flask, clock: FakeClock
) -> None:
    svc: Service = seoul_app.extensions["feeds"]
    client = seoul_app.test_client()
    article_id = create(svc, slug="cranes", published_at="2026-01-12T08:23:00+00:00")
    token = login(client, svc)
    form = client.get(f"/admin/articles/{article_id}/edit").get_data(as_text=True)
    # 08:23 UTC is 17:23 in Seoul: the form shows and reads the admin's time zone.
    assert 'value="2026-01-12T17:23"' in form
    assert 'value="#SouthKorea #Shipping"' in form
    response = edit(
        client, article_id, token, title="Cranes Back at Work", summary="Work resumed.",
        content_html="<p>All <b>six</b> cranes.</p><script>alert(1)</script>",
        hashtags="#SouthKorea #PortStrike", published_at="2026-01-13T09:00",
        image_url="/media/cranes-new.png", image_alt="Six cranes",
    )  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    article = svc.articles.get(article_id)
    assert article.title == "Cranes Back at Work"
    assert article.content_html == "<p>All <b>six</b> cranes.</p>"
    assert [t.display for t in article.hashtags] == ["SouthKorea", "PortStrike"]
    assert article.published_at == datetime(2026, 1, 13, 0, 0, tzinfo=UTC)
    assert article.image is not None
    assert (article.image.url, article.image.mime_type) == ("/media/cranes-new.png", "image/png")
    assert article.author == "Min-ji Park"  # not on the form: left alone
    [entry] = [e for e in svc.audit.entries() if e.action == "edit"]
    assert entry.actor == "user:alice" and entry.target_id == str(article_id)
    assert entry.before["title"] == "Harbour Cranes Return to Work"
    assert entry.after["hashtags"] == ["SouthKorea", "PortStrike"]


def test_every_form_error_is_shown_at_once_next_to_its_field(
    client: FlaskClient, service: Service, clock: FakeClock
) -> None:
    article_id = create(service, slug="cranes", published_at=past(clock))
    token = login(client, service)
    response = edit(
        client, article_id, token,
        title="  ", published_at="next tuesday", image_url="https://img.example.com/photo",
    )  # fmt: skip
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "3 problems" in page
    for name in ("title", "published_at", "image_url"):
        assert f'id="error-{name}"' in page, name
        assert re.search(rf'id="field-{name}"[^>]*aria-invalid="true"', page), name
    # What was typed stays in the form; nothing was saved.
    assert 'value="next tuesday"' in page
    assert service.articles.get(article_id).title == "Harbour Cranes Return to Work"


def test_preview_shows_the_content_sanitised_without_saving(
    client: FlaskClient, service: Service, clock: FakeClock
) -> None:
    article_id = create(service, slug="cranes", published_at=past(clock))
    token = login(client, service)
    response = edit(
        client, article_id, token, action="preview", title="Changed",
        content_html='<p onclick="x()">Hello <em>there</em></p><script>alert(1)</script>',
    )  # fmt: skip
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    preview = re.search(r'<div id="content-preview"[^>]*>(.*?)</div>', page, re.S)
    assert preview and preview.group(1) == "<p>Hello <em>there</em></p>"
    assert service.articles.get(article_id).title == "Harbour Cranes Return to Work"


def test_a_draft_preview_is_for_admins_only(
    client: FlaskClient, service: Service, clock: FakeClock
) -> None:
    article_id = create(service, slug="secret", title="Embargoed", status="draft",
                        published_at=past(clock))  # fmt: skip
    assert client.get("/articles/secret").status_code == 404
    anonymous = client.get(f"/admin/articles/{article_id}/preview")
    assert anonymous.status_code == 302 and "/admin/login" in anonymous.headers["Location"]
    login(client, service)
    page = client.get(f"/admin/articles/{article_id}/preview").get_data(as_text=True)
    assert "<h1>Embargoed</h1>" in page
    assert 'data-public="no"' in page and "only admins can see it" in page
    listing = client.get("/admin/articles").get_data(as_text=True)
    assert f'href="/admin/articles/{article_id}/preview">Embargoed</a>' in listing
    assert client.get("/admin/articles/999/preview").status_code == 404


def test_admin_time_zone_must_be_a_time_zone() -> None:
    with pytest.raises(ConfigError, match="admin_time_zone"):
        load_settings({"admin_time_zone": "Mars/Olympus"}, environ={})
    assert load_settings({"admin_time_zone": "Asia/Seoul"}, environ={}).admin_time_zone


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium")
def test_in_chromium_an_edit_shows_in_the_articles_feeds(
    live_app: Flask, listener: BaseWSGIServer, clock: FakeClock
) -> None:
    svc: Service = live_app.extensions["feeds"]
    svc.users.create("alice", PASSWORD)
    article_id = create(svc, slug="cranes", published_at=past(clock))
    assert svc.articles.get(article_id).status is Status.PUBLISHED
    with serving(live_app, listener) as base, browser_page(base) as page:

        def feed_titles(path: str) -> list[str]:
            response = page.request.get(path)  # type: ignore[attr-defined]
            if response.status != 200:
                return [f"HTTP {response.status}"]
            return [item["title"] for item in response.json()["items"]]

        assert feed_titles("/feeds/all.json") == ["Harbour Cranes Return to Work"]
        assert feed_titles("/feeds/tags/portstrike.json") == ["HTTP 404"]
        log_in(page)
        page.goto("/admin/articles")  # type: ignore[attr-defined]
        page.get_by_role("link", name="Edit Harbour Cranes Return to Work").click()  # type: ignore[attr-defined]
        page.get_by_label("Title").fill("Cranes Back at Work")  # type: ignore[attr-defined]
        page.get_by_label("Hashtags").fill("#SouthKorea #PortStrike")  # type: ignore[attr-defined]
        page.get_by_label("Content (HTML)").fill("<p>All six cranes.</p><script>x()</script>")  # type: ignore[attr-defined]
        page.get_by_role("button", name="Preview content").click()  # type: ignore[attr-defined]
        preview = page.locator("#content-preview")  # type: ignore[attr-defined]
        assert preview.inner_html() == "<p>All six cranes.</p>"
        assert feed_titles("/feeds/all.json") == ["Harbour Cranes Return to Work"]
        page.get_by_role("button", name="Save article").click()  # type: ignore[attr-defined]
        page.locator(".flash", has_text="Saved “Cranes Back at Work”").wait_for()  # type: ignore[attr-defined]
        assert feed_titles("/feeds/all.json") == ["Cranes Back at Work"]
        assert feed_titles("/feeds/tags/portstrike.json") == ["Cranes Back at Work"]
        # The hashtag it lost is known, so its feed stays, without the article.
        assert feed_titles("/feeds/tags/shipping.json") == []
