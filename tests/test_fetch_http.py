"""fetch(): conditional GET, redirects and status codes against a local server."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from pytest_httpserver import HTTPServer

from feeds.errors import FetchError
from feeds.ingest.fetch import FetchOptions, fetch
from feeds.ingest.schedule import parse_retry_after
from feeds.models import SourceState
from tests.httpservers import local_options

FEED = b"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title></channel></rss>"


def digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def fetch_error(url: str, state: SourceState | None = None, **options: object) -> FetchError:
    with pytest.raises(FetchError) as info:
        fetch(url, state or SourceState(), local_options(**options))
    return info.value


def test_first_fetch_returns_body_validators_and_hash(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data(
        FEED,
        content_type="application/rss+xml",
        headers={"ETag": '"v1"', "Last-Modified": "Mon, 05 Jan 2026 10:00:00 GMT"},
    )
    result = fetch(httpserver.url_for("/feed"), SourceState(), local_options())
    assert (result.status, result.body, result.etag) == (200, FEED, '"v1"')
    assert result.last_modified == "Mon, 05 Jan 2026 10:00:00 GMT"
    assert result.body_hash == digest(FEED)
    assert not result.not_modified and not result.unchanged
    assert result.content_type == "application/rss+xml"
    assert result.content_location == httpserver.url_for("/feed")
    request = httpserver.log[0][0]
    assert request.headers["User-Agent"].startswith("Feeds/")
    assert "gzip" in request.headers["Accept-Encoding"]


def test_304_when_validators_match(httpserver: HTTPServer) -> None:
    httpserver.expect_request(
        "/feed",
        headers={"If-None-Match": '"v1"', "If-Modified-Since": "Mon, 05 Jan 2026 10:00:00 GMT"},
    ).respond_with_data("", status=304)
    state = SourceState(
        etag='"v1"', last_modified="Mon, 05 Jan 2026 10:00:00 GMT", body_hash=digest(FEED)
    )
    result = fetch(httpserver.url_for("/feed"), state, local_options())
    assert result.not_modified and result.unchanged and result.body is None
    assert result.status == 304
    assert (result.etag, result.body_hash) == ('"v1"', digest(FEED))


def test_same_etag_with_a_new_body_is_a_change(httpserver: HTTPServer) -> None:
    new = FEED.replace(b"<title>t<", b"<title>new<")
    httpserver.expect_request("/feed").respond_with_data(new, headers={"ETag": '"v1"'})
    state = SourceState(etag='"v1"', body_hash=digest(FEED))
    result = fetch(httpserver.url_for("/feed"), state, local_options())
    assert not result.unchanged and result.body == new and result.etag == '"v1"'


def test_server_ignoring_validators_is_unchanged_by_hash(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data(FEED, headers={"ETag": '"v2"'})
    state = SourceState(etag='"v1"', body_hash=digest(FEED))
    result = fetch(httpserver.url_for("/feed"), state, local_options())
    assert result.status == 200 and result.unchanged and result.body is None
    assert result.body_hash == digest(FEED) and result.etag == '"v2"'


def redirect(server: HTTPServer, path: str, to: str, status: int) -> None:
    server.expect_request(path).respond_with_data("", status=status, headers={"Location": to})


def test_301_chain_reports_the_permanent_target(httpserver: HTTPServer) -> None:
    redirect(httpserver, "/a", "/b", 301)
    redirect(httpserver, "/b", httpserver.url_for("/c"), 308)
    httpserver.expect_request("/c").respond_with_data(FEED)
    result = fetch(httpserver.url_for("/a"), SourceState(), local_options())
    assert result.final_url == httpserver.url_for("/c")
    assert result.permanent_redirect == httpserver.url_for("/c")


def test_permanent_target_stops_at_the_first_temporary_hop(httpserver: HTTPServer) -> None:
    redirect(httpserver, "/a", "/b", 301)
    redirect(httpserver, "/b", "/c", 302)
    httpserver.expect_request("/c").respond_with_data(FEED)
    result = fetch(httpserver.url_for("/a"), SourceState(), local_options())
    assert result.permanent_redirect == httpserver.url_for("/b")


def test_302_then_200_is_not_permanent(httpserver: HTTPServer) -> None:
    redirect(httpserver, "/a", "/feed", 302)
    httpserver.expect_request("/feed").respond_with_data(
        FEED, headers={"Content-Location": "/canonical/feed.xml"}
    )
    result = fetch(httpserver.url_for("/a"), SourceState(), local_options())
    assert result.body == FEED and result.permanent_redirect is None
    assert result.final_url == httpserver.url_for("/feed")
    assert result.content_location == httpserver.url_for("/canonical/feed.xml")


def test_redirect_loop(httpserver: HTTPServer) -> None:
    redirect(httpserver, "/a", "/b", 302)
    redirect(httpserver, "/b", "/a", 302)
    error = fetch_error(httpserver.url_for("/a"))
    assert error.kind == "redirect_loop"
    assert "loop" in str(error) and "/a" in str(error)


def test_five_hops_are_followed_six_are_too_many(httpserver: HTTPServer) -> None:
    for hop in range(6):
        redirect(httpserver, f"/r{hop}", f"/r{hop + 1}", 302)
    httpserver.expect_request("/r6").respond_with_data(FEED)
    assert fetch(httpserver.url_for("/r1"), SourceState(), local_options()).body == FEED
    error = fetch_error(httpserver.url_for("/r0"))
    assert error.kind == "too_many_redirects"
    assert "more than 5 redirects" in str(error)


def test_redirect_without_location_is_a_bad_response(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/a").respond_with_data("", status=302)
    error = fetch_error(httpserver.url_for("/a"))
    assert (error.kind, error.status) == ("bad_response", 302)


def test_redirect_to_another_scheme_is_refused(httpserver: HTTPServer) -> None:
    redirect(httpserver, "/a", "file:///etc/passwd", 302)
    assert fetch_error(httpserver.url_for("/a")).kind == "bad_scheme"


@pytest.mark.parametrize("url", ["ftp://example.org/feed", "file:///etc/passwd", "feed.xml"])
def test_only_http_and_https(url: str) -> None:
    error = fetch_error(url)
    assert error.kind == "bad_scheme" and "http" in str(error)


def test_410_is_gone(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data("bye", status=410)
    error = fetch_error(httpserver.url_for("/feed"))
    assert (error.kind, error.status) == ("gone", 410)
    assert "gone" in str(error)


def test_500_is_an_http_status_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data("oops", status=500)
    error = fetch_error(httpserver.url_for("/feed"))
    assert (error.kind, error.status, error.retry_after) == ("http_status", 500, None)
    assert "500" in str(error)


@pytest.mark.parametrize(
    ("header", "expected_seconds"),
    [("120", 120), ("Wed, 21 Oct 2099 07:28:00 GMT", None), ("soon-ish", None),
     (str(365 * 24 * 3600), 365 * 24 * 3600)],
)  # fmt: skip
def test_429_retry_after(httpserver: HTTPServer, header: str, expected_seconds: int | None) -> None:
    httpserver.expect_request("/feed").respond_with_data(
        "slow down", status=429, headers={"Retry-After": header}
    )
    before = datetime.now(UTC)
    error = fetch_error(httpserver.url_for("/feed"))
    assert (error.kind, error.status) == ("rate_limited", 429)
    if header == "soon-ish":
        assert error.retry_after is None
    elif expected_seconds is None:
        assert error.retry_after == datetime(2099, 10, 21, 7, 28, tzinfo=UTC)
    else:
        assert error.retry_after is not None
        waited = (error.retry_after - before).total_seconds()
        assert expected_seconds - 1 <= waited <= expected_seconds + 5
        assert "retry after" in str(error)


def test_503_is_rate_limited_too(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data(
        "", status=503, headers={"Retry-After": "30"}
    )
    error = fetch_error(httpserver.url_for("/feed"))
    assert (error.kind, error.status) == ("rate_limited", 503)
    assert error.retry_after is not None


def test_parse_retry_after_forms() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("60", now) == now + timedelta(seconds=60)
    assert parse_retry_after("Thu, 01 Jan 2026 00:10:00 GMT", now) == now + timedelta(minutes=10)
    assert parse_retry_after("-5", now) is None
    assert parse_retry_after("", now) is None
    assert parse_retry_after("9" * 400, now) is None


def test_user_agent_option(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed", headers={"User-Agent": "Custom/1"}).respond_with_data(FEED)
    options = FetchOptions(allow=("localhost",), user_agent="Custom/1")
    assert fetch(httpserver.url_for("/feed"), SourceState(), options).body == FEED
