"""Each article keeps its content made absolute when it is written; feeds render that
copy while it was made against the article's link, and make it afresh otherwise. The
copy is made by whoever builds the article; the store keeps what it is given."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import quote
from xml.etree import ElementTree as ET

import nh3
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update

from feeds.absolutize import absolutize_html, with_feed_copy
from feeds.ingest.sanitize import ATTRIBUTES, TAGS
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


# What a reader's HTML parser makes of a fragment, written out one canonical way: nh3
# parses with html5ever, as browsers parse, and keeps every element and attribute the
# sanitiser lets through. A URL attribute is compared as a browser requests it: spaces
# and non-ASCII characters percent-encoded (lxml writes them so, html5ever as they are).
_URL_ATTRIBUTES = {"href", "src", "srcset", "cite", "poster"}
_PRINTABLE = "".join(chr(c) for c in range(0x21, 0x7F))


def _as_requested(_tag: str, name: str, value: str) -> str:
    return quote(value, safe=_PRINTABLE) if name in _URL_ATTRIBUTES else value


_READER = nh3.Cleaner(
    tags=set(TAGS),
    attributes={tag: set(names) for tag, names in ATTRIBUTES.items()} | {"a": {"href", "rel"}},
    attribute_filter=_as_requested,
    link_rel=None,
)


def reader_view(fragment: str) -> str:
    return _READER.clean(fragment)


NESTED = "<blockquote>" * 150 + '<a href="deep">deep</a>' + "</blockquote>" * 150
# What feeds carry, with the URLs and references that make serialisations differ.
REPRESENTATIVE = [
    '<p>See <a href="more">more</a>, <a href="/desk?a=1&amp;b=2#top">desk</a>,'
    ' <a href="//cdn.example.org/x">cdn</a> and <a href="mailto:desk@example.com">mail</a></p>',
    '<figure><img src="../img/a b.jpg" srcset="a.jpg 1x, /b.jpg 2x, c,d.jpg 3x"'
    ' alt="A &quot;quoted&quot; &lt;alt&gt;"><figcaption>Caf\u00e9</figcaption></figure>',
    '<picture><source srcset="wide.webp 800w, /narrow.webp 400w"><img src="p.jpg"></picture>',
    '<video poster="poster.jpg" src="v.mp4"></video><p>after the video</p>',
    '<blockquote cite="../quoted">q</blockquote><q cite="caf\u00e9">q</q>'
    '<del cite="?why">d</del><ins cite="#note">i</ins>',
    '<a href="caf\u00e9 page?q=\u00fc&amp;r=&lt;x&gt;#fr\u00e4g">non-ASCII and spaces</a>'
    '<a href="http://[::1]:8080/v6">v6</a><a href="a\\b">backslash</a>',
    "<p>&#1;&#0;&#xD800;&#150;&#x1F600;&#128512; &nbsp;&copy &notin; &zzz; &AMP; &lt;b&gt;</p>"
    '<a href="x&#1;y&#x9;z">refs</a><img src="&#x2f;img.png" alt="&nbsp;">',
    "<p>one<br>two<wbr>three</p><hr><details open><summary>s</summary><p>d</p></details>"
    '<ol reversed start="3"><li value="2">x</li></ol><table><tr><td>1</td></tr></table>',
    '<pre>\n\n  kept  </pre><p lang="ko">\ud55c\uad6d\uc5b4</p><ruby>\u6f22<rt>kan</rt></ruby>',
    NESTED,
]


@pytest.mark.parametrize("content", REPRESENTATIVE)
def test_a_copy_taken_from_sanitised_content_reads_as_absolutize_html_would_make_it(
    client: FlaskClient, service: Service, admin_token: dict[str, str], content: str
) -> None:
    payload = article_payload(content_html=content, hashtags=["Cranes"])
    created = client.post("/api/v1/articles", json=payload, headers=admin_token)
    assert created.status_code == 201
    article_id = created.get_json()["id"]
    stored = stored_content(service, article_id)
    base, copy = stored_copy(service, article_id)
    # Sanitised against the canonical URL, the content is the copy: no second parse.
    assert (base, copy) == (payload["url"], stored)
    made = absolutize_html(stored, payload["url"])
    assert reader_view(stored) == reader_view(made)
    # And that is what each format carries.
    assert item_content(client, "/feeds/tags/cranes.json") == copy
    atom = ET.fromstring(client.get("/feeds/tags/cranes.atom").data)
    entry = atom.find("{http://www.w3.org/2005/Atom}entry")
    assert entry is not None
    assert entry.findtext("{http://www.w3.org/2005/Atom}content") == copy


def test_without_a_canonical_url_the_copy_is_made_against_the_article_page(
    client: FlaskClient, service: Service, admin_token: dict[str, str]
) -> None:
    # The content keeps its relative references (the public URL may change), so the
    # copy is made: one parse.
    payload = article_payload(url=None, slug="cranes", content_html=REPRESENTATIVE[0])
    article_id = client.post("/api/v1/articles", json=payload, headers=admin_token).get_json()["id"]
    stored = stored_content(service, article_id)
    assert 'href="more"' in stored
    link = f"{service.ctx.settings.public_root}articles/cranes"
    assert stored_copy(service, article_id) == (link, absolutize_html(stored, link))


def test_markup_nested_deeper_than_feeds_carry_is_flattened_in_the_copy_all_the_same() -> None:
    when = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    deep = "<div>" * 250 + '<a href="https://example.org/x">x</a>' + "</div>" * 250
    link = "https://example.org/deep"
    article = Article(
        guid="tag:example.org,2026:deep", slug="deep", title="Deep", summary="",
        content_html=deep, author="A. Writer", section="world", hashtags=(),
        published_at=when, updated_at=when, url=link,
    )  # fmt: skip
    copy = with_feed_copy(article, "https://feeds.example.org/", absolute=True).feed_content
    assert copy == FeedContent(link, absolutize_html(deep, link))
    assert copy is not None
    assert copy.html.count("<div>") < 250
