"""Feeds move only on real change; absolute URLs come from the configured public URL."""

from __future__ import annotations

import json
from datetime import timedelta
from email.utils import format_datetime
from typing import Any
from xml.etree import ElementTree

from flask.testing import FlaskClient

from feeds.models import FeedKey, FeedKind
from feeds.service import Service
from tests.conftest import FakeClock, article_payload
from tests.schemas import validate_atom, validate_jsonfeed

API = "/api/v1/articles"
ALL = FeedKey(FeedKind.ALL)
TRENDING = FeedKey(FeedKind.TRENDING)
WORLD = FeedKey(FeedKind.SECTION, "world")
KOREA = FeedKey(FeedKind.TAG, "southkorea")


def versions(service: Service, *keys: FeedKey) -> dict[FeedKey, int]:
    return {key: service.feeds.settle(key).version for key in keys}


def validators(client: FlaskClient, *paths: str) -> dict[str, tuple[str, str]]:
    out = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        out[path] = (response.headers["ETag"], response.headers["Last-Modified"])
    return out


def create(client: FlaskClient, token: dict[str, str], **changes: Any) -> dict[str, Any]:
    response = client.post(API, json=article_payload(**changes), headers=token)
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def test_absolute_urls_come_from_public_url_whatever_the_host_header(
    demo_client: FlaskClient,
) -> None:
    normal = demo_client.get("/feeds/all.json?limit=2")
    forged = demo_client.get("/feeds/all.json?limit=2", headers={"Host": "evil.example"})
    assert forged.data == normal.data
    assert forged.headers["ETag"] == normal.headers["ETag"]
    data = json.loads(forged.data)
    assert data["feed_url"] == "http://localhost/feeds/all.json?limit=2"
    assert data["next_url"].startswith("http://localhost/feeds/all.json?limit=2&before=")
    opml = demo_client.get("/feeds.opml", headers={"Host": "evil.example"}).data
    urls = [node.get("xmlUrl") for node in ElementTree.fromstring(opml).iter("outline")]
    assert urls and all(u.startswith("http://localhost/feeds/") for u in urls if u)
    page = demo_client.get("/feeds/", headers={"Host": "evil.example"}).get_data(as_text=True)
    assert "evil.example" not in page
    assert 'href="http://localhost/feeds/all.atom"' in page


def test_a_sponsored_article_moves_only_the_feeds_that_show_it(
    client: FlaskClient, service: Service, admin_token: dict[str, str], clock: FakeClock
) -> None:
    shown = client.post(
        "/api/v1/tag-feeds",
        json={"slug": "paid", "title": "Paid", "any_of": ["SouthKorea"], "include_sponsored": True},
        headers=admin_token,
    )
    hidden = client.post(
        "/api/v1/tag-feeds",
        json={"slug": "clean", "title": "Clean", "any_of": ["SouthKorea"]},
        headers=admin_token,
    )
    assert shown.status_code == hidden.status_code == 201
    now = (clock.now - timedelta(minutes=10)).isoformat()
    create(client, admin_token, title="Plain story", views=10, slug="plain", published_at=now)
    paid = FeedKey(FeedKind.CUSTOM, "paid")
    clean = FeedKey(FeedKind.CUSTOM, "clean")
    keys = (ALL, TRENDING, WORLD, KOREA, paid, clean)
    before = versions(service, *keys)
    clock.advance(minutes=1)
    create(
        client, admin_token, title="Advertorial", views=99, sponsored=True, slug="ad",
        published_at=(clock.now - timedelta(minutes=10)).isoformat(),
    )  # fmt: skip
    after = versions(service, *keys)
    moved = {key for key in keys if after[key] != before[key]}
    assert moved == {ALL, paid}
    # The feeds that leave it out do not show it either.
    for path in ("/feeds/sections/world.json", "/feeds/tags/southkorea.json",
                 "/feeds/trending.json", "/feeds/custom/clean.json"):  # fmt: skip
        titles = [item["title"] for item in client.get(path).get_json()["items"]]
        assert titles == ["Plain story"], path
    assert "Advertorial" in [i["title"] for i in client.get("/feeds/all.json").get_json()["items"]]


def test_a_change_of_views_keeps_updated_at_and_moves_no_timeline_feed(
    client: FlaskClient, service: Service, admin_token: dict[str, str], clock: FakeClock
) -> None:
    article = create(client, admin_token, views=5, published_at=clock.now.isoformat())
    paths = ("/feeds/all.atom", "/feeds/sections/world.atom", "/feeds/tags/southkorea.atom")
    before = validators(client, *paths)
    timeline = (ALL, WORLD, KOREA)
    versions_before = versions(service, *timeline)
    clock.advance(minutes=3)
    patched = client.patch(f"{API}/{article['id']}", json={"views": 900}, headers=admin_token)
    assert patched.status_code == 200
    assert patched.get_json()["views"] == 900
    assert patched.get_json()["updated_at"] == article["updated_at"]
    assert versions(service, *timeline) == versions_before
    assert validators(client, *paths) == before
    # An editorial change is an edit: updated_at moves, and so do the feeds.
    clock.advance(minutes=1)
    edited = client.patch(f"{API}/{article['id']}", json={"title": "New"}, headers=admin_token)
    assert edited.get_json()["updated_at"] == clock.now.isoformat()
    after = validators(client, *paths)
    assert all(after[path] != before[path] for path in paths)


