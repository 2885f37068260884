"""Restore returns an article to the status it had before withdrawal; never publishes a draft.

Checked through the service, the API, the CLI, the admin pages, the upgrade that fills
the kept status from the audit log, and in real Chromium.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from werkzeug.serving import BaseWSGIServer

from feeds.models import Status
from feeds.service import Service
from feeds.store import Store
from tests.admin_helpers import PASSWORD, login, post
from tests.conftest import FakeClock, article_payload, serving
from tests.migration_helpers import upgrade_to
from tests.test_admin_browser import CHROMIUM, browser_page, log_in

Headers = dict[str, str]


def create(client: FlaskClient, headers: Headers, **changes: Any) -> dict[str, Any]:
    response = client.post("/api/v1/articles", json=article_payload(**changes), headers=headers)
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def past(clock: FakeClock) -> str:
    return (clock.now - timedelta(hours=1)).isoformat()


def future(clock: FakeClock) -> str:
    return (clock.now + timedelta(days=2)).isoformat()


def test_restore_returns_each_article_to_its_status_before_withdrawal(
    client: FlaskClient, service: Service, writer_token: Headers, clock: FakeClock
) -> None:
    draft = create(client, writer_token, slug="d", status="draft", hashtags=["Embargo"],
                   published_at=past(clock))  # fmt: skip
    live = create(client, writer_token, slug="p", published_at=past(clock))
    scheduled = create(client, writer_token, slug="s", published_at=future(clock))
    for article in (draft, live, scheduled):
        # The API's DELETE withdraws; the status it had is kept for a restore.
        deleted = client.delete(f"/api/v1/articles/{article['id']}", headers=writer_token)
        assert deleted.get_json()["status"] == "withdrawn"
    restored = {a["slug"]: service.audit.restore_article("user:alice", a["id"]).status
                for a in (draft, live, scheduled)}  # fmt: skip
    assert restored == {"d": Status.DRAFT, "p": Status.PUBLISHED, "s": Status.PUBLISHED}
    assert client.get("/feeds/tags/embargo.rss").status_code == 404
    ids = [item["id"] for item in client.get("/feeds/all.json").get_json()["items"]]
    assert ids == [live["guid"]]  # the scheduled one waits for its time
    clock.advance(days=3)
    ids = [item["id"] for item in client.get("/feeds/all.json").get_json()["items"]]
    assert ids == [scheduled["guid"], live["guid"]]


def test_withdrawing_by_patch_is_kept_too_and_a_restore_forgets_it(
    client: FlaskClient, service: Service, writer_token: Headers
) -> None:
    draft = create(client, writer_token, status="draft")
    url = f"/api/v1/articles/{draft['id']}"
    assert client.patch(url, json={"status": "withdrawn"}, headers=writer_token).status_code == 200
    assert service.articles.restore(draft["id"]).status is Status.DRAFT
    # Published and withdrawn again: this time the restore publishes.
    client.patch(url, json={"status": "published"}, headers=writer_token)
    client.delete(url, headers=writer_token)
    assert service.articles.restore(draft["id"]).status is Status.PUBLISHED


def test_restore_leaves_an_article_that_is_not_withdrawn_alone(
    client: FlaskClient, service: Service, writer_token: Headers
) -> None:
    draft = create(client, writer_token, status="draft", hashtags=["Embargo"])
    result = client.application.test_cli_runner().invoke(
        args=["feeds", "articles", "restore", str(draft["id"])]
    )
    assert result.exit_code == 0, result.output
    assert service.articles.get(draft["id"]).status is Status.DRAFT
    assert client.get("/feeds/tags/embargo.json").status_code == 404


def test_a_withdrawal_from_before_the_status_was_kept_restores_to_draft(
    client: FlaskClient, service: Service, writer_token: Headers
) -> None:
    live = create(client, writer_token)
    client.delete(f"/api/v1/articles/{live['id']}", headers=writer_token)
    with service.ctx.store.begin() as conn:
        conn.execute(text("UPDATE articles SET status_before_withdrawal = NULL"))
    assert service.articles.restore(live["id"]).status is Status.DRAFT


# --- the admin -----------------------------------------------------------------------


@pytest.fixture
def admin(client: FlaskClient, service: Service) -> str:
    return login(client, service)


def rows(client: FlaskClient) -> dict[int, tuple[str, str]]:
    """{article id: (state shown, the action offered)} from the admin's article list."""
    page = client.get("/admin/articles").get_data(as_text=True)
    found = {}
    for row in re.findall(r'<tr id="article-(\d+)">(.*?)</tr>', page, re.S):
        article_id, cells = int(row[0]), row[1]
        shown = re.search(r'data-status="(\w+)"', cells)
        assert shown
        action = "restore" if ">Restore<" in cells else "withdraw" if ">Withdraw<" in cells else ""
        found[article_id] = (shown.group(1), action)
    return found


