"""Safe HTTP fetching of outside feeds (httpx, synchronous).

One call is one conditional GET with redirects followed by hand, under one deadline
and one size cap, to addresses the policy in netguard.py admits. Failures raise
FetchError with a short `kind`; the caller records it and schedules the next check.

What this module does not do: parse the body, decide when to fetch next, or change a
source's stored URL after a permanent redirect (it reports the target; the caller
confirms it over several fetches).
"""

from __future__ import annotations

import errno
import functools
import hashlib
import re
import ssl
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import certifi
import httpcore
import httpx

from feeds.errors import FetchError
from feeds.ingest.decode import body_decoder
from feeds.ingest.netguard import AllowList, Deadline, GuardedBackend
from feeds.ingest.parsed import MAX_HUBS
from feeds.ingest.schedule import parse_retry_after
from feeds.models import SourceState
from feeds.settings import Settings
from feeds.version import user_agent as build_user_agent

# Image probes sent at once; the guarded transport's pool holds as many connections.
PROBES_AT_ONCE = 4
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT = frozenset({301, 308})
# Sizes are stored in a 32-bit column; a larger "image" is not one to announce.
MAX_LENGTH = 2**31 - 1
_SCHEMES = frozenset({"http", "https"})
_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)


@dataclass(frozen=True)
class FetchOptions:
    timeout: float = 20.0
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    allow: tuple[str, ...] = ()
    user_agent: str = build_user_agent()

    @classmethod
    def from_settings(cls, settings: Settings) -> FetchOptions:
        return cls(
            timeout=settings.fetch_timeout,
            max_bytes=settings.fetch_max_bytes,
            max_redirects=settings.fetch_max_redirects,
            allow=settings.fetch_allow,
            user_agent=build_user_agent(settings.site_url, settings.fetch_user_agent),
        )


@dataclass(frozen=True)
class FetchResult:
    final_url: str
    status: int
    not_modified: bool
    unchanged: bool
    body: bytes | None
    content_type: str | None
    content_location: str
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    permanent_redirect: str | None
    elapsed: float
    # WebSub discovery from the Link header: rel="hub" and rel="self" URLs.
    hub_links: tuple[str, ...] = ()
    self_link: str | None = None


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Built once: loading the CA bundle costs more than the rest of a small fetch.
    return ssl.create_default_context(cafile=certifi.where())


class _GuardedTransport(httpx.HTTPTransport):
    def __init__(self, backend: GuardedBackend) -> None:
        super().__init__(verify=_ssl_context(), trust_env=False)
        # httpx has no public hook for a network backend; the pool it builds is
        # replaced before any connection exists (it never opened one).
        self._pool = httpcore.ConnectionPool(
            ssl_context=_ssl_context(), network_backend=backend, max_connections=PROBES_AT_ONCE
        )


def fetch(url: str, state: SourceState, options: FetchOptions) -> FetchResult:
    """GET *url* conditionally; return the body or raise FetchError."""
    started = time.monotonic()
    deadline = Deadline(options.timeout)
    headers = {
        "User-Agent": options.user_agent,
        "Accept": _ACCEPT,
        "Accept-Encoding": "gzip, br",
    }
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    with _client(options, deadline) as client:
        try:
            response, permanent = _send(client, "GET", url, headers, options, deadline)
            try:
                return _finish(response, state, options, deadline, permanent, started)
            finally:
                response.close()
        except httpx.HTTPError as exc:
            raise _translate(exc, deadline) from exc


def probe_lengths(urls: Iterable[str], options: FetchOptions) -> dict[str, int]:
    """The size of each image, from the Content-Length of a HEAD request.

    The fetcher's rules hold (addresses, redirects, User-Agent) under ONE deadline of
    `options.timeout` for all the requests together. A URL that fails, or whose server
    states no size, is left out: an unknown size is never fatal.
    """
    unique = list(dict.fromkeys(urls))
    if not unique:
        return {}
    deadline = Deadline(options.timeout)
    headers = {"User-Agent": options.user_agent, "Accept": "image/*"}

    def probe(url: str) -> int | None:
        if deadline.remaining() <= 0:
            return None
        try:
            response, _ = _send(client, "HEAD", url, headers, options, deadline)
        except (FetchError, httpx.HTTPError):
            return None
        response.close()  # a HEAD response has no body to read
        length = response.headers.get("content-length", "").strip()
        if response.is_success and length.isdigit() and 0 < int(length) <= MAX_LENGTH:
            return int(length)
        return None

    # A few at once (the connection pool's size): each probe is a round trip spent
    # waiting, and one slow image host must not use up the deadline of all the others.
    workers = min(PROBES_AT_ONCE, len(unique))
    with _client(options, deadline) as client, ThreadPoolExecutor(workers) as pool:
        lengths = list(pool.map(probe, unique))
    return {url: length for url, length in zip(unique, lengths, strict=True) if length}


