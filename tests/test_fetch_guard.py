"""The address policy: checked at connect time, on every hop, by name or network."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpcore
import pytest
from pytest_httpserver import HTTPServer

from feeds.errors import FetchError
from feeds.ingest import netguard
from feeds.ingest.fetch import fetch
from feeds.ingest.netguard import AllowList, Deadline, GuardedBackend, is_public
from feeds.models import SourceState
from tests.httpservers import RawServer, head_reply, local_options, raw_server, self_signed_context

__all__ = ["raw_server"]  # a fixture, imported so pytest finds it

FEED = b"<rss version='2.0'><channel><title>t</title></channel></rss>"


def ok_handler(head: bytes, sock: socket.socket) -> None:
    sock.sendall(head_reply("200 OK", {"Content-Length": str(len(FEED))}, FEED))


def fetch_error(url: str, **options: Any) -> FetchError:
    with pytest.raises(FetchError) as info:
        fetch(url, SourceState(), local_options(**options))
    return info.value


def fake_dns(monkeypatch: pytest.MonkeyPatch, table: dict[str, list[str]]) -> list[str]:
    """Make names resolve to the given addresses; returns the log of lookups."""
    lookups: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        lookups.append(host)
        if host not in table:
            return real(host, port, *args, **kwargs)
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port)) for a in table[host]]  # fmt: skip

    monkeypatch.setattr(netguard, "getaddrinfo", getaddrinfo)
    return lookups


@pytest.mark.parametrize(
    "host",
    ["localhost", "127.0.0.1", "0x7f.1", "2130706433", "[::1]", "[::ffff:127.0.0.1]"],
)
def test_loopback_in_any_spelling_is_refused(
    raw_server: Callable[..., RawServer], host: str
) -> None:
    server = raw_server(ok_handler)
    error = fetch_error(server.url(host=host), allow=())
    assert error.kind == "blocked_address"
    assert "not a public address" in str(error)
    assert server.connections == 0


@pytest.mark.parametrize(
    "host", ["10.0.0.1", "169.254.169.254", "100.64.0.1", "[fe80::1]", "0.0.0.0"]
)
def test_private_addresses_are_refused_before_connecting(host: str) -> None:
    error = fetch_error(f"http://{host}/latest/meta-data/", allow=())
    assert error.kind == "blocked_address" and host.strip("[]") in str(error)


def test_names_resolving_to_loopback_are_refused(
    raw_server: Callable[..., RawServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_dns(monkeypatch, {"internal.test": ["127.0.0.1"]})
    server = raw_server(ok_handler)
    error = fetch_error(server.url(host="internal.test"), allow=())
    assert error.kind == "blocked_address" and "internal.test (127.0.0.1)" in str(error)
    assert server.connections == 0


def test_one_private_answer_refuses_the_name(monkeypatch: pytest.MonkeyPatch) -> None:
    # Round-robin between a public and a private address must not pass half the time.
    fake_dns(monkeypatch, {"mixed.test": ["93.184.216.34", "10.1.2.3"]})
    assert fetch_error("http://mixed.test/feed", allow=()).kind == "blocked_address"


def test_the_checked_address_is_the_one_connected_to(monkeypatch: pytest.MonkeyPatch) -> None:
    lookups = fake_dns(monkeypatch, {"feeds.test": ["127.0.0.1"]})
    connected: list[str] = []

    def connect_tcp(self: Any, host: str, port: int, **kwargs: Any) -> httpcore.NetworkStream:
        connected.append(host)
        raise httpcore.ConnectError("stop here")

    monkeypatch.setattr(httpcore.SyncBackend, "connect_tcp", connect_tcp)
    backend = GuardedBackend(AllowList.parse(["127.0.0.0/8"]), Deadline(5))
    with pytest.raises(httpcore.ConnectError):
        backend.connect_tcp("feeds.test", 80)
    # Resolved once, and the socket goes to the checked IP, never to the name again.
    assert lookups == ["feeds.test"] and connected == ["127.0.0.1"]


def test_allowed_by_name_admits_that_name_only(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_dns(monkeypatch, {"alias.test": ["127.0.0.1"]})
    httpserver.expect_request("/feed").respond_with_data(FEED)
    port = httpserver.port
    for target in (f"http://127.0.0.1:{port}/feed", f"http://alias.test:{port}/feed"):
        httpserver.expect_request("/go").respond_with_data(
            "", status=302, headers={"Location": target}
        )
        error = fetch_error(httpserver.url_for("/go"), allow=("localhost",))
        assert error.kind == "blocked_address", target
        httpserver.clear()
        httpserver.expect_request("/feed").respond_with_data(FEED)


def test_redirect_to_metadata_address_is_refused(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/go").respond_with_data(
        "", status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
    )
    error = fetch_error(httpserver.url_for("/go"), allow=("127.0.0.1/32", "localhost"))
    assert error.kind == "blocked_address" and "169.254.169.254" in str(error)


def test_allowed_network_admits_addresses(raw_server: Callable[..., RawServer]) -> None:
    server = raw_server(ok_handler)
    result = fetch(
        server.url(host="127.0.0.1"), SourceState(), local_options(allow=("127.0.0.1/32",))
    )
    assert result.body == FEED


def test_is_public_examples() -> None:
    assert is_public(ipaddress.ip_address("93.184.216.34"))
    assert is_public(ipaddress.ip_address("2606:4700::1"))
    for text in ["::ffff:10.0.0.1", "::127.0.0.1", "64:ff9b::a00:1", "2002:a00:1::", "ff02::1",
                 "224.0.0.1", "255.255.255.255", "::", "192.0.2.1", "fc00::1"]:  # fmt: skip
        assert not is_public(ipaddress.ip_address(text)), text


def test_dns_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any, **kwargs: Any) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(netguard, "getaddrinfo", fail)
    error = fetch_error("http://no-such-host.invalid/feed")
    assert error.kind == "dns" and "no-such-host.invalid" in str(error)


def test_connection_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    error = fetch_error(f"http://localhost:{port}/feed")
    assert error.kind == "connect"


def test_self_signed_certificate_is_a_tls_error(
    raw_server: Callable[..., RawServer], tmp_path: Path
) -> None:
    context = self_signed_context(tmp_path)
    if context is None:
        pytest.skip("needs the openssl command to make a self-signed certificate")
    server = raw_server(ok_handler, ssl_context=context)
    error = fetch_error(server.url(scheme="https"))
    assert error.kind == "tls" and "certificate" in str(error)
