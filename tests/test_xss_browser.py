"""No article, however hostile, runs script or sends a request anywhere in a real browser.

An admin is logged in (the session an attacker would ride). Articles carry each vector
in every field a page shows: through the API (sanitised on write), and in rows changed
behind the service's back (as rows stored before sanitising on write were). Chromium
then opens every feed and page that shows them. Each vector tries to set a marker, open
a dialog and call a canary server on 127.0.0.1; every request Chromium makes is
recorded and only our own origin is allowed. At the end no article has changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import update
from werkzeug.serving import BaseWSGIServer

from feeds.models import ArticleFilter
from feeds.service import Service
from feeds.store.schema import articles
from tests.admin_helpers import PASSWORD
from tests.conftest import FakeClock, address, article_payload, make_app, serving
from tests.test_admin_browser import CHROMIUM, browser_page, log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"
    ),
]


def script(canary: str, where: str) -> str:
    return (
        f"window.__xss=(window.__xss||[]).concat('{where}');top.__xss=window.__xss;"
        f"fetch('{canary}/{where}');new Image().src='{canary}/img-{where}';alert('{where}')"
    )


def short(canary: str, where: str) -> str:
    """The same, small enough for the fields with a length limit."""
    return f"top.__xss='{where}';fetch('{canary}/{where}')"


def vectors(canary: str) -> list[str]:
    """HTML that would run script, load from elsewhere or navigate, if served as markup."""
    js = script(canary, "content")
    return [
        f"<script>{js}</script>",
        f'<img src="x" onerror="{js}">',
        f'<svg onload="{js}"><script>{js}</script></svg>',
        f'<svg><a xlink:href="javascript:{js}"><text y="10">svg link</text></a></svg>',
        f'<details open ontoggle="{js}"><summary>d</summary></details>',
        f'<input autofocus onfocus="{js}">',
        f'<video><source onerror="{js}"></video>',
        f'<body onload="{js}">',
        # javascript: URLs in every spelling browsers accept.
        f'<a href="javascript:{js}">j1</a>',
        f'<a href="JaVaScRiPt:{js}">j2</a>',
        f'<a href="JaVaScRiPt&#58;{js}">j3</a>',
        f'<a href="java&#x09;script:{js}">j4</a>',
        f'<a href="jav&#x0A;ascript:{js}">j5</a>',
        f'<a href="&#106;avascript:{js}">j6</a>',
        f'<a href="&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&colon;{js}">j7</a>',
        f'<a href=" &#1;javascript:{js}">j8</a>',
        f'<a href="&#0000106&#0000097vascript:{js}">j9</a>',
        f'<a href="data:text/html,&lt;script&gt;{js}&lt;/script&gt;">data</a>',
        '<a href="vbscript:msgbox(1)">vb</a>',
        f'<iframe src="javascript:{js}"></iframe>',
        f'<iframe srcdoc="&lt;script&gt;{js}&lt;/script&gt;"></iframe>',
        f'<meta http-equiv="refresh" content="0;url={canary}/refresh">',
        f'<object data="{canary}/object"></object><embed src="{canary}/embed">',
        f'<form action="{canary}/form"><button formaction="javascript:{js}">go</button></form>',
        f'<base href="{canary}/base/">',
        f'<link rel="stylesheet" href="{canary}/css"><link rel="prefetch" href="{canary}/pf">',
        f"<style>@import '{canary}/import'; body {{ background: url({canary}/bg) }}</style>",
        f'<p style="background:url({canary}/style)">styled</p>',
        # Parser differentials (mutation XSS).
        f'<math><mtext><table><mglyph><style><img src="x" onerror="{js}">',
        f'<noscript><p title="</noscript><img src=x onerror={js.replace(" ", "")}>"></noscript>',
        f'<svg></p><style><a id="</style><img src=1 onerror={js.replace(" ", "")}>">',
    ]


def hostile_payloads(canary: str) -> list[dict[str, Any]]:
    """Articles with a vector in each field a page or feed shows."""
    html = "".join(vectors(canary))
    payloads = []
    for n in range(1, 4):
        js = short(canary, f"field{n}")
        payloads.append(
            article_payload(
                url=None,
                slug=f"cranes-{n}",
                title=f'Cranes {n} <img src="x" onerror="{js}"><script>{js}</script>',
                # Without a summary the RSS description carries the content itself.
                summary="" if n != 2 else f'<svg onload="{js}">Summary {n}',
                author=f"<script>{js}</script>Min-ji",
                content_html=f"<p>Body {n}</p>{html}",
                views=10 * n,
                image={
                    "url": f"/media/x{n}.jpg",
                    "mime_type": "image/jpeg",
                    "length": 1,
                    "alt": f'"><img src=x onerror="{js}">',
                },
            )
        )
    return payloads


class Canary:
    """A server on 127.0.0.1 that records every request reaching it."""

    def __init__(self) -> None:
        self.hits: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        self.hits.append(environ.get("PATH_INFO", ""))
        start_response("200 OK", [("Content-Type", "text/javascript")])
        return [b"window.__xss='canary-script';"]


@pytest.fixture
def canary() -> Iterator[tuple[Canary, str]]:
    recorder = Canary()
    with serving(recorder) as url:
        yield recorder, url


@pytest.fixture
def hostile_app(database_url: str, clock: FakeClock, listener: BaseWSGIServer) -> Iterator[Flask]:
    app = make_app(database_url, clock, public_url=address(listener) + "/")
    yield app
    app.extensions["feeds"].ctx.store.dispose()


def store_hostile_articles(svc: Service, canary: str, clock: FakeClock) -> list[str]:
    """Create the hostile articles; return their slugs. Two rows then get raw HTML."""
    published = (clock.now - timedelta(hours=1)).isoformat()
    slugs = []
    for payload in hostile_payloads(canary):
        article = svc.articles.create(payload | {"published_at": published})
        slugs.append(article.slug)
    raw = "<p>Raw body</p>" + "".join(vectors(canary))
    with svc.ctx.store.begin() as conn:
        # Behind the service's back, as a row stored before sanitising on write would be.
        conn.execute(
            update(articles)
            .where(articles.c.slug.in_(["cranes-1", "cranes-3"]))
            .values(content_html=raw, summary="")
        )
    js = short(canary, "tag-feed")
    svc.audit.create_tag_feed(
        "user:alice",
        {
            "slug": "watch",
            "title": f"Watch <script>{js}</script>",
            "description": f'<img src=x onerror="{js}">',
            "any_of": ["Shipping"],
        },
    )
    # The audit log then shows a hostile article's fields too.
    second = svc.articles.get_by_slug("cranes-2")
    assert second.id is not None
    svc.audit.withdraw_article("user:alice", second.id)
    svc.audit.restore_article("user:alice", second.id)
    return slugs


def pages(slugs: list[str]) -> list[str]:
    feeds = ["all", "sections/world", "tags/shipping", "tags/southkorea", "custom/watch",
             "trending"]  # fmt: skip
    paths = [f"/feeds/{name}.{fmt}" for name in feeds for fmt in ("rss", "atom", "json")]
    paths += ["/feeds/", *(f"/articles/{slug}" for slug in slugs)]
    paths += ["/admin/", "/admin/articles", "/admin/articles?q=Cranes", "/admin/tag-feeds",
              "/admin/tag-feeds/watch", "/admin/audit"]  # fmt: skip
    return paths


def test_no_vector_runs_script_or_sends_a_request(
    hostile_app: Flask, canary: tuple[Canary, str], clock: FakeClock, listener: BaseWSGIServer
) -> None:
    recorder, canary_url = canary
    svc: Service = hostile_app.extensions["feeds"]
    svc.users.create("alice", PASSWORD)
    slugs = store_hostile_articles(svc, canary_url, clock)
    before = {a.id: (a.status, a.updated_at) for a in svc.articles.list(ArticleFilter(limit=50))}
    with serving(hostile_app, listener) as base, browser_page(base) as page:
        origin = urlsplit(base).netloc
        requests: list[str] = []
        dialogs: list[str] = []
        page.context.on("request", lambda r: requests.append(r.url))  # type: ignore[attr-defined]

        def dismiss(dialog: Any) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", dismiss)  # type: ignore[attr-defined]
        log_in(page)
        for path in pages(slugs):
            response = page.goto(path)  # type: ignore[attr-defined]
            assert response is not None and response.status == 200, path
            if path.endswith((".rss", ".atom", ".json")):
                # A browser navigating gets the feed's own HTML page.
                page.get_by_text("Follow this feed").wait_for()  # type: ignore[attr-defined]
            shown = page.evaluate("document.body ? document.body.innerText : ''")  # type: ignore[attr-defined]
            if "/feeds/" in path and path != "/feeds/":
                # The hostile articles are really on the page, as text.
                assert "Cranes 1" in shown and "Cranes 3" in shown, path
            assert page.evaluate("window.__xss") is None, path  # type: ignore[attr-defined]
            protocols = page.evaluate(  # type: ignore[attr-defined]
                "[...document.querySelectorAll('a[href], area[href]')].map(a => a.protocol)"
            )
            assert set(protocols) <= {"http:", "https:", "mailto:"}, (path, protocols)
            assert page.locator("iframe, object, embed").count() == 0, path  # type: ignore[attr-defined]
            assert dialogs == [], (path, dialogs)
            foreign = [url for url in requests if urlsplit(url).netloc != origin]
            assert foreign == [], (path, foreign)
        article_page = page.goto(f"/articles/{slugs[0]}")  # type: ignore[attr-defined]
        assert "Raw body" in page.locator("article").inner_text()  # type: ignore[attr-defined]
        assert article_page is not None
    assert recorder.hits == []
    after = {a.id: (a.status, a.updated_at) for a in svc.articles.list(ArticleFilter(limit=50))}
    assert after == before