def _client(options: FetchOptions, deadline: Deadline) -> httpx.Client:
    backend = GuardedBackend(AllowList.parse(options.allow), deadline)
    return httpx.Client(
        transport=_GuardedTransport(backend), follow_redirects=False, trust_env=False
    )


def _send(
    client: httpx.Client,
    method: str,
    url: str,
    headers: dict[str, str],
    options: FetchOptions,
    deadline: Deadline,
) -> tuple[httpx.Response, str | None]:
    """The response past any redirects (open: the caller closes it), and the target of
    a permanent redirect when every hop was one."""
    current = _checked_url(url)
    visited: list[str] = []
    permanent: str | None = None
    still_permanent = True
    for hop in range(options.max_redirects + 1):
        visited.append(str(current))
        timeout = httpx.Timeout(deadline.bound(None))
        request = client.build_request(method, current, headers=headers, timeout=timeout)
        response = client.send(request, stream=True)
        if response.status_code not in _REDIRECTS:
            return response, permanent
        try:
            location = response.headers.get("location")
            if not location:
                raise FetchError(
                    "bad_response",
                    f"{response.status_code} redirect without a Location header",
                    status=response.status_code,
                )
            target = _checked_url(str(current.join(location.strip())))
            still_permanent = still_permanent and response.status_code in _PERMANENT
            if still_permanent:
                permanent = str(target)
            if str(target) in visited:
                raise FetchError(
                    "redirect_loop",
                    f"redirect loop: {current} sends us back to {target} (hop {hop + 1})",
                    status=response.status_code,
                )
            current = target
        finally:
            response.close()
    raise FetchError(
        "too_many_redirects",
        f"more than {options.max_redirects} redirects (last went to {current})",
    )


