"""Public feeds, the feed directory, OPML, and the minimal article page."""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    redirect,
    render_template,
    request,
    send_from_directory,
)

from feeds.errors import NotFound
from feeds.hashtags import normalize_key
from feeds.heap import release_freed_memory
from feeds.models import FeedFormat, FeedKey, FeedKind, author_slug
from feeds.service.article_page import Gone
from feeds.service.directory import FeedListing
from feeds.service.feeds import (
    PageCursor,
    archive_path,
    feed_path,
    link_header,
)
from feeds.web import service
from feeds.web.feedpage import page_response, wants_page
from feeds.web.health import FEED_REQUESTS
from feeds.web.httpcache import feed_response
from feeds.web.negotiate import prefers_page
from feeds.web.params import whole_number
from feeds.web.published import published_files

blueprint = Blueprint("feeds", __name__, template_folder="templates")
FORMAT = "<any(rss,atom,json):fmt>"


def _limit() -> int | None:
    raw = request.args.get("limit")
    if raw is None:
        return None
    settings = service().settings
    value = whole_number(raw, maximum=10**18)
    if value is None or value < 1:
        abort(400, f"limit must be a whole number from 1 to {settings.feed_limit_max}")
    return min(value, settings.feed_limit_max)


def _before() -> PageCursor | None:
    raw = request.args.get("before")
    if raw is None:
        return None
    try:
        return PageCursor.decode(raw)
    except ValueError:
        abort(400, "before must be a page cursor taken from a feed's next link")


def _serve(key: FeedKey, fmt: str) -> Response:
    svc = service()
    limit, before = _limit(), _before()
    if limit is None and before is None and not prefers_page(request.headers.get("Accept")):
        # What the fast path answers when the request reaches it (a query string it
        # does not read, such as ?utm_source=, sends it here).
        environ = {**request.environ, "REQUEST_METHOD": "GET"}  # Flask strips HEAD bodies
        answer = published_files().answer(key, FeedFormat(fmt), environ)
        if answer is not None:
            FEED_REQUESTS.labels(fmt, str(answer.status)).inc()
            return Response(answer.body, status=answer.status, headers=answer.headers)
    feed_request = svc.feeds.request(key, FeedFormat(fmt), limit, before)
    if wants_page(request):
        return page_response(feed_request)  # a browser navigating: the human view
    try:
        entry = svc.feeds.get(feed_request)
    except NotFound as exc:
        FEED_REQUESTS.labels(fmt, "404").inc()
        abort(404, str(exc))
    stale = svc.settings.stale_if_error_seconds
    response = feed_response(request, entry, svc.cache, svc.settings.cache_max_age, stale)
    response.headers["Link"] = link_header(svc.settings, feed_request.self_url())
    FEED_REQUESTS.labels(fmt, str(response.status_code)).inc()
    return response


@blueprint.get(f"/feeds/all.{FORMAT}")
def all_feed(fmt: str) -> Response:
    return _serve(FeedKey(FeedKind.ALL), fmt)


@blueprint.get(f"/feeds/trending.{FORMAT}")
def trending_feed(fmt: str) -> Response:
    return _serve(FeedKey(FeedKind.TRENDING), fmt)


@blueprint.get(f"/feeds/sections/<slug>.{FORMAT}")
def section_feed(slug: str, fmt: str) -> Response:
    return _serve(FeedKey(FeedKind.SECTION, slug), fmt)


def _serve_named(kind: FeedKind, given: str, key: str, fmt: str) -> Response:
    """Serve the feed named `key`, the normalised form of the URL's `given` name."""
    if not key:
        abort(404, f"empty {kind.value} name")
    if key != given:
        # One URL per feed: readers and caches then see #SouthKorea and #southkorea (or
        # Min-ji-Park and min-ji-park) as the same subscription, and the self link
        # equals the URL actually fetched.
        target = "/" + feed_path(FeedKey(kind, key), fmt)
        query = request.query_string.decode("latin-1")
        return redirect(target + (f"?{query}" if query else ""), code=301)  # type: ignore[return-value]
    return _serve(FeedKey(kind, key), fmt)


@blueprint.get(f"/feeds/tags/<tag>.{FORMAT}")
def tag_feed(tag: str, fmt: str) -> Response:
    return _serve_named(FeedKind.TAG, tag, normalize_key(tag), fmt)


@blueprint.get(f"/feeds/custom/<slug>.{FORMAT}")
def custom_feed(slug: str, fmt: str) -> Response:
    return _serve(FeedKey(FeedKind.CUSTOM, slug), fmt)