def test_the_list_labels_scheduled_articles_and_offers_no_withdraw_for_drafts(
    client: FlaskClient, writer_token: Headers, admin: str, clock: FakeClock
) -> None:
    draft = create(client, writer_token, slug="d", status="draft")
    live = create(client, writer_token, slug="p", published_at=past(clock))
    scheduled = create(client, writer_token, slug="s", published_at=future(clock))
    gone = create(client, writer_token, slug="w", status="withdrawn")
    assert rows(client) == {
        draft["id"]: ("draft", ""),
        live["id"]: ("published", "withdraw"),
        scheduled["id"]: ("scheduled", "withdraw"),
        gone["id"]: ("withdrawn", "restore"),
    }


def test_withdrawing_asks_first_and_keeps_the_reason_in_the_audit_log(
    client: FlaskClient, service: Service, writer_token: Headers, admin: str
) -> None:
    live = create(client, writer_token)
    question = client.get(f"/admin/articles/{live['id']}/withdraw?next=/admin/articles?q=Harb")
    assert question.status_code == 200
    page = question.get_data(as_text=True)
    assert "Withdraw “Harbour Cranes Return to Work”?" in page
    assert 'name="reason"' in page and 'href="/admin/articles?q=Harb">Cancel' in page
    assert service.articles.get(live["id"]).status is Status.PUBLISHED  # asking changes nothing

    done = post(client, f"/admin/articles/{live['id']}/withdraw", admin,
                reason="  Legal asked us to hold it.  ", next="/admin/articles?q=Harb")  # fmt: skip
    assert done.headers["Location"] == "/admin/articles?q=Harb"
    assert service.articles.get(live["id"]).status is Status.WITHDRAWN
    (entry,) = [e for e in service.audit.entries() if e.action == "withdraw"]
    assert entry.after["reason"] == "Legal asked us to hold it."
    assert "Legal asked us to hold it." in client.get("/admin/audit").get_data(as_text=True)


def test_a_reason_too_long_is_refused_and_what_was_typed_kept(
    client: FlaskClient, service: Service, writer_token: Headers, admin: str
) -> None:
    live = create(client, writer_token)
    reason = "because " * 70
    response = post(client, f"/admin/articles/{live['id']}/withdraw", admin, reason=reason)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "longer than 500 characters" in page and reason.strip() in page
    assert service.articles.get(live["id"]).status is Status.PUBLISHED


def test_the_admin_does_not_withdraw_drafts(
    client: FlaskClient, service: Service, writer_token: Headers, admin: str
) -> None:
    draft = create(client, writer_token, status="draft")
    asked = client.get(f"/admin/articles/{draft['id']}/withdraw")
    assert asked.status_code == 302
    post(client, f"/admin/articles/{draft['id']}/withdraw", admin)
    assert service.articles.get(draft["id"]).status is Status.DRAFT
    assert not [e for e in service.audit.entries() if e.action == "withdraw"]


# --- the upgrade ---------------------------------------------------------------------