def _checked_url(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise FetchError("bad_scheme", f"not a usable URL: {url!r} ({exc})") from exc
    if parsed.scheme not in _SCHEMES or not parsed.host:
        raise FetchError("bad_scheme", f"only http and https URLs are fetched, not {url!r}")
    return parsed


def _finish(
    response: httpx.Response,
    state: SourceState,
    options: FetchOptions,
    deadline: Deadline,
    permanent: str | None,
    started: float,
) -> FetchResult:
    status = response.status_code
    final_url = str(response.url)
    if status == 410:
        raise FetchError(
            "gone", f"{final_url} is gone (410): the source was removed", status=status
        )
    if status in (429, 503):
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        when = f", retry after {retry_after:%Y-%m-%d %H:%M:%S} UTC" if retry_after else ""
        raise FetchError(
            "rate_limited",
            f"{final_url} answered {status} {response.reason_phrase}{when}",
            status=status,
            retry_after=retry_after,
        )
    if status != 304 and not 200 <= status < 300:
        raise FetchError(
            "http_status", f"{final_url} answered {status} {response.reason_phrase}", status=status
        )
    etag = response.headers.get("etag") or None
    last_modified = response.headers.get("last-modified") or None
    common = {
        "final_url": final_url,
        "status": status,
        "content_type": response.headers.get("content-type"),
        "content_location": _content_location(response),
        "permanent_redirect": permanent,
        **_websub_links(response),
    }
    if status == 304:
        # A 304 may omit validators; the ones we sent are still the current ones.
        return FetchResult(
            **common,
            not_modified=True,
            unchanged=True,
            body=None,
            etag=etag or state.etag,
            last_modified=last_modified or state.last_modified,
            body_hash=state.body_hash,
            elapsed=time.monotonic() - started,
        )
    body = read_body(response, options.max_bytes, deadline)
    body_hash = hashlib.sha256(body).hexdigest()
    unchanged = body_hash == state.body_hash
    return FetchResult(
        **common,
        not_modified=False,
        unchanged=unchanged,
        body=None if unchanged else body,
        etag=etag,
        last_modified=last_modified,
        body_hash=body_hash,
        elapsed=time.monotonic() - started,
    )


def _websub_links(response: httpx.Response) -> dict[str, Any]:
    """rel="hub" and rel="self" from the Link header (WebSub discovery)."""
    hubs: list[str] = []
    self_link = None
    for value in response.headers.get_list("link"):
        for part in value.split(","):
            url, _, params = part.partition(";")
            url = url.strip()
            if not (url.startswith("<") and url.endswith(">")):
                continue
            rels = re.findall(r'rel\s*=\s*"?([^";]+)"?', params)
            names = {name.lower() for rel in rels for name in rel.split()}
            href = str(response.url.join(url[1:-1].strip()))
            if not href.startswith(("http://", "https://")):
                continue
            if "hub" in names and href not in hubs:
                hubs.append(href)
            if "self" in names and self_link is None:
                self_link = href
    return {"hub_links": tuple(hubs[:MAX_HUBS]), "self_link": self_link}


def _content_location(response: httpx.Response) -> str:
    header = response.headers.get("content-location")
    if header:
        try:
            resolved = response.url.join(header.strip())
        except httpx.InvalidURL:
            resolved = None
        if resolved is not None and resolved.scheme in _SCHEMES:
            return str(resolved)
    return str(response.url)


def read_body(response: httpx.Response, max_bytes: int, deadline: Deadline) -> bytes:
    """The decoded body, refusing more than *max_bytes* after decompression."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(
            "too_large", f"body of {int(declared)} bytes exceeds the {max_bytes} byte limit"
        )
    decode = body_decoder(response.headers.get("content-encoding", ""))
    parts: list[bytes] = []
    size = 0
    for piece in decode(_raw_chunks(response, deadline)):
        size += len(piece)
        if size > max_bytes:
            raise FetchError(
                "too_large", f"body exceeds the {max_bytes} byte limit (after decompression)"
            )
        parts.append(piece)
    return b"".join(parts)


def _raw_chunks(response: httpx.Response, deadline: Deadline) -> Iterator[bytes]:
    for chunk in response.iter_raw(64 * 1024):
        deadline.bound(None)
        yield chunk


# What an errno means to someone who runs a newsroom, not a socket ("[Errno 111]").
ERRNO_WORDS = {
    errno.ECONNREFUSED: "connection refused: nothing is listening at that address and port",
    errno.ECONNRESET: "the server reset the connection",
    errno.ECONNABORTED: "the connection was aborted",
    errno.EHOSTUNREACH: "the host cannot be reached from here (no route)",
    errno.ENETUNREACH: "the network of that host cannot be reached from here",
    errno.ETIMEDOUT: "connecting timed out: the host did not answer",
    errno.EPIPE: "the server closed the connection while we were sending",
}


def network_words(exc: BaseException) -> str:
    """A network failure in words, from the first errno found among its causes."""
    cause: BaseException | None = exc
    while cause is not None:
        number = getattr(cause, "errno", None)
        if number in ERRNO_WORDS:
            return ERRNO_WORDS[number]
        cause = cause.__cause__ or cause.__context__
    text = str(exc) or type(exc).__name__
    for number, words in ERRNO_WORDS.items():
        if f"[Errno {number}]" in text:
            return words
    return f"network error: {text}"


def _translate(exc: httpx.HTTPError, deadline: Deadline) -> FetchError:
    """One FetchError per httpx failure, with a message an admin can act on."""
    if isinstance(exc, httpx.TimeoutException) or deadline.remaining() <= 0:
        return FetchError("timeout", f"no complete response within {deadline.total:g} s")
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return FetchError("tls", f"TLS certificate rejected: {cause.verify_message}")
        if isinstance(cause, ssl.SSLError):
            return FetchError("tls", f"TLS failure: {cause.reason or cause}")
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, httpx.RemoteProtocolError):
        text = str(exc)
        if "without sending complete message body" in text or "incomplete" in text.lower():
            text = "connection closed before the whole body arrived (wrong Content-Length?)"
        return FetchError("bad_response", f"malformed HTTP response: {text}")
    if isinstance(exc, httpx.DecodingError):
        return FetchError("bad_response", f"cannot decode the response body: {exc}")
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return FetchError("bad_scheme", f"not a usable URL: {exc}")
    if isinstance(exc, httpx.NetworkError):
        return FetchError("connect", network_words(exc))
    return FetchError("bad_response", f"HTTP failure: {exc or type(exc).__name__}")
