"""fetch(): one total deadline, a size cap after decompression, broken framing."""

from __future__ import annotations

import gzip
import socket
import time
import tracemalloc
import zlib
from collections.abc import Callable
from functools import cache

import brotli
import pytest

from feeds.errors import FetchError
from feeds.ingest.fetch import body_decoder, fetch
from feeds.models import SourceState
from tests.httpservers import RawServer, head_reply, local_options, raw_server

__all__ = ["raw_server"]

MiB = 1024 * 1024


def fetch_error(url: str, **options: object) -> FetchError:
    with pytest.raises(FetchError) as info:
        fetch(url, SourceState(), local_options(**options))
    return info.value


def drip(head: bytes, sock: socket.socket) -> None:
    sock.sendall(head_reply("200 OK", {"Content-Length": "100"}))
    for _ in range(100):
        sock.sendall(b"x")
        time.sleep(2)


def test_one_byte_every_two_seconds_hits_the_total_deadline(
    raw_server: Callable[..., RawServer],
) -> None:
    server = raw_server(drip)
    started = time.monotonic()
    error = fetch_error(server.url(), timeout=3.0)
    assert error.kind == "timeout" and "3 s" in str(error)
    assert time.monotonic() - started < 4.0


def test_silent_server_hits_the_deadline(raw_server: Callable[..., RawServer]) -> None:
    server = raw_server(lambda head, sock: time.sleep(10))
    started = time.monotonic()
    assert fetch_error(server.url(), timeout=1.0).kind == "timeout"
    assert time.monotonic() - started < 2.0


def endless(head: bytes, sock: socket.socket) -> None:
    """100 MB with no Content-Length, generated as it is sent."""
    sock.sendall(head_reply("200 OK", {"Connection": "close"}))
    block = b"<item>" + b"x" * (64 * 1024 - 6)
    for _ in range(100 * MiB // len(block)):
        sock.sendall(block)


def measure_peak(action: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        action()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def test_100_mb_stream_is_cut_at_the_cap(raw_server: Callable[..., RawServer]) -> None:
    server = raw_server(endless)
    errors: list[FetchError] = []

    def run() -> None:
        errors.append(fetch_error(server.url(), max_bytes=4 * MiB))

    peak = measure_peak(run)
    assert errors[0].kind == "too_large" and str(4 * MiB) in str(errors[0])
    assert peak < 12 * MiB


def test_declared_length_over_the_cap_is_refused_unread(
    raw_server: Callable[..., RawServer],
) -> None:
    server = raw_server(
        lambda head, sock: sock.sendall(head_reply("200 OK", {"Content-Length": "100000000"}))
    )
    error = fetch_error(server.url(), max_bytes=MiB)
    assert error.kind == "too_large" and "100000000" in str(error)


@cache
def gzip_bomb() -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(MiB)
    return b"".join([packer.compress(zeros) for _ in range(200)] + [packer.flush()])


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_compression_bomb_is_cut_after_decompression(
    raw_server: Callable[..., RawServer], encoding: str
) -> None:
    bomb = gzip_bomb() if encoding == "gzip" else brotli.compress(bytes(64 * MiB), quality=1)
    assert len(bomb) < MiB
    headers = {"Content-Length": str(len(bomb)), "Content-Encoding": encoding}
    server = raw_server(lambda head, sock: sock.sendall(head_reply("200 OK", headers, bomb)))
    errors: list[FetchError] = []
    peak = measure_peak(lambda: errors.append(fetch_error(server.url(), max_bytes=2 * MiB)))
    assert errors[0].kind == "too_large" and "after decompression" in str(errors[0])
    assert peak < 8 * MiB


@pytest.mark.parametrize("encoding", ["gzip", "br", "deflate"])
def test_compressed_bodies_are_decoded(raw_server: Callable[..., RawServer], encoding: str) -> None:
    body = b"<rss>" + "café ".encode() * 5000 + b"</rss>"
    packed = {"gzip": gzip.compress, "br": brotli.compress, "deflate": zlib.compress}[encoding](
        body
    )
    headers = {"Content-Length": str(len(packed)), "Content-Encoding": encoding}
    server = raw_server(lambda head, sock: sock.sendall(head_reply("200 OK", headers, packed)))
    result = fetch(server.url(), SourceState(), local_options())
    assert result.body == body
    assert b"Accept-Encoding: gzip, br" in server.requests[0]


def test_raw_deflate_and_multi_member_gzip() -> None:
    raw = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    data = raw.compress(b"hello") + raw.flush()
    assert b"".join(body_decoder("deflate")([data[:3], data[3:]])) == b"hello"
    members = gzip.compress(b"one ") + gzip.compress(b"two")
    assert b"".join(body_decoder("gzip")([members])) == b"one two"


def test_corrupt_or_unknown_encoding_is_a_bad_response() -> None:
    with pytest.raises(FetchError, match="corrupt") as info:
        b"".join(body_decoder("gzip")([b"not gzip at all"]))
    assert info.value.kind == "bad_response"
    with pytest.raises(FetchError, match="unsupported Content-Encoding"):
        body_decoder("zstd")


def test_body_shorter_than_content_length(raw_server: Callable[..., RawServer]) -> None:
    server = raw_server(
        lambda head, sock: sock.sendall(head_reply("200 OK", {"Content-Length": "1000"}, b"short"))
    )
    error = fetch_error(server.url())
    assert error.kind == "bad_response" and "Content-Length" in str(error)


def test_content_length_too_long_on_an_open_connection_times_out(
    raw_server: Callable[..., RawServer],
) -> None:
    def hold(head: bytes, sock: socket.socket) -> None:
        sock.sendall(head_reply("200 OK", {"Content-Length": "1000"}, b"short"))
        time.sleep(5)

    server = raw_server(hold)
    started = time.monotonic()
    error = fetch_error(server.url(), timeout=1.0)
    assert error.kind == "timeout" and time.monotonic() - started < 2.0


def test_garbage_content_length(raw_server: Callable[..., RawServer]) -> None:
    server = raw_server(
        lambda head, sock: sock.sendall(head_reply("200 OK", {"Content-Length": "ten"}, b"x"))
    )
    error = fetch_error(server.url())
    assert error.kind == "bad_response" and "malformed" in str(error)