def test_upgrade_takes_the_kept_status_from_the_audit_log(empty_database_url: str) -> None:
    store = Store.from_url(empty_database_url)
    upgrade_to(store, "0009")
    with store.engine.begin() as conn:
        conn.execute(text("INSERT INTO sections (slug, title, description) VALUES ('w', 'W', '')"))
        for n, status in ((1, "withdrawn"), (2, "withdrawn"), (3, "withdrawn"), (4, "draft")):
            conn.execute(
                text(
                    "INSERT INTO articles (id, guid, slug, title, summary, content_html, author,"
                    " section, views, sponsored, status, language, published_at, updated_at)"
                    " VALUES (:n, :g, :s, 't', '', '', 'a', 'w', 0, FALSE, :status, 'en',"
                    " '2020-01-01 00:00:00', '2020-01-01 00:00:00')"
                ),
                {"n": n, "g": f"g{n}", "s": f"s{n}", "status": status},
            )
        entries = [
            ("1", '{"status": "published"}'),  # withdrawn, restored, withdrawn again:
            ("1", '{"status": "draft"}'),  # the last withdrawal counts
            ("2", '{"status": "published"}'),
            ("4", '{"status": "published"}'),  # not withdrawn now: left alone
        ]
        for target, before in entries:
            conn.execute(
                text(
                    "INSERT INTO audit_log (at, actor, action, target_kind, target_id, before)"
                    " VALUES ('2020-01-01 00:00:00', 'user:a', 'withdraw', 'article', :t, :b)"
                ),
                {"t": target, "b": before},
            )
    store.migrate()
    with store.read() as conn:
        kept = dict(conn.execute(text("SELECT id, status_before_withdrawal FROM articles")).all())
    store.dispose()
    assert kept == {1: "draft", 2: "published", 3: None, 4: None}


# --- in a browser --------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium")
def test_in_chromium_restore_keeps_a_draft_a_draft_and_its_tag_unknown(
    live_app: Flask, listener: BaseWSGIServer, writer_token: Headers, clock: FakeClock
) -> None:
    svc: Service = live_app.extensions["feeds"]
    svc.users.create("alice", PASSWORD)
    api = live_app.test_client()
    draft = create(api, writer_token, slug="embargoed", status="draft",
                   hashtags=["Embargo"], published_at=past(clock))  # fmt: skip
    live = create(api, writer_token, slug="live", published_at=past(clock))
    with serving(live_app, listener) as base, browser_page(base) as page:

        def tag_feed_status() -> int:
            return int(page.request.get("/feeds/tags/embargo.rss").status)  # type: ignore[attr-defined]

        def row(article: dict[str, Any]) -> Any:
            return page.locator(f"#article-{article['id']}")  # type: ignore[attr-defined]

        log_in(page)
        page.goto("/admin/articles")  # type: ignore[attr-defined]
        assert row(draft).locator(".status").inner_text() == "draft"
        assert row(draft).get_by_role("link", name="Withdraw").count() == 0
        assert row(draft).get_by_role("button").count() == 0
        assert tag_feed_status() == 404

        # The newsroom withdraws the draft through the API; the admin restores it.
        api.delete(f"/api/v1/articles/{draft['id']}", headers=writer_token)
        page.reload()  # type: ignore[attr-defined]
        assert row(draft).locator(".status").inner_text() == "withdrawn"
        assert tag_feed_status() == 404
        row(draft).get_by_role("button", name="Restore").click()
        page.wait_for_url("**/admin/articles")  # type: ignore[attr-defined]
        assert row(draft).locator(".status").inner_text() == "draft"
        assert svc.articles.get(draft["id"]).status is Status.DRAFT
        assert tag_feed_status() == 404

        # A published article: withdrawing asks first, with a reason; restore publishes.
        row(live).get_by_role("link", name="Withdraw").click()
        page.fill("textarea[name=reason]", "Wrong photo")  # type: ignore[attr-defined]
        page.get_by_role("button", name="Withdraw article").click()  # type: ignore[attr-defined]
        page.wait_for_url("**/admin/articles")  # type: ignore[attr-defined]
        assert row(live).locator(".status").inner_text() == "withdrawn"
        assert page.request.get("/feeds/all.json").json()["items"] == []  # type: ignore[attr-defined]
        row(live).get_by_role("button", name="Restore").click()
        page.wait_for_url("**/admin/articles")  # type: ignore[attr-defined]
        assert row(live).locator(".status").inner_text() == "published"
        items = page.request.get("/feeds/all.json").json()["items"]  # type: ignore[attr-defined]
        assert [item["id"] for item in items] == [live["guid"]]
        assert tag_feed_status() == 404
    reasons = [e.after.get("reason") for e in svc.audit.entries() if e.action == "withdraw"]
    assert reasons == ["Wrong photo"]
