"""The article API, checked by reading back through the API and through the public feeds."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient

from feeds.service import Service
from tests.conftest import FakeClock, article_payload

API = "/api/v1/articles"
GUID = re.compile(
    r"^tag:feeds\.example\.org,2026:article:[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$"
)

Headers = dict[str, str]


def create(client: FlaskClient, headers: Headers, **changes: Any) -> dict[str, Any]:
    response = client.post(API, json=article_payload(**changes), headers=headers)
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def fetch(client: FlaskClient, headers: Headers, article_id: int) -> dict[str, Any]:
    response = client.get(f"{API}/{article_id}", headers=headers)
    assert response.status_code == 200
    body: dict[str, Any] = response.get_json()
    return body


def listed(client: FlaskClient, headers: Headers, **params: Any) -> list[dict[str, Any]]:
    response = client.get(API, headers=headers, query_string=params)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    # `count` is every match, whatever the page holds.
    assert body["count"] >= len(body["items"])
    items: list[dict[str, Any]] = body["items"]
    return items


def feed_items(client: FlaskClient, path: str) -> dict[str, str]:
    """The JSON feed at `path` as {item id: title}."""
    response = client.get(path)
    assert response.status_code == 200
    return {item["id"]: item["title"] for item in response.get_json()["items"]}


def assert_error(response: Any, status: int, *fields: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    body: dict[str, Any] = response.get_json()
    assert body["status"] == status
    assert isinstance(body["error"], str) and body["error"]
    for field in fields:
        assert field in body.get("fields", {}), (field, body)
    return body


def past(clock: FakeClock, **delta: float) -> str:
    """An RFC 3339 instant before the test clock, so the article is visible now."""
    return (clock.now - timedelta(**delta)).isoformat()


# --- create -----------------------------------------------------------------------------


def test_create_returns_201_location_and_the_stored_article(
    client: FlaskClient, writer_token: Headers, service: Service
) -> None:
    response = client.post(API, json=article_payload(), headers=writer_token)
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"] == f"{API}/{body['id']}"
    assert client.get(response.headers["Location"], headers=writer_token).get_json() == body

    assert GUID.match(body["guid"])
    assert body["slug"] == "harbour-cranes-return-to-work"
    assert body["title"] == "Harbour Cranes Return to Work"
    assert body["author"] == "Min-ji Park"
    assert body["section"] == "world"
    assert body["hashtags"] == ["SouthKorea", "Shipping"]
    assert body["status"] == "published"
    assert body["language"] == "en"
    assert body["views"] == 0
    assert body["sponsored"] is False
    assert body["url"] == "https://news.example.com/world/harbour-cranes"
    assert body["image"] == {
        "url": "https://img.example.com/cranes.jpg",
        "mime_type": "image/jpeg",
        "length": 48213,
        "alt": "Cranes",
    }
    # 17:23 in Seoul is 08:23 UTC; stored in UTC and returned with its offset.
    assert body["published_at"] == "2026-01-12T08:23:00+00:00"
    assert body["updated_at"] == body["published_at"]
    assert body["origin"] is None
    assert service.articles.count() == 1


def test_a_new_article_appears_in_its_feeds_under_its_guid(
    client: FlaskClient, writer_token: Headers
) -> None:
    body = create(client, writer_token)
    expected = {body["guid"]: "Harbour Cranes Return to Work"}
    assert feed_items(client, "/feeds/all.json") == expected
    assert feed_items(client, "/feeds/sections/world.json") == expected
    assert feed_items(client, "/feeds/tags/southkorea.json") == expected
    assert feed_items(client, "/feeds/sections/business.json") == {}


def test_hashtags_may_be_given_as_text(client: FlaskClient, writer_token: Headers) -> None:
    body = create(client, writer_token, hashtags="#latest#SouthKorea #서울, #SOUTHKOREA")
    assert body["hashtags"] == ["latest", "SouthKorea", "서울"]
    assert fetch(client, writer_token, body["id"])["hashtags"] == body["hashtags"]


def test_same_title_gets_a_fresh_slug_and_guid(client: FlaskClient, writer_token: Headers) -> None:
    first = create(client, writer_token)
    second = create(client, writer_token)
    assert (first["slug"], second["slug"]) == (
        "harbour-cranes-return-to-work",
        "harbour-cranes-return-to-work-2",
    )
    assert first["guid"] != second["guid"]
    assert GUID.match(second["guid"])


def test_published_at_defaults_to_now(
    client: FlaskClient, writer_token: Headers, clock: FakeClock
) -> None:
    payload = article_payload()
    del payload["published_at"]
    response = client.post(API, json=payload, headers=writer_token)
    assert response.status_code == 201
    assert response.get_json()["published_at"] == clock.now.isoformat()


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("2026-01-12T17:23:00+09:00", "2026-01-12T08:23:00+00:00"),
        ("2026-01-12T08:23:00Z", "2026-01-12T08:23:00+00:00"),
        ("2026-01-11T22:23:00-10:00", "2026-01-12T08:23:00+00:00"),
        ("2026-01-12T08:23:00.250000+00:00", "2026-01-12T08:23:00.250000+00:00"),
    ],
)
def test_dates_are_stored_in_utc_and_returned_with_an_offset(
    client: FlaskClient, writer_token: Headers, given: str, stored: str
) -> None:
    body = create(client, writer_token, published_at=given, updated_at=given)
    again = fetch(client, writer_token, body["id"])
    assert again["published_at"] == stored
    assert again["updated_at"] == stored
    assert datetime.fromisoformat(again["published_at"]).utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("published_at", "2026-01-12T17:23:00"),  # naive
        ("published_at", "2026-01-12"),  # a date is a naive midnight
        ("published_at", "yesterday"),
        ("published_at", 1768206180),
        ("published_at", "0001-01-01T00:00:00+01:00"),  # before datetime.min in UTC
        ("updated_at", "2026-01-12T17:23:00"),
    ],
)
def test_bad_datetimes_are_refused_naming_the_field(
    client: FlaskClient, writer_token: Headers, service: Service, field: str, value: Any
) -> None:
    response = client.post(API, json=article_payload(**{field: value}), headers=writer_token)
    body = assert_error(response, 422, field)
    assert list(body["fields"]) == [field]
    assert service.articles.count() == 0


def test_a_naive_datetime_error_asks_for_an_offset(
    client: FlaskClient, writer_token: Headers
) -> None:
    response = client.post(
        API, json=article_payload(published_at="2026-01-12T17:23:00"), headers=writer_token
    )
    assert "UTC offset" in assert_error(response, 422, "published_at")["fields"]["published_at"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": None}, "title"),
        ({"title": "   "}, "title"),
        ({"author": 7}, "author"),
        ({"section": "nowhere"}, "section"),
        ({"section": None}, "section"),
        ({"slug": "Not A Slug"}, "slug"),
        ({"hashtags": ["Fine", "not a tag"]}, "hashtags[1]"),
        ({"hashtags": 3}, "hashtags"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "https://example.com/a b"}, "url"),
        ({"url": "https://example.com/\u0000"}, "url"),
        ({"views": -1}, "views"),
        ({"views": 2**31}, "views"),  # would overflow PostgreSQL's integer column
        ({"views": True}, "views"),
        ({"sponsored": "yes"}, "sponsored"),
        ({"status": "live"}, "status"),
        ({"language": "english please"}, "language"),
        ({"language": "en" + "-abcdefgh" * 5}, "language"),  # longer than the column
        ({"image": {"url": "https://img.example.com/a.jpg", "length": 1}}, "image.mime_type"),
        ({"image": "cranes.jpg"}, "image"),
        (
            {"image": {"url": "x", "mime_type": "image/png", "length": 1, "alt": ""}},
            "image.url",
        ),
        (
            {"image": {"url": "/a.png", "mime_type": "text/html", "length": 1, "alt": ""}},
            "image.mime_type",
        ),
        (
            {"image": {"url": "/a.png", "mime_type": "image/png", "length": 2**40, "alt": ""}},
            "image.length",
        ),
        ({"colour": "red"}, "colour"),
        ({"guid": "tag:evil,2026:x"}, "guid"),
        ({"id": 5}, "id"),
    ],
)
def test_invalid_fields_are_422_naming_the_field_and_store_nothing(
    client: FlaskClient,
    writer_token: Headers,
    service: Service,
    changes: dict[str, Any],
    field: str,
) -> None:
    response = client.post(API, json=article_payload(**changes), headers=writer_token)
    body = assert_error(response, 422, field)
    assert list(body["fields"]) == [field]
    assert service.articles.count() == 0
    assert listed(client, writer_token) == []


def test_every_bad_field_is_reported_at_once(
    client: FlaskClient, writer_token: Headers, service: Service
) -> None:
    payload = article_payload(section="nowhere", views=-3, published_at="2026-01-12T17:23:00")
    del payload["title"]
    response = client.post(API, json=payload, headers=writer_token)
    body = assert_error(response, 422)
    # The unknown section is reported only once the payload is otherwise well-formed.
    assert set(body["fields"]) == {"title", "views", "published_at"}
    assert service.articles.count() == 0


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("{not json", "application/json"),
        ('{"title": "x"}', "text/plain"),
        ("", "application/json"),
    ],
)
def test_a_body_that_is_not_json_is_400(
    client: FlaskClient, writer_token: Headers, service: Service, data: str, content_type: str
) -> None:
    response = client.post(API, data=data, content_type=content_type, headers=writer_token)
    assert_error(response, 400, "body")
    assert service.articles.count() == 0


def test_json_that_is_not_an_object_is_422(
    client: FlaskClient, writer_token: Headers, service: Service
) -> None:
    response = client.post(API, json=[article_payload()], headers=writer_token)
    assert_error(response, 422, "body")
    assert service.articles.count() == 0


def test_a_taken_slug_is_409_naming_the_slug(
    client: FlaskClient, writer_token: Headers, service: Service
) -> None:
    create(client, writer_token, slug="cranes")
    response = client.post(
        API, json=article_payload(slug="cranes", title="Other"), headers=writer_token
    )
    assert_error(response, 409, "slug")
    assert service.articles.count() == 1
    assert [item["title"] for item in listed(client, writer_token)] == [
        "Harbour Cranes Return to Work"
    ]


def test_text_is_cleaned_of_characters_feeds_cannot_carry(
    client: FlaskClient, writer_token: Headers
) -> None:
    body = create(client, writer_token, title="Cranes\u0000 \ud800back", summary="a\u000bb")
    assert body["title"] == "Cranes back"
    assert fetch(client, writer_token, body["id"])["summary"] == "ab"


# --- read and list ----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
@pytest.mark.parametrize("article_id", ["999", str(2**31), "99999999999999999999"])
def test_unknown_articles_are_404(
    client: FlaskClient, writer_token: Headers, method: str, article_id: str
) -> None:
    response = getattr(client, method)(
        f"{API}/{article_id}", json=article_payload(), headers=writer_token
    )
    body = assert_error(response, 404)
    assert "fields" not in body


@pytest.fixture
def three(client: FlaskClient, writer_token: Headers, clock: FakeClock) -> list[dict[str, Any]]:
    """A world story from 3 days ago, a business draft and a tech story from an hour ago."""
    world = create(
        client,
        writer_token,
        title="Ferry Service Resumes",
        published_at=past(clock, days=3),
        hashtags=["SouthKorea", "Shipping"],
    )
    draft = create(
        client,
        writer_token,
        title="Quarterly Results Preview",
        section="business",
        status="draft",
        published_at=past(clock, days=2),
        hashtags=["Markets"],
    )
    tech = create(
        client,
        writer_token,
        title="Chip Plant Opens in 東京",
        section="technology",
        published_at=past(clock, hours=1),
        hashtags=["東京", "Chips"],
    )
    return [world, draft, tech]


def titles(items: list[dict[str, Any]]) -> list[str]:
    return [item["title"] for item in items]


def test_list_is_newest_first_and_pages(
    client: FlaskClient, writer_token: Headers, three: list[dict[str, Any]]
) -> None:
    everything = ["Chip Plant Opens in 東京", "Quarterly Results Preview", "Ferry Service Resumes"]
    assert titles(listed(client, writer_token)) == everything
    assert titles(listed(client, writer_token, limit=2)) == everything[:2]
    assert titles(listed(client, writer_token, limit=2, offset=2)) == everything[2:]
    assert listed(client, writer_token, offset=3) == []


def test_count_is_the_total_and_next_walks_every_page(
    client: FlaskClient, writer_token: Headers, three: list[dict[str, Any]]
) -> None:
    seen: list[str] = []
    url: str | None = f"{API}?status=published&limit=1"
    while url and len(seen) < 5:
        response = client.get(url, headers=writer_token)
        assert response.status_code == 200
        body = response.get_json()
        assert body["count"] == 2  # both published articles, on every page
        seen += titles(body["items"])
        url = body["next"]
    assert seen == ["Chip Plant Opens in 東京", "Ferry Service Resumes"]
    everything = client.get(f"{API}?limit=2", headers=writer_token).get_json()
    assert everything["count"] == 3
    assert everything["next"] == f"http://localhost{API}?limit=2&offset=2"
    last = client.get(everything["next"], headers=writer_token).get_json()
    assert titles(last["items"]) == ["Ferry Service Resumes"] and last["next"] is None


def test_a_published_article_needs_content_or_a_summary(
    client: FlaskClient, service: Service, writer_token: Headers
) -> None:
    bare = {"title": "Just a title", "author": "Min-ji Park", "section": "world"}
    response = client.post(API, json=bare, headers=writer_token)
    body = assert_error(response, 422, "content_html")
    assert 'send "status": "draft"' in body["fields"]["content_html"]
    assert service.articles.count() == 0
    draft = client.post(API, json=bare | {"status": "draft"}, headers=writer_token)
    assert draft.status_code == 201 and draft.get_json()["status"] == "draft"
    summary_only = bare | {"summary": "One line.", "slug": "one-line"}
    assert client.post(API, json=summary_only, headers=writer_token).status_code == 201


def test_a_misspelt_parameter_is_named_with_a_suggestion(
    client: FlaskClient, writer_token: Headers
) -> None:
    response = client.get(f"{API}?hashtags=Japan", headers=writer_token)
    body = assert_error(response, 422, "hashtags")
    assert "did you mean 'hashtag'?" in body["fields"]["hashtags"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"section": "business"}, ["Quarterly Results Preview"]),
        ({"section": "sport"}, []),
        ({"hashtag": "southkorea"}, ["Ferry Service Resumes"]),
        ({"hashtag": "#SOUTHKOREA"}, ["Ferry Service Resumes"]),
        ({"hashtag": "東京"}, ["Chip Plant Opens in 東京"]),
        ({"status": "draft"}, ["Quarterly Results Preview"]),
        ({"status": "published"}, ["Chip Plant Opens in 東京", "Ferry Service Resumes"]),
        ({"status": "withdrawn"}, []),
        ({"q": "plant"}, ["Chip Plant Opens in 東京"]),
        ({"q": "ESUMES"}, ["Ferry Service Resumes"]),
        ({"q": "%"}, []),  # LIKE wildcards are matched literally
        ({"section": "world", "hashtag": "markets"}, []),
        ({"status": "published", "hashtag": "chips"}, ["Chip Plant Opens in 東京"]),
    ],
)
def test_list_filters(
    client: FlaskClient,
    writer_token: Headers,
    three: list[dict[str, Any]],
    params: dict[str, str],
    expected: list[str],
) -> None:
    assert titles(listed(client, writer_token, **params)) == expected


def test_since_selects_by_last_change_whatever_the_offset(
    client: FlaskClient, writer_token: Headers, three: list[dict[str, Any]], clock: FakeClock
) -> None:
    cut = clock.now - timedelta(days=2, hours=12)
    seoul = cut.astimezone(UTC).astimezone(datetime.fromisoformat("2026-01-01T00:00+09:00").tzinfo)
    expected = ["Chip Plant Opens in 東京", "Quarterly Results Preview"]
    assert titles(listed(client, writer_token, since=cut.isoformat())) == expected
    assert titles(listed(client, writer_token, since=seoul.isoformat())) == expected
    # A '+' typed unencoded into a URL arrives as a space; the offset is still understood.
    raw = quote(seoul.isoformat(), safe=":+")
    response = client.get(f"{API}?since={raw}", headers=writer_token)
    assert titles(response.get_json()["items"]) == expected
    future = (clock.now + timedelta(minutes=1)).isoformat()
    assert listed(client, writer_token, since=future) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "live"}, "status"),
        ({"since": "2026-01-12T17:23:00"}, "since"),
        ({"since": "last week"}, "since"),
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"limit": "²"}, "limit"),  # str.isdigit() says yes, int() says no
        ({"limit": "-1"}, "limit"),
        ({"offset": "x"}, "offset"),
        ({"q": "a\u0000b"}, "q"),
        ({"sectoin": "world"}, "sectoin"),  # misspelt: never silently ignored
        ({"section": "nowhere"}, "section"),
    ],
)
def test_bad_list_parameters_are_422_naming_them(
    client: FlaskClient, writer_token: Headers, params: dict[str, str], field: str
) -> None:
    response = client.get(API, headers=writer_token, query_string=params)
    body = assert_error(response, 422, field)
    assert list(body["fields"]) == [field]


# --- replace (PUT) ----------------------------------------------------------------------


def test_put_replaces_every_field_but_keeps_guid_and_slug(
    client: FlaskClient, writer_token: Headers, clock: FakeClock, service: Service
) -> None:
    original = create(client, writer_token, published_at=past(clock, hours=2))
    clock.advance(minutes=10)
    replacement = {
        "title": "Cranes Idle Again",
        "author": "Wei Chen",
        "section": "business",
        "url": "https://news.example.com/business/cranes-idle",
    }
    response = client.put(f"{API}/{original['id']}", json=replacement, headers=writer_token)
    assert response.status_code == 200
    stored = fetch(client, writer_token, original["id"])
    assert stored == response.get_json()
    assert stored["guid"] == original["guid"]
    assert stored["slug"] == original["slug"]  # no slug given: the URL stays put
    assert stored["published_at"] == original["published_at"]
    assert stored["updated_at"] == clock.now.isoformat()
    assert (stored["title"], stored["author"], stored["section"]) == (
        "Cranes Idle Again",
        "Wei Chen",
        "business",
    )
    # Fields left out of a replacement are reset, not kept.
    assert stored["summary"] == ""
    assert stored["hashtags"] == []
    assert stored["image"] is None
    assert service.articles.count() == 1

    assert feed_items(client, "/feeds/sections/world.json") == {}
    assert feed_items(client, "/feeds/sections/business.json") == {
        original["guid"]: "Cranes Idle Again"
    }
    assert feed_items(client, "/feeds/tags/southkorea.json") == {}


def test_guid_survives_title_slug_and_url_changes(
    client: FlaskClient, writer_token: Headers, clock: FakeClock
) -> None:
    original = create(client, writer_token, published_at=past(clock, hours=2))
    guid = original["guid"]
    path = f"{API}/{original['id']}"

    put = client.put(
        path,
        json=article_payload(
            title="Renamed by PUT",
            slug="renamed-by-put",
            url="https://news.example.com/moved",
            published_at=original["published_at"],
        ),
        headers=writer_token,
    )
    assert put.status_code == 200
    assert (put.get_json()["guid"], put.get_json()["slug"]) == (guid, "renamed-by-put")
    assert feed_items(client, "/feeds/all.json") == {guid: "Renamed by PUT"}

    patch = client.patch(
        path,
        json={"title": "Renamed by PATCH", "slug": "renamed-by-patch", "url": None},
        headers=writer_token,
    )
    assert patch.status_code == 200
    stored = fetch(client, writer_token, original["id"])
    assert (stored["guid"], stored["slug"], stored["url"]) == (guid, "renamed-by-patch", None)
    assert feed_items(client, "/feeds/all.json") == {guid: "Renamed by PATCH"}
    assert feed_items(client, "/feeds/sections/world.json") == {guid: "Renamed by PATCH"}


def test_put_with_an_invalid_payload_changes_nothing(
    client: FlaskClient, writer_token: Headers
) -> None:
    original = create(client, writer_token)
    response = client.put(
        f"{API}/{original['id']}",
        json=article_payload(title="New", section="nowhere"),
        headers=writer_token,
    )
    assert_error(response, 422, "section")
    assert fetch(client, writer_token, original["id"]) == original


def test_put_onto_another_articles_slug_is_409(client: FlaskClient, writer_token: Headers) -> None:
    first = create(client, writer_token, slug="first")
    second = create(client, writer_token, slug="second", title="Second")
    response = client.put(
        f"{API}/{second['id']}", json=article_payload(slug="first"), headers=writer_token
    )
    assert_error(response, 409, "slug")
    assert fetch(client, writer_token, second["id"]) == second
    assert fetch(client, writer_token, first["id"]) == first


def test_put_may_not_set_read_only_fields(client: FlaskClient, writer_token: Headers) -> None:
    original = create(client, writer_token)
    response = client.put(
        f"{API}/{original['id']}",
        json=article_payload(guid="tag:other,2026:x"),
        headers=writer_token,
    )
    assert_error(response, 422, "guid")
    assert fetch(client, writer_token, original["id"])["guid"] == original["guid"]


# --- patch ------------------------------------------------------------------------------


def test_patch_changes_only_the_given_fields_and_stamps_updated_at(
    client: FlaskClient, writer_token: Headers, clock: FakeClock
) -> None:
    original = create(client, writer_token, published_at=past(clock, hours=2))
    assert original["updated_at"] == original["published_at"]
    clock.advance(minutes=5)
    response = client.patch(
        f"{API}/{original['id']}",
        json={"title": "Cranes Back at Full Speed", "hashtags": "#Shipping #Ports"},
        headers=writer_token,
    )
    assert response.status_code == 200
    stored = fetch(client, writer_token, original["id"])
    assert stored == response.get_json()
    expected = original | {
        "title": "Cranes Back at Full Speed",
        "hashtags": ["Shipping", "Ports"],
        "updated_at": clock.now.isoformat(),
    }
    assert stored == expected

    # Feed readers see the new title under the same id, dated by the edit.
    response = client.get("/feeds/all.json")
    (item,) = response.get_json()["items"]
    assert (item["id"], item["title"]) == (original["guid"], "Cranes Back at Full Speed")
    assert datetime.fromisoformat(item["date_modified"]) == clock.now
    assert feed_items(client, "/feeds/tags/southkorea.json") == {}
    assert feed_items(client, "/feeds/tags/ports.json") == {
        original["guid"]: "Cranes Back at Full Speed"
    }


def test_patch_may_set_updated_at_explicitly(
    client: FlaskClient, writer_token: Headers, clock: FakeClock
) -> None:
    original = create(client, writer_token, published_at=past(clock, hours=2))
    stamp = past(clock, hours=1)
    response = client.patch(
        f"{API}/{original['id']}", json={"summary": "x", "updated_at": stamp}, headers=writer_token
    )
    assert response.get_json()["updated_at"] == stamp


def test_an_empty_patch_changes_nothing(
    client: FlaskClient, writer_token: Headers, clock: FakeClock
) -> None:
    original = create(client, writer_token)
    clock.advance(minutes=5)
    response = client.patch(f"{API}/{original['id']}", json={}, headers=writer_token)
    assert response.status_code == 200
    assert fetch(client, writer_token, original["id"]) == original


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"guid": "tag:evil,2026:x"}, "guid"),
        ({"id": 99}, "id"),
        ({"origin": None}, "origin"),
        ({"title": ""}, "title"),
        ({"section": "nowhere"}, "section"),
        ({"published_at": "2026-01-12T10:00:00"}, "published_at"),
        ({"hashtags": ["ok", "#"]}, "hashtags[1]"),
        ({"nonsense": 1}, "nonsense"),
    ],
)
def test_a_bad_patch_is_refused_and_changes_nothing(
    client: FlaskClient,
    writer_token: Headers,
    clock: FakeClock,
    changes: dict[str, Any],
    field: str,
) -> None:
    original = create(client, writer_token, published_at=past(clock, hours=2))
    clock.advance(minutes=5)
    response = client.patch(f"{API}/{original['id']}", json=changes, headers=writer_token)
    assert_error(response, 422, field)
    assert fetch(client, writer_token, original["id"]) == original
    assert feed_items(client, "/feeds/all.json") == {original["guid"]: original["title"]}


def test_patch_onto_a_taken_slug_is_409(client: FlaskClient, writer_token: Headers) -> None:
    create(client, writer_token, slug="taken")
    mine = create(client, writer_token, slug="mine", title="Mine")
    response = client.patch(f"{API}/{mine['id']}", json={"slug": "taken"}, headers=writer_token)
    assert_error(response, 409, "slug")
    assert fetch(client, writer_token, mine["id"]) == mine


def test_patch_body_must_be_a_json_object(client: FlaskClient, writer_token: Headers) -> None:
    original = create(client, writer_token)
    path = f"{API}/{original['id']}"
    assert_error(client.patch(path, json=["title"], headers=writer_token), 422, "body")
    assert_error(client.patch(path, data="title=x", headers=writer_token), 400, "body")
    assert fetch(client, writer_token, original["id"]) == original


# --- withdraw (DELETE) ------------------------------------------------------------------


def test_delete_withdraws_the_article_from_every_feed(
    client: FlaskClient, writer_token: Headers, clock: FakeClock, service: Service
) -> None:
    kept = create(client, writer_token, title="Kept", published_at=past(clock, hours=3))
    gone = create(client, writer_token, title="Gone", published_at=past(clock, hours=2))
    both = {kept["guid"]: "Kept", gone["guid"]: "Gone"}
    assert feed_items(client, "/feeds/all.json") == both
    assert feed_items(client, "/feeds/sections/world.json") == both
    clock.advance(minutes=1)

    response = client.delete(f"{API}/{gone['id']}", headers=writer_token)
    assert response.status_code == 200
    assert response.get_json()["status"] == "withdrawn"

    assert feed_items(client, "/feeds/all.json") == {kept["guid"]: "Kept"}
    assert feed_items(client, "/feeds/sections/world.json") == {kept["guid"]: "Kept"}
    assert feed_items(client, "/feeds/tags/southkorea.json") == {kept["guid"]: "Kept"}
    for fmt in ("rss", "atom"):
        document = client.get(f"/feeds/all.{fmt}").get_data(as_text=True)
        assert kept["guid"] in document and gone["guid"] not in document

    stored = fetch(client, writer_token, gone["id"])
    assert stored == gone | {"status": "withdrawn", "updated_at": clock.now.isoformat()}
    assert titles(listed(client, writer_token, status="withdrawn")) == ["Gone"]
    assert service.articles.count() == 2

    # Withdrawing again is harmless and changes nothing.
    clock.advance(minutes=1)
    again = client.delete(f"{API}/{gone['id']}", headers=writer_token)
    assert again.status_code == 200
    assert fetch(client, writer_token, gone["id"]) == stored


def test_a_withdrawn_article_can_be_republished_by_patch(
    client: FlaskClient, writer_token: Headers, clock: FakeClock
) -> None:
    article = create(client, writer_token, published_at=past(clock, hours=2))
    client.delete(f"{API}/{article['id']}", headers=writer_token)
    assert feed_items(client, "/feeds/all.json") == {}
    response = client.patch(
        f"{API}/{article['id']}", json={"status": "published"}, headers=writer_token
    )
    assert response.status_code == 200
    assert feed_items(client, "/feeds/all.json") == {article["guid"]: article["title"]}


# --- visibility -------------------------------------------------------------------------


def test_drafts_and_scheduled_articles_stay_out_of_feeds_until_due(
    client: FlaskClient, writer_token: Headers, clock: FakeClock
) -> None:
    draft = create(client, writer_token, title="Draft", status="draft")
    later = (clock.now + timedelta(hours=1)).isoformat()
    scheduled = create(client, writer_token, title="Scheduled", published_at=later)
    assert feed_items(client, "/feeds/all.json") == {}
    assert {item["title"] for item in listed(client, writer_token)} == {"Draft", "Scheduled"}

    clock.advance(hours=1, seconds=1)
    assert feed_items(client, "/feeds/all.json") == {scheduled["guid"]: "Scheduled"}
    assert draft["guid"] not in feed_items(client, "/feeds/sections/world.json")
