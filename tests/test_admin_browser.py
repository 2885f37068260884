"""The admin UI in a real headless Chromium: login, live preview, CSRF, redirects,
adding and refreshing a source until its health turns ok, then failing.

Uses Debian's /usr/bin/chromium through Playwright; skipped only when it is absent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from feeds.models import ArticleFilter, Status
from feeds.service import Service
from tests.admin_helpers import PASSWORD
from tests.conftest import FakeClock, make_app, serving
from tests.ingest_helpers import Entry, rss

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"
    ),
]


@contextmanager
def browser_page(base_url: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=ARGS, headless=True
        )
        context = browser.new_context(base_url=base_url)
        yield context.new_page()
        context.close()
        browser.close()


@pytest.fixture
def page(live_url: str) -> Iterator[object]:
    with browser_page(live_url) as opened:
        yield opened


def japan_titles(svc: Service) -> set[str]:
    now = svc.ctx.now()
    return {
        a.title
        for a in svc.articles.list(ArticleFilter(status=Status.PUBLISHED, limit=500))
        if a.published_at <= now
        and "japan" in {t.display.lower() for t in a.hashtags}
        and not a.sponsored
    }


def log_in(page: object) -> None:
    page.goto("/admin/")  # type: ignore[attr-defined]
    page.fill("input[name=name]", "alice")  # type: ignore[attr-defined]
    page.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url("**/admin/")  # type: ignore[attr-defined]


def test_anonymous_visit_is_sent_to_login(page: object, live_demo_app: Flask) -> None:
    response = page.goto("/admin/tag-feeds")  # type: ignore[attr-defined]
    assert response.ok
    assert "/admin/login" in page.url  # type: ignore[attr-defined]
    assert page.locator("input[name=password]").count() == 1  # type: ignore[attr-defined]


def test_create_tag_feed_with_live_preview(page: object, live_demo_app: Flask) -> None:
    svc: Service = live_demo_app.extensions["feeds"]
    svc.users.create("alice", PASSWORD)
    log_in(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)  # type: ignore[attr-defined]

    page.goto("/admin/tag-feeds/new")  # type: ignore[attr-defined]
    page.fill("input[name=title]", "Japan watch")  # type: ignore[attr-defined]
    page.fill("input[name=slug]", "japan-watch")  # type: ignore[attr-defined]
    page.fill("input[name=any_of]", "#Japan")  # type: ignore[attr-defined]
    expected = japan_titles(svc)
    assert expected
    status = page.locator("#preview-status")  # type: ignore[attr-defined]
    status.filter(has_text=f"{len(expected)} article").wait_for(timeout=10_000)
    shown = set(page.locator("#preview-items li a").all_inner_texts())  # type: ignore[attr-defined]
    assert shown == expected

    page.click("#tag-feed-form button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url("**/admin/tag-feeds/japan-watch")  # type: ignore[attr-defined]
    json_url = page.locator("input.url[data-format=json]").input_value()  # type: ignore[attr-defined]
    feed = page.request.get(json_url).json()  # type: ignore[attr-defined]
    assert {item["title"] for item in feed["items"]} == expected


def test_post_without_csrf_token_is_refused(page: object, live_demo_app: Flask) -> None:
    svc: Service = live_demo_app.extensions["feeds"]
    svc.users.create("alice", PASSWORD)
    log_in(page)
    # The browser sends the session cookie, but a forged form has no token.
    status = page.evaluate(  # type: ignore[attr-defined]
        """async () => {
            const body = new URLSearchParams({title: "Forged", slug: "forged", any_of: "Japan"});
            const r = await fetch("/admin/tag-feeds/new", {method: "POST", body});
            return r.status;
        }"""
    )
    assert status == 400
    assert "forged" not in {f.slug for f in svc.catalog.tag_feeds()}


WIRE = rss([Entry("w-1", "Ferry timetable changes"), Entry("w-2", "Harbour lights restored")])


def wire_feed(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "application/rss+xml")])
    return [WIRE]


@pytest.fixture
def sources_app(database_url: str, clock: FakeClock) -> Iterator[Flask]:
    # The fetcher refuses loopback addresses unless allowed: the test feed lives there.
    app = make_app(database_url, clock, load_demo=True, fetch_allow=("127.0.0.1/32",))
    yield app
    app.extensions["feeds"].ctx.store.dispose()


def test_source_health_turns_ok_then_failing(sources_app: Flask) -> None:
    svc: Service = sources_app.extensions["feeds"]
    svc.users.create("alice", PASSWORD)
    with serving(sources_app) as admin_url, browser_page(admin_url) as page:
        log_in(page)
        with serving(wire_feed) as feed_url:
            page.goto("/admin/sources/new")  # type: ignore[attr-defined]
            page.fill("input[name=url]", f"{feed_url}/wire.xml")  # type: ignore[attr-defined]
            page.fill("input[name=name]", "Harbour Wire")  # type: ignore[attr-defined]
            page.select_option("select[name=section]", "world")  # type: ignore[attr-defined]
            page.click("#source-form button[type=submit]")  # type: ignore[attr-defined]
            page.wait_for_url(re.compile(r".*/admin/sources/\d+$"))  # type: ignore[attr-defined]
            source_id = int(page.url.rsplit("/", 1)[1])  # type: ignore[attr-defined]
            page.click("#refresh-button")  # type: ignore[attr-defined]
            result = page.locator("#refresh-result[data-status=fetched]")  # type: ignore[attr-defined]
            result.wait_for(timeout=15_000)
            assert "2 new, 0 updated, 0 unchanged" in result.inner_text()

            page.goto("/admin/")  # type: ignore[attr-defined]
            row = page.locator(f"tr[data-source='{source_id}']")  # type: ignore[attr-defined]
            row.locator("[data-health=ok]").wait_for(timeout=10_000)
            assert "2 (2 new" in row.inner_text()
        # The feed's server is gone: the next fetch is refused.

        page.goto(f"/admin/sources/{source_id}")  # type: ignore[attr-defined]
        page.click("#refresh-button")  # type: ignore[attr-defined]
        failed = page.locator("#refresh-result[data-status=failed]")  # type: ignore[attr-defined]
        failed.wait_for(timeout=15_000)
        error = svc.sources.get(source_id).state.last_error
        assert error and error in failed.inner_text()

        page.goto("/admin/")  # type: ignore[attr-defined]
        row = page.locator(f"tr[data-source='{source_id}']")  # type: ignore[attr-defined]
        row.locator("[data-health=failing]").wait_for(timeout=10_000)
        assert row.locator(".error-line").inner_text() == error
        assert "backing off until" in row.locator(".backoff").inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "sources-failing.png"), full_page=True)  # type: ignore[attr-defined]


def test_deleting_a_tag_feed_asks_first(page: object, demo_app: Flask) -> None:
    # The question comes from the admin's script file: its policy allows no inline handler.
    svc: Service = demo_app.extensions["feeds"]
    svc.users.create("alice", PASSWORD)
    svc.audit.create_tag_feed("user:alice", {"slug": "ferries", "title": "Ferries",
                                             "any_of": ["Shipping"]})  # fmt: skip
    log_in(page)
    questions: list[str] = []
    answer = {"accept": False}

    def respond(dialog: Any) -> None:
        questions.append(dialog.message)
        dialog.accept() if answer["accept"] else dialog.dismiss()

    page.on("dialog", respond)  # type: ignore[attr-defined]
    page.goto("/admin/tag-feeds/ferries")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Delete tag feed").click()  # type: ignore[attr-defined]
    assert questions == ["Delete this tag feed? Subscribers will get 404."]
    assert "ferries" in {f.slug for f in svc.catalog.tag_feeds()}
    answer["accept"] = True
    page.get_by_role("button", name="Delete tag feed").click()  # type: ignore[attr-defined]
    page.wait_for_url("**/admin/tag-feeds")  # type: ignore[attr-defined]
    assert "ferries" not in {f.slug for f in svc.catalog.tag_feeds()}
