"""The admin on a 390 px phone and to a screen reader, in real Chromium.

Every admin page: no sideways scrolling at 390 px (`scrollWidth` of the document), a
skip link first in the tab order, the menu marking the current part, a favicon, and an
accessibility snapshot (Playwright's aria snapshot, kept in test-artifacts/) in which
every control has a name.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from feeds.models import ArticleFilter
from feeds.service import Service
from tests.admin_helpers import PASSWORD
from tests.test_admin_browser import ARTIFACTS, CHROMIUM, browser_page, log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"
    ),
]

PHONE = {"width": 390, "height": 844}
CONTROLS = ("button", "link", "textbox", "combobox", "checkbox", "radio", "spinbutton", "searchbox")
# A control line of an aria snapshot: `- button "Save"`, or `- textbox` when it has no name.
CONTROL_LINE = re.compile(rf"^\s*- ({'|'.join(CONTROLS)})\b(.*)$")


def unnamed_controls(snapshot: str) -> list[str]:
    unnamed = []
    for line in snapshot.splitlines():
        found = CONTROL_LINE.match(line)
        if found and not found.group(2).lstrip().startswith('"'):
            unnamed.append(line.strip())
    return unnamed


def test_unnamed_controls_are_found() -> None:
    snapshot = (
        '- main:\n  - button "Save"\n  - textbox\n'
        '  - link "Home":\n    - /url: /\n  - checkbox [checked]'
    )
    assert unnamed_controls(snapshot) == ["- textbox", "- checkbox [checked]"]


def admin_pages(svc: Service) -> dict[str, tuple[str, str]]:
    """Every admin page worth a look: name -> (path, the menu part marked current)."""
    article = svc.articles.list(ArticleFilter(limit=1))[0]
    return {
        "dashboard": ("/admin/", "Dashboard"),
        "tag-feeds": ("/admin/tag-feeds", "Tag feeds"),
        "tag-feed-new": ("/admin/tag-feeds/new", "Tag feeds"),
        "sources": ("/admin/sources", "Sources"),
        "source-new": ("/admin/sources/new", "Sources"),
        "articles": ("/admin/articles", "Articles"),
        "article-edit": (f"/admin/articles/{article.id}/edit", "Articles"),
        "article-preview": (f"/admin/articles/{article.id}/preview", "Articles"),
        "article-withdraw": (f"/admin/articles/{article.id}/withdraw", "Articles"),
        "audit": ("/admin/audit", "Audit log"),
        "users": ("/admin/users", "Users"),
        "tokens": ("/admin/tokens", "Tokens"),
        "account": ("/admin/account", "alice"),
    }


def test_every_admin_page_fits_a_phone_and_names_every_control(
    page: Any, live_demo_app: Flask
) -> None:
    svc: Service = live_demo_app.extensions["feeds"]
    svc.users.create("alice", PASSWORD)
    svc.audit.create_tag_feed("user:alice", {"slug": "ferries", "title": "Ferries",
                                             "any_of": ["Shipping"]})  # fmt: skip
    page.set_viewport_size(PHONE)
    log_in(page)
    ARTIFACTS.mkdir(exist_ok=True)
    problems: dict[str, Any] = {}
    for name, (path, current) in admin_pages(svc).items():
        response = page.goto(path)
        assert response.ok, (name, response.status)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            problems[f"{name} width"] = width
        snapshot = page.locator("body").aria_snapshot()
        (ARTIFACTS / f"aria-{name}.yml").write_text(snapshot, encoding="utf-8")
        unnamed = unnamed_controls(snapshot)
        if unnamed:
            problems[f"{name} unnamed"] = unnamed
        marked = page.locator("header [aria-current=page]").all_inner_texts()
        if marked != [current]:
            problems[f"{name} current"] = marked
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.textContent")
        if focused != "Skip to content":
            problems[f"{name} first tab"] = focused
        if name in ("dashboard", "articles"):
            page.screenshot(path=str(ARTIFACTS / f"phone-{name}.png"), full_page=True)
    assert problems == {}
    icon = page.locator("link[rel=icon]").get_attribute("href")
    answer = page.request.get(icon)
    assert answer.status == 200 and answer.headers["content-type"].startswith("image/svg+xml")


def test_the_menu_takes_one_line_on_a_phone(page: Any, live_demo_app: Flask) -> None:
    svc: Service = live_demo_app.extensions["feeds"]
    svc.users.create("alice", PASSWORD)
    page.set_viewport_size(PHONE)
    log_in(page)
    tops = page.locator("header nav a").evaluate_all(
        "links => links.map(a => Math.round(a.getBoundingClientRect().top))"
    )
    assert len(tops) == 7 and len(set(tops)) == 1
    # The skip link moves focus past the menu.
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


@pytest.fixture
def page(live_url: str) -> Any:
    with browser_page(live_url) as opened:
        yield opened