def test_trending_ranks_only_what_has_views(
    client: FlaskClient, admin_token: dict[str, str], clock: FakeClock
) -> None:
    now = (clock.now - timedelta(minutes=10)).isoformat()
    create(client, admin_token, title="Unread", views=0, slug="unread", published_at=now)
    create(client, admin_token, title="Read a little", views=3, slug="little", published_at=now)
    create(client, admin_token, title="Read a lot", views=300, slug="lot", published_at=now)
    create(
        client, admin_token, title="Read, sponsored", views=9000, sponsored=True, slug="paid",
        published_at=now,
    )  # fmt: skip
    titles = [i["title"] for i in client.get("/feeds/trending.json").get_json()["items"]]
    assert titles == ["Read a lot", "Read a little"]


def test_a_hashtag_feed_whose_last_article_was_withdrawn_answers_empty(
    client: FlaskClient, admin_token: dict[str, str], clock: FakeClock
) -> None:
    article = create(
        client, admin_token, hashtags=["OnlyHere"], slug="only", published_at=clock.now.isoformat()
    )
    paths = [f"/feeds/tags/onlyhere.{fmt}" for fmt in ("rss", "atom", "json")]
    before = validators(client, *paths)
    clock.advance(minutes=5)
    assert client.delete(f"{API}/{article['id']}", headers=admin_token).status_code == 200
    # Subscribed readers keep polling a feed that answers: 200, no items, a new version
    # dated by the withdrawal (not a 404 or 410, which readers report as broken).
    after = validators(client, *paths)
    for path in paths:
        assert after[path][0] != before[path][0], path
        assert after[path][1] == format_datetime(clock.now, usegmt=True), path
        stale = client.get(path, headers={"If-None-Match": before[path][0]})
        assert stale.status_code == 200, path
    rss, atom, feed = (client.get(path).data for path in paths)
    assert ElementTree.fromstring(rss).findall("channel/item") == []
    assert ElementTree.fromstring(atom).findall("{http://www.w3.org/2005/Atom}entry") == []
    assert json.loads(feed)["items"] == []
    validate_atom(atom)
    validate_jsonfeed(feed)
    # Nobody new is offered an empty feed: the directory and the OPML leave it out.
    assert b"onlyhere" not in client.get("/feeds.opml").data
    assert b"onlyhere" not in client.get("/feeds/").data


def test_trending_moves_only_when_its_ranking_does(
    client: FlaskClient, service: Service, admin_token: dict[str, str], clock: FakeClock
) -> None:
    now = (clock.now - timedelta(minutes=10)).isoformat()
    lot = create(client, admin_token, title="Read a lot", views=300, slug="lot", published_at=now)
    some = create(client, admin_token, title="Read some", views=30, slug="some", published_at=now)
    old = (clock.now - timedelta(days=5)).isoformat()
    aged = create(client, admin_token, title="Old news", views=5, slug="aged", published_at=old)
    path = "/feeds/trending.atom"

    def titles() -> list[str]:
        return [i["title"] for i in client.get("/feeds/trending.json").get_json()["items"]]

    def patch(article: dict[str, Any], **changes: Any) -> None:
        clock.advance(seconds=1)
        response = client.patch(f"{API}/{article['id']}", json=changes, headers=admin_token)
        assert response.status_code == 200, response.get_json()

    # Start a trending window bucket, so the window does not slide during the test.
    bucket = service.ctx.settings.trending_refresh_seconds
    clock.advance(seconds=bucket - clock.now.timestamp() % bucket)
    assert titles() == ["Read a lot", "Read some"]
    before = (versions(service, TRENDING), validators(client, path))
    clock.advance(seconds=1)
    unread = create(client, admin_token, title="Unread", views=0, slug="unread", published_at=now)
    patch(unread, title="Unread, edited")  # an edit of what does not rank
    patch(lot, views=400)  # more views, same order
    patch(aged, views=5000)  # outside the window
    assert (versions(service, TRENDING), validators(client, path)) == before
    patch(some, views=500)  # overtakes
    assert titles() == ["Read some", "Read a lot"]
    moved = (versions(service, TRENDING), validators(client, path))
    assert moved[0] != before[0] and moved[1] != before[1]
    patch(unread, views=1)  # enters the ranking
    assert titles() == ["Read some", "Read a lot", "Unread, edited"]
    assert versions(service, TRENDING) != moved[0]