@blueprint.get(f"/feeds/authors/<slug>.{FORMAT}")
def author_feed(slug: str, fmt: str) -> Response:
    return _serve_named(FeedKind.AUTHOR, slug, author_slug(slug), fmt)


def _serve_archive(key: FeedKey, month: str, fmt: str) -> Response:
    svc = service()
    if not prefers_page(request.headers.get("Accept")):
        # The published month, as the fast path answers it (a query string sends the
        # request here).
        environ = {**request.environ, "REQUEST_METHOD": "GET"}  # Flask strips HEAD bodies
        answer = published_files().answer(key, FeedFormat(fmt), environ, month)
        if answer is not None:
            FEED_REQUESTS.labels(fmt, str(answer.status)).inc()
            return Response(answer.body, status=answer.status, headers=answer.headers)
    try:
        archive = svc.archives.get(key, FeedFormat(fmt), month)
    except NotFound as exc:
        FEED_REQUESTS.labels(fmt, "404").inc()
        abort(404, str(exc))
    stale = svc.settings.stale_if_error_seconds
    response = feed_response(request, archive.feed, svc.cache, archive.max_age, stale)
    FEED_REQUESTS.labels(fmt, str(response.status_code)).inc()
    return response


ARCHIVE = f"archive/<month>.{FORMAT}"


@blueprint.get(f"/feeds/all/{ARCHIVE}")
def all_archive(month: str, fmt: str) -> Response:
    return _serve_archive(FeedKey(FeedKind.ALL), month, fmt)


@blueprint.get(f"/feeds/sections/<slug>/{ARCHIVE}")
def section_archive(slug: str, month: str, fmt: str) -> Response:
    return _serve_archive(FeedKey(FeedKind.SECTION, slug), month, fmt)


@blueprint.get(f"/feeds/tags/<tag>/{ARCHIVE}")
def tag_archive(tag: str, month: str, fmt: str) -> Response:
    key = normalize_key(tag)
    if not key:
        abort(404, "empty hashtag")
    if key != tag:
        target = "/" + archive_path(FeedKey(FeedKind.TAG, key), month, fmt)
        return redirect(target, code=301)  # type: ignore[return-value]
    return _serve_archive(FeedKey(FeedKind.TAG, key), month, fmt)


@blueprint.get(f"/feeds/custom/<slug>/{ARCHIVE}")
def custom_archive(slug: str, month: str, fmt: str) -> Response:
    return _serve_archive(FeedKey(FeedKind.CUSTOM, slug), month, fmt)


@blueprint.get(f"/feeds/authors/<slug>/{ARCHIVE}")
def author_archive(slug: str, month: str, fmt: str) -> Response:
    key = author_slug(slug)
    if not key or key != slug:
        # Links to archives are made from the normalised slug: no other spelling is ours.
        abort(404, "no such author archive")
    return _serve_archive(FeedKey(FeedKind.AUTHOR, key), month, fmt)


@blueprint.get("/feeds/")
def directory() -> Response:
    listing = service().directory.listing()
    # Grouped in listing order (General, Sections, Topics, Authors, Hashtags), not alphabetically.
    groups: dict[str, list[FeedListing]] = {}
    for entry in listing:
        groups.setdefault(entry.group, []).append(entry)
    page = render_template(
        "directory.html", listing=listing, groups=groups, settings=service().settings
    )
    response = Response(page, content_type="text/html; charset=utf-8")
    # Once sent, what built a big store's directory is garbage: give its heap back.
    response.call_on_close(release_freed_memory)
    return response


@blueprint.get("/feeds.opml")
def opml() -> Response:
    body = service().directory.opml()
    response = Response(body, content_type="text/x-opml; charset=utf-8")
    response.headers["Content-Disposition"] = 'inline; filename="feeds.opml"'
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.call_on_close(release_freed_memory)  # as for the directory
    return response


@blueprint.get("/media/<path:name>")
def media(name: str) -> Response:
    folder = Path(service().settings.media_dir).resolve()
    # send_from_directory refuses paths that climb out of the folder.
    response = send_from_directory(folder, name, max_age=86400)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@blueprint.get("/articles/<slug>")
def article_page(slug: str) -> Response:
    svc = service()
    try:
        page = svc.article_pages.get(slug)
    except Gone:
        abort(410)
    except NotFound:
        abort(404)
    body = render_template("article.html", page=page, article=page.article, settings=svc.settings)
    response = Response(body, content_type="text/html; charset=utf-8")
    # The page shares an origin with /admin/; csp.PUBLIC (added to every response that
    # sets no policy of its own) forbids script here.
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
