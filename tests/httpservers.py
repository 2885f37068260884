"""Local test servers for the ingest tests: nothing here touches the internet.

`RawServer` answers with whatever bytes a handler writes, for the cases a well-behaved
server cannot produce (a wrong Content-Length, one byte every two seconds, a 100 MB
stream, TLS with a self-signed certificate). pytest-httpserver covers the rest.
"""

from __future__ import annotations

import shutil
import socket
import socketserver
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from feeds.ingest.fetch import FetchOptions

Handler = Callable[[bytes, socket.socket], None]


def local_options(**overrides: object) -> FetchOptions:
    """Options admitting the local test servers by name, with a short deadline."""
    values: dict[str, object] = {"allow": ("localhost",), "timeout": 5.0}
    values.update(overrides)
    return FetchOptions(**values)  # type: ignore[arg-type]


class RawServer:
    """A threaded TCP server on 127.0.0.1; `handler(request_head, sock)` writes the reply."""

    def __init__(self, handler: Handler, ssl_context: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.connections = 0
        self.requests: list[bytes] = []
        outer = self

        class _Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                outer.connections += 1
                sock: socket.socket = self.request
                try:
                    if ssl_context is not None:
                        sock = ssl_context.wrap_socket(sock, server_side=True)
                    head = b""
                    while b"\r\n\r\n" not in head:
                        data = sock.recv(4096)
                        if not data:
                            return
                        head += data
                    outer.requests.append(head)
                    outer.handler(head, sock)
                except (OSError, ssl.SSLError):
                    return  # the client gave up, which is what most tests want

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str = "/", host: str = "localhost", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    def __enter__(self) -> RawServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def head_reply(status: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"HTTP/1.1 {status}"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@pytest.fixture
def raw_server() -> Iterator[Callable[..., RawServer]]:
    """Start RawServers for one test; each is stopped when the test ends."""
    started: list[RawServer] = []

    def start(handler: Handler, ssl_context: ssl.SSLContext | None = None) -> RawServer:
        server = RawServer(handler, ssl_context).__enter__()
        started.append(server)
        return server

    yield start
    for server in started:
        server.__exit__(None, None, None)


def self_signed_context(tmp: Path) -> ssl.SSLContext | None:
    """A server TLS context with a fresh self-signed localhost certificate, or None.

    `cryptography` is not a dependency here, so the openssl command line makes the
    certificate; without it the TLS test is skipped.
    """
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    key, cert = tmp / "key.pem", tmp / "cert.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context
