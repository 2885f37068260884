"""A person opening a feed URL in real Chromium sees the feed's HTML page, not raw XML
and no XSLT: every item with its author, image and Sponsored label, and no script."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.test_admin_browser import ARTIFACTS, CHROMIUM, browser_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"
    ),
]


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
def test_a_feed_opened_in_chromium_is_a_page_for_people(live_url: str, fmt: str) -> None:
    base = live_url
    with browser_page(base) as page:
        p: Any = page
        problems: list[str] = []

        def console(message: Any) -> None:
            # The browser asks for /favicon.ico by itself; the service has none.
            if message.type == "error" and not message.location["url"].endswith("/favicon.ico"):
                problems.append(f"{message.text} ({message.location['url']})")

        p.on("console", console)
        p.on("pageerror", lambda e: problems.append(str(e)))
        response = p.goto(f"/feeds/all.{fmt}")
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert "Accept" in response.headers["vary"]
        p.get_by_role("heading", name="Follow this feed").wait_for()
        # Our page, not a browser's rendering of XML or of an XSLT transform.
        assert p.evaluate("document.contentType") == "text/html"
        assert p.evaluate("document.scripts.length") == 0
        text = p.locator("body").inner_text()
        assert "XSLT" not in text and "<rss" not in text and "<feed" not in text
        address = p.get_by_label("Feed address")
        assert address.input_value() == f"{base}/feeds/all.{fmt}"
        items = p.locator("article.item")
        assert items.count() >= 10
        first = items.filter(has_text="Seoul and Tokyo Agree to Resume Quarterly Leader Talks")
        assert first.get_by_role("link", name="Min-ji Park").is_visible()
        image = first.locator("img")
        assert image.is_visible()
        # The image really loaded: the page's media are served from this origin. It loads
        # lazily, so the page's load event (what goto waits for) may come before it does:
        # decode() waits for it, and fails if it is broken. Scrolled to, so it does start.
        image.scroll_into_view_if_needed()
        assert image.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0
        assert first.get_by_role("link", name="World").is_visible()
        assert p.locator(".sponsored", has_text="Sponsored").first.is_visible()
        snapshot = p.locator("body").aria_snapshot()
        assert 'heading "Follow this feed"' in snapshot
        assert 'textbox "Feed address"' in snapshot
        ARTIFACTS.mkdir(exist_ok=True)
        p.screenshot(path=str(ARTIFACTS / f"feed-page-{fmt}.png"), full_page=True)
        (ARTIFACTS / f"feed-page-{fmt}.aria.yaml").write_text(snapshot)
        # Narrow screens: nothing runs off the side.
        p.set_viewport_size({"width": 390, "height": 800})
        width = p.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
        p.screenshot(path=str(ARTIFACTS / f"feed-page-{fmt}-narrow.png"))
        assert problems == []


def test_feed_readers_keep_the_feed(live_url: str) -> None:
    with browser_page(live_url) as page:
        p: Any = page
        response = p.request.get(
            f"{live_url}/feeds/all.json", headers={"Accept": "application/feed+json"}
        )
        assert response.headers["content-type"] == "application/feed+json; charset=utf-8"
        assert json.loads(response.body())["version"] == "https://jsonfeed.org/version/1.1"
