"""Error pages and stale forms in a real headless Chromium: the admin's own pages with a
way back, sessions that survive a restart, and a stale form that keeps what was typed.

Uses Debian's /usr/bin/chromium through Playwright; skipped only when it is absent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer

from feeds.service import Service
from tests.admin_helpers import PASSWORD
from tests.conftest import FakeClock, address, make_app, serving
from tests.test_admin_browser import CHROMIUM, browser_page, log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"
    ),
]


def shared_key_app(database_url: str, clock: FakeClock, listener: BaseWSGIServer) -> Flask:
    # No secret_key setting: the key comes from the store, as in production.
    return make_app(database_url, clock, secret_key="", public_url=address(listener) + "/")


@pytest.fixture
def live(
    database_url: str, clock: FakeClock, listener: BaseWSGIServer
) -> Iterator[tuple[Flask, BaseWSGIServer, str]]:
    app = shared_key_app(database_url, clock, listener)
    app.extensions["feeds"].users.create("alice", PASSWORD)
    with serving(app, listener) as url:
        yield app, listener, url
    app.extensions["feeds"].ctx.store.dispose()


def test_error_pages_lead_back(live: tuple[Flask, BaseWSGIServer, str]) -> None:
    _, _, url = live
    with browser_page(url) as page:
        answer = page.goto("/admin/no-such-page")  # type: ignore[attr-defined]
        assert answer.status == 404
        assert page.locator("h1").inner_text() == "Page not found"  # type: ignore[attr-defined]
        page.click("text=Sign in")  # type: ignore[attr-defined]
        page.fill("input[name=name]", "alice")  # type: ignore[attr-defined]
        page.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
        page.click("button[type=submit]")  # type: ignore[attr-defined]
        page.wait_for_url("**/admin/no-such-page")  # type: ignore[attr-defined]
        assert page.locator("nav a", has_text="Dashboard").count() == 1  # type: ignore[attr-defined]
        page.click("text=Back to the dashboard")  # type: ignore[attr-defined]
        page.wait_for_url("**/admin/")  # type: ignore[attr-defined]

        public = page.goto("/feeds/no-such-feed.rss")  # type: ignore[attr-defined]
        assert public.status == 404
        page.click("text=All feeds")  # type: ignore[attr-defined]
        page.wait_for_url("**/feeds/")  # type: ignore[attr-defined]


def test_a_form_survives_a_restart_and_a_stale_one_keeps_what_was_typed(
    live: tuple[Flask, BaseWSGIServer, str], database_url: str, clock: FakeClock
) -> None:
    app, listener, url = live
    with browser_page(url) as page:
        log_in(page)
        page.goto("/admin/tag-feeds/new")  # type: ignore[attr-defined]
        page.fill("input[name=title]", "Ports after restart")  # type: ignore[attr-defined]
        page.fill("input[name=slug]", "ports-after-restart")  # type: ignore[attr-defined]
        page.fill("input[name=any_of]", "#Shipping")  # type: ignore[attr-defined]

        # The service restarts while the form is open: a new app on the same store.
        restarted = shared_key_app(database_url, clock, listener)
        listener.app = restarted
        page.click("#tag-feed-form button[type=submit]")  # type: ignore[attr-defined]
        page.wait_for_url("**/admin/tag-feeds/ports-after-restart")  # type: ignore[attr-defined]
        svc: Service = restarted.extensions["feeds"]
        assert svc.catalog.tag_feed("ports-after-restart").title == "Ports after restart"

        # A form opened before the session was renewed elsewhere (log out, log in in
        # another tab) carries a token that no longer checks out.
        page.goto("/admin/tag-feeds/new")  # type: ignore[attr-defined]
        page.fill("input[name=title]", "Harbour watch")  # type: ignore[attr-defined]
        page.fill("input[name=slug]", "harbour-watch")  # type: ignore[attr-defined]
        page.fill("textarea[name=description]", "Cranes, ferries and tides.")  # type: ignore[attr-defined]
        page.fill("input[name=any_of]", "#Shipping")  # type: ignore[attr-defined]
        other = page.context.new_page()  # type: ignore[attr-defined]
        other.goto("/admin/")
        other.click("button:has-text('Log out')")
        other.wait_for_url("**/admin/login")
        log_in(other)
        other.close()

        page.click("#tag-feed-form button[type=submit]")  # type: ignore[attr-defined]
        heading = page.locator("h1")  # type: ignore[attr-defined]
        heading.filter(has_text="This form expired").wait_for(timeout=10_000)
        assert page.locator("input[name=title]").input_value() == "Harbour watch"  # type: ignore[attr-defined]
        description = page.locator("textarea[name=description], input[name=description]")  # type: ignore[attr-defined]
        assert description.input_value() == "Cranes, ferries and tides."
        assert "harbour-watch" not in {f.slug for f in svc.catalog.tag_feeds()}

        page.click("text=Send again")  # type: ignore[attr-defined]
        page.wait_for_url("**/admin/tag-feeds/harbour-watch")  # type: ignore[attr-defined]
        saved = svc.catalog.tag_feed("harbour-watch")
        assert saved.description == "Cranes, ferries and tides."
    restarted.extensions["feeds"].ctx.store.dispose()
    assert app is not restarted


def test_a_late_answer_to_a_signed_out_tab_leaves_a_login_in_another_tab_alone(
    live: tuple[Flask, BaseWSGIServer, str],
) -> None:
    # A form left open in one tab previews as it is typed in; another tab logs out and in.
    # A preview sent in the moment the browser holds no session (after the log-out's
    # answer, before the login page's) is answered after the login page: that answer must
    # not replace the session the login form's token belongs to. The server holds the
    # preview until the login page is open, so the order is the same on every run.
    app, listener, url = live
    sent_without_session, release = threading.Event(), threading.Event()

    def held_previews(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ["PATH_INFO"].endswith("/preview") and "HTTP_COOKIE" not in environ:
            sent_without_session.set()
            release.wait(timeout=30)
        return app(environ, start_response)

    listener.app = held_previews
    with browser_page(url) as page:
        p: Any = page
        log_in(p)
        p.goto("/admin/tag-feeds/new")
        p.context.clear_cookies()  # the browser between a log-out's answer and the next page
        # What the form's live preview sends (static/tag_feed_form.js), started here rather
        # than by typing so that no second preview follows it.
        p.evaluate(
            """() => {
                const form = document.getElementById("tag-feed-form");
                const token = document.querySelector('meta[name="csrf-token"]').content;
                window.latePreview = fetch(form.dataset.preview, {
                    method: "POST", body: new FormData(form), headers: {"X-CSRFToken": token},
                }).then((response) => response.status);
            }"""
        )
        assert sent_without_session.wait(timeout=30)

        other = p.context.new_page()
        other.goto("/admin/login")
        other.fill("input[name=name]", "alice")
        other.fill("input[name=password]", PASSWORD)
        release.set()
        assert p.evaluate("window.latePreview") == 400  # answered, after the login page
        with other.expect_navigation():
            other.click("button[type=submit]")
        assert urlsplit(other.url).path == "/admin/", other.locator("h1").inner_text()
