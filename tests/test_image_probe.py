"""probe_lengths(): image sizes learned with HEAD under the fetcher's rules, on local servers."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

from pytest_httpserver import HTTPServer

from feeds.ingest.fetch import PROBES_AT_ONCE, probe_lengths
from tests.httpservers import RawServer, head_reply, local_options, raw_server

__all__ = ["raw_server"]  # the fixture, imported for its side effect

IMAGE = b"\x89PNG" + b"x" * 1230


def test_sizes_come_from_head_requests_following_redirects(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/a.png", method="HEAD").respond_with_data(
        IMAGE, content_type="image/png"
    )
    httpserver.expect_request("/moved.png", method="HEAD").respond_with_data(
        "", status=302, headers={"Location": "/a.png"}
    )
    httpserver.expect_request("/gone.png", method="HEAD").respond_with_data("", status=404)
    urls = [httpserver.url_for(p) for p in ("/a.png", "/moved.png", "/gone.png")]
    found = probe_lengths(urls, local_options())
    assert found == {urls[0]: len(IMAGE), urls[1]: len(IMAGE)}  # a 404 tells nothing
    assert {request.method for request, _ in httpserver.log} == {"HEAD"}
    assert all(r.headers["User-Agent"].startswith("Feeds/") for r, _ in httpserver.log)


def test_a_server_stating_no_size_leaves_it_unknown(
    raw_server: Callable[..., RawServer],
) -> None:
    def no_length(_head: bytes, sock: socket.socket) -> None:
        sock.sendall(head_reply("200 OK", {"Content-Type": "image/png", "Connection": "close"}))

    server = raw_server(no_length)
    assert probe_lengths([server.url("/x.png")], local_options()) == {}
    assert len(server.requests) == 1 and server.requests[0].startswith(b"HEAD /x.png")


def test_addresses_the_fetcher_refuses_are_never_asked(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/a.png").respond_with_data(IMAGE)
    # Without fetch_allow, loopback is refused exactly as for a feed.
    assert probe_lengths([httpserver.url_for("/a.png")], local_options(allow=())) == {}
    assert probe_lengths(["file:///etc/passwd", "javascript:x"], local_options()) == {}
    assert httpserver.log == []


def test_one_deadline_bounds_every_probe_together(
    raw_server: Callable[..., RawServer], httpserver: HTTPServer
) -> None:
    release = threading.Event()

    def silent(_head: bytes, _sock: socket.socket) -> None:
        release.wait(10)  # never answers within the deadline

    stuck = raw_server(silent)
    httpserver.expect_request("/a.png").respond_with_data(IMAGE)
    # As many silent images as probes go out at once, then one that would answer.
    slow = [stuck.url(f"/slow{n}.png") for n in range(PROBES_AT_ONCE)]
    try:
        found = probe_lengths([*slow, httpserver.url_for("/a.png")], local_options(timeout=0.5))
    finally:
        release.set()
    # The first probes used up the shared deadline: the last was not even sent.
    assert found == {} and httpserver.log == []
