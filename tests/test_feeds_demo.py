"""Every feed the demo serves: reachable from OPML, valid, and carrying the right values."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import feedparser
import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree

from feeds.service import Service
from tests.conftest import FakeClock
from tests.schemas import validate_atom, validate_jsonfeed

TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}
NS = {"atom": "http://www.w3.org/2005/Atom", "dc": "http://purl.org/dc/elements/1.1/"}


def opml_urls(client: FlaskClient) -> list[str]:
    response = client.get("/feeds.opml")
    assert response.status_code == 200
    tree = etree.fromstring(response.data)
    assert tree.get("version") == "2.0"
    return [o.get("xmlUrl") for o in tree.iter("outline")]


def fetch(client: FlaskClient, url: str) -> bytes:
    response = client.get(urlsplit(url).path)
    assert response.status_code == 200, url
    ext = url.rsplit(".", 1)[1]
    assert response.content_type == TYPES[ext], url
    return response.data


def demo_documents(client: FlaskClient) -> dict[str, bytes]:
    """Every document the demo serves: each OPML entry in each of the three formats."""
    documents = {}
    for url in opml_urls(client):
        base = url.rsplit(".", 1)[0]
        for ext in ("rss", "atom", "json"):
            documents[f"{base}.{ext}"] = fetch(client, f"{base}.{ext}")
    return documents


def test_every_feed_in_the_opml_is_served_and_parses_cleanly(demo_client: FlaskClient) -> None:
    documents = demo_documents(demo_client)
    paths = {urlsplit(u).path for u in documents}
    # all, trending, five sections, two tag feeds, and the hashtags in use
    assert {"/feeds/all.rss", "/feeds/trending.atom", "/feeds/custom/east-asia.json"} <= paths
    assert "/feeds/tags/%EC%84%9C%EC%9A%B8.rss" in paths  # #서울, percent-encoded
    assert len(documents) >= 3 * (9 + 10)
    for url, body in documents.items():
        if url.endswith(".json"):
            data = json.loads(body)
            assert data["feed_url"] == url
            continue
        parsed = feedparser.parse(body)
        assert parsed.bozo == 0, (url, parsed.get("bozo_exception"))
        assert parsed.version == ("rss20" if url.endswith(".rss") else "atom10")
        self_links = [link.href for link in parsed.feed.links if link.rel == "self"]
        assert self_links == [url]


def test_every_atom_and_json_document_is_valid_against_the_schemas(
    demo_client: FlaskClient,
) -> None:
    documents = demo_documents(demo_client)
    for url, body in documents.items():
        if url.endswith(".atom"):
            validate_atom(body)
        elif url.endswith(".json"):
            validate_jsonfeed(body)


def test_demo_all_feed_values(demo_app: Flask, clock: FakeClock) -> None:
    client = demo_app.test_client()
    service: Service = demo_app.extensions["feeds"]
    body = client.get("/feeds/all.atom").data
    feed = feedparser.parse(body)
    titles = [e.title for e in feed.entries]
    # The withdrawn and the scheduled demo articles are not there; the sponsored one is.
    assert "Correction Pending: Early Report on Chip Export Figures" not in titles
    assert "Central Bank Decision: What to Watch on Rate Day" not in titles
    assert "Travel Cards That Work Across Asia's Metro Systems" in titles
    assert len(titles) == 12
    published = [e.published_parsed for e in feed.entries]
    assert published == sorted(published, reverse=True)  # newest first
    first = feed.entries[0]
    stored = service.articles.get_by_slug("seoul-tokyo-resume-leader-talks")
    assert first.id == stored.guid
    assert first.id.startswith("tag:feeds.example.org,2026:article:")
    assert first.author == "Min-ji Park"
    assert first.link == "http://localhost/articles/seoul-tokyo-resume-leader-talks"
    terms = [t.term for t in first.tags]
    assert terms[:3] == ["World", "latest", "SouthKorea"]
    assert "서울" in terms and "東京" in terms
    enclosure = next(link for link in first.links if link.rel == "enclosure")
    assert enclosure.href == "http://localhost/media/summit.png"
    assert enclosure.type == "image/png"
    assert int(enclosure.length) == len(client.get("/media/summit.png").data) == 1228
    # Relative links inside the content are absolute in the feed.
    content = first.content[0].value
    assert 'src="http://localhost/media/summit.png"' in content
    assert 'href="http://localhost/articles/china-port-fees"' in content
    self_link = [link.href for link in feed.feed.links if link.rel == "self"]
    assert self_link == ["http://localhost/feeds/all.atom"]


def test_rss_item_values(demo_client: FlaskClient) -> None:
    tree = etree.fromstring(demo_client.get("/feeds/sections/world.rss").data)
    channel = tree.find("channel")
    assert channel is not None
    assert channel.findtext("title") == "The Daily Ledger: World"
    assert channel.findtext("link") == "http://localhost/feeds/"
    assert channel.findtext("ttl") == "5"  # cache_max_age 300 s
    self_link = channel.find("atom:link[@rel='self']", NS)
    assert self_link is not None
    assert self_link.get("href") == "http://localhost/feeds/sections/world.rss"
    item = channel.find("item")
    assert item is not None
    guid = item.find("guid")
    assert guid is not None and guid.get("isPermaLink") == "false"
    assert item.findtext("dc:creator", namespaces=NS) == "Min-ji Park"
    enclosure = item.find("enclosure")
    assert enclosure is not None and enclosure.get("length") == "1228"
    pub = parsedate_to_datetime(item.findtext("pubDate") or "")
    assert pub.utcoffset() == timedelta(0)
    assert "World" in [c.text for c in item.findall("category")]


def test_json_feed_values(demo_client: FlaskClient) -> None:
    data = json.loads(demo_client.get("/feeds/custom/east-asia.json").data)
    assert data["version"] == "https://jsonfeed.org/version/1.1"
    assert data["feed_url"] == "http://localhost/feeds/custom/east-asia.json"
    titles = [item["title"] for item in data["items"]]
    # Sponsored is excluded by the rule; the withdrawn and the scheduled never show.
    assert "Travel Cards That Work Across Asia's Metro Systems" not in titles
    assert "Tokyo Commuter Lines Restored After Eight-Hour Power Failure" in titles
    assert "Night Markets Return to the Old Port This Spring" in titles
    for item in data["items"]:
        assert datetime.fromisoformat(item["date_published"]).utcoffset() == timedelta(0)
        assert item["authors"][0]["name"]
        assert item["id"].startswith("tag:")


def test_sponsored_article_is_labelled_and_kept_out_of_section_and_tag_feeds(
    demo_client: FlaskClient,
) -> None:
    everything = feedparser.parse(demo_client.get("/feeds/all.rss").data)
    sponsored = [e for e in everything.entries if e.title.startswith("Travel Cards")]
    assert "Sponsored" in [t.term for t in sponsored[0].tags]
    for path in ("/feeds/sections/business.rss", "/feeds/tags/japan.rss"):
        titles = [e.title for e in feedparser.parse(demo_client.get(path).data).entries]
        assert titles and not any(t.startswith("Travel Cards") for t in titles), path


def test_sponsored_setting_includes_them(database_url: str, clock: FakeClock) -> None:
    from tests.conftest import make_app

    app = make_app(database_url, clock, load_demo=True, include_sponsored=True)
    titles = [
        e.title
        for e in feedparser.parse(
            app.test_client().get("/feeds/sections/business.rss").data
        ).entries
    ]
    assert any(t.startswith("Travel Cards") for t in titles)


def test_trending_ranks_by_views_within_window(demo_client: FlaskClient) -> None:
    data = json.loads(demo_client.get("/feeds/trending.json").data)
    titles = [item["title"] for item in data["items"]]
    # Views: Harbour City 4021 (~38 h old), Tokyo 3120, ferries 2410, Seoul 1912 ...
    # Night markets (~91 h old) is outside the 48 h window.
    assert titles[:3] == [
        "Late Penalty Sends Harbour City Into the Cup Semi-Final",
        "Tokyo Commuter Lines Restored After Eight-Hour Power Failure",
        "Electric Ferries Cut Harbour Emissions by a Third, Study Finds",
    ]
    assert "Night Markets Return to the Old Port This Spring" not in titles


@pytest.mark.parametrize("path", ["/feeds/sections/nowhere.rss", "/feeds/tags/nosuchtag.atom",
                                  "/feeds/custom/nothing.json", "/feeds/all.xml"])  # fmt: skip
def test_unknown_feeds_are_404(demo_client: FlaskClient, path: str) -> None:
    assert demo_client.get(path).status_code == 404


def test_known_empty_section_is_a_valid_empty_feed(client: FlaskClient) -> None:
    response = client.get("/feeds/sections/sport.atom")
    assert response.status_code == 200
    validate_atom(response.data)
    parsed = feedparser.parse(response.data)
    assert parsed.bozo == 0 and parsed.entries == []
    data = json.loads(client.get("/feeds/sections/sport.json").data)
    validate_jsonfeed(data)
    assert data["items"] == []


def test_limit_is_bounded(demo_client: FlaskClient) -> None:
    feed = feedparser.parse(demo_client.get("/feeds/all.rss?limit=3").data)
    assert len(feed.entries) == 3
    self_link = [link.href for link in feed.feed.links if link.rel == "self"]
    assert self_link == ["http://localhost/feeds/all.rss?limit=3"]
    capped = demo_client.get("/feeds/all.rss?limit=100000")
    assert capped.status_code == 200
    assert b"limit=200" in capped.data
    for bad in ("0", "-1", "ten", ""):
        response = demo_client.get(f"/feeds/all.rss?limit={bad}")
        assert response.status_code == 400, bad
        assert b"limit" in response.data


def test_hashtag_urls_are_case_insensitive_and_unicode(demo_client: FlaskClient) -> None:
    response = demo_client.get("/feeds/tags/SouthKorea.rss?limit=2")
    assert response.status_code == 301
    assert response.headers["Location"].endswith("/feeds/tags/southkorea.rss?limit=2")
    seoul = demo_client.get("/feeds/tags/%EC%84%9C%EC%9A%B8.json")
    assert seoul.status_code == 200
    data = json.loads(seoul.data)
    assert data["title"] == "The Daily Ledger: #서울"
    assert {i["title"] for i in data["items"]} == {
        "Seoul and Tokyo Agree to Resume Quarterly Leader Talks",
        "A Quiet Film About a Noisy Market Wins the Audience Prize",
    }


def test_feed_updated_is_the_newest_change_not_render_time(
    demo_app: Flask, clock: FakeClock
) -> None:
    client = demo_app.test_client()
    first = feedparser.parse(client.get("/feeds/all.atom").data)
    clock.advance(hours=1)
    demo_app.extensions["feeds"].ctx.cache.clear()
    again = feedparser.parse(client.get("/feeds/all.atom").data)
    assert first.feed.updated == again.feed.updated
    assert datetime(*first.feed.updated_parsed[:6], tzinfo=UTC) < clock.now - timedelta(minutes=59)


def test_directory_page_has_autodiscovery_links(demo_client: FlaskClient) -> None:
    response = demo_client.get("/feeds/")
    assert response.status_code == 200
    html = etree.HTML(response.data)
    alternates = html.findall(".//link[@rel='alternate']")
    types = {link.get("type") for link in alternates}
    assert types == {"application/rss+xml", "application/atom+xml", "application/feed+json"}
    hrefs = {link.get("href") for link in alternates}
    assert "http://localhost/feeds/custom/east-asia.atom" in hrefs
    assert len(alternates) == 3 * len(opml_urls(demo_client))


def test_feeds_name_no_stylesheet(demo_client: FlaskClient) -> None:
    for path in ("/feeds/all.rss", "/feeds/all.atom"):
        assert b"xml-stylesheet" not in demo_client.get(path).data
    assert demo_client.get("/feeds/feed.xsl").status_code == 404


def test_article_page_for_articles_without_canonical_url(demo_client: FlaskClient) -> None:
    page = demo_client.get("/articles/seoul-tokyo-resume-leader-talks")
    assert page.status_code == 200
    assert b"Seoul and Tokyo Agree" in page.data
    assert demo_client.get("/articles/chip-export-figures-early").status_code == 410
    assert demo_client.get("/articles/central-bank-rate-day").status_code == 404


def test_article_page_never_runs_scripts_from_api_html(
    demo_client: FlaskClient, admin_token: dict[str, str]
) -> None:
    from tests.conftest import article_payload

    created = demo_client.post(
        "/api/v1/articles",
        json=article_payload(
            url=None,
            slug="scripted",
            content_html='<p onclick="steal()">Hi<script>steal()</script>'
            '<a href="javascript:steal()">x</a><img src="/media/summit.png"></p>',
        ),
        headers=admin_token,
    )
    assert created.status_code == 201
    page = demo_client.get("/articles/scripted")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "steal" not in html
    assert 'src="http://localhost/media/summit.png"' in html
    assert "script-src" not in page.headers["Content-Security-Policy"]
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
    # The store keeps what is served: feeds carry the same sanitised HTML as the page.
    feed = demo_client.get("/feeds/all.json").get_json()
    item = next(i for i in feed["items"] if i["url"].endswith("/articles/scripted"))
    assert "steal" not in item["content_html"]
    assert item["content_html"].startswith("<p>Hi<a")


def test_directory_lists_groups_in_order_and_counts_what_feeds_show(
    demo_client: FlaskClient,
) -> None:
    html = etree.HTML(demo_client.get("/feeds/").data)
    groups = [h.text for h in html.findall(".//h2")]
    assert groups == ["General", "Sections", "Topics", "Authors", "Hashtags"]
    text = etree.tostring(html, method="text", encoding="unicode")
    assert "2 articles by Hana Kim" in text
    assert "Partner content" not in text  # the sponsor's byline, on sponsored articles only
    # #latest is on one published and one scheduled article; #Economy only on the
    # scheduled one: neither counts it until it is due.
    assert "1 article tagged #latest" in text
    assert "#Economy" not in text
    # #Sponsored is on the sponsored article only, which hashtag feeds leave out.
    assert "#Sponsored" not in text
    assert "/feeds/tags/sponsored.rss" not in {urlsplit(u).path for u in opml_urls(demo_client)}
