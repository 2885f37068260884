"""A person opening a feed URL in a real browser sees a readable page, not raw XML."""

from __future__ import annotations

import pytest

from tests.test_admin_browser import ARTIFACTS, CHROMIUM, browser_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"
    ),
]


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_feed_opened_in_chromium_explains_how_to_subscribe(live_url: str, fmt: str) -> None:
    base = live_url
    with browser_page(base) as page:
        response = page.goto(f"/feeds/sections/world.{fmt}")  # type: ignore[attr-defined]
        # The view works under the feed's policy, which allows no script but the stylesheet.
        policy = response.headers["content-security-policy"]
        assert f"script-src {base}/feeds/feed.xsl;" in policy
        assert policy.startswith("default-src 'none';")
        body = page.locator("body")  # type: ignore[attr-defined]
        body.get_by_text("This is a web feed").wait_for()
        text = body.inner_text()
        assert "Seoul and Tokyo Agree to Resume Quarterly Leader Talks" in text
        assert f"{base}/feeds/sections/world.{fmt}" in text.replace("\\n", "")
        assert "<rss" not in text and "<feed" not in text
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"feed-in-browser-{fmt}.png"))  # type: ignore[attr-defined]
