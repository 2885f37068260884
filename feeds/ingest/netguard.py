"""Address policy for outside fetches, enforced where each connection is made.

The check lives in an httpcore network backend: the host name is resolved once, every
address is checked, and the socket is opened to the checked address itself. Nothing
resolves the name a second time, so a DNS answer that changes between "check" and
"connect" (rebinding) cannot slip a private address through. TLS still uses the host
name for SNI and certificate checks because httpcore passes it to `start_tls`.

The backend also enforces the fetch's single deadline on every connect, read and write:
httpx timeouts are per operation, so a server dribbling one byte at a time would
otherwise never time out.

What this module does not do: follow redirects or check schemes (fetch.py does).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpcore

from feeds.errors import FetchError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_SHARED = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")

# Looked up through the module so tests can make a name resolve to any address.
getaddrinfo = socket.getaddrinfo


@dataclass(frozen=True)
class AllowList:
    """Host names and networks that may be reached although they are not public."""

    names: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        names: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in entries:
            entry = entry.strip()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                names.add(normalize_host(entry))
        return cls(frozenset(names), tuple(networks))

    def admits_name(self, host: str) -> bool:
        return normalize_host(host) in self.names

    def admits_address(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks)


def normalize_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries (mapped, compatible, NAT64, 6to4)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _IPV4_COMPATIBLE or address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: IPAddress) -> bool:
    """True when *address* is a globally routable unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return False
        embedded = _embedded_ipv4(address)
        # `::` and `::1` sit inside ::/96 but are IPv6 specials, judged as such below.
        if embedded is not None and not (address.is_unspecified or address.is_loopback):
            return is_public(embedded)
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv4Address) and address in _SHARED)
        or not address.is_global
    )


def check_address(host: str, address: IPAddress, allow: AllowList) -> None:
    """Raise FetchError("blocked_address") unless *host* may connect to *address*."""
    if allow.admits_name(host) or allow.admits_address(address) or is_public(address):
        return
    shown = host if normalize_host(host) == str(address) else f"{host} ({address})"
    raise FetchError(
        "blocked_address",
        f"refusing to connect to {shown}: not a public address (add it to fetch_allow "
        "to permit it)",
    )


def _lookup_words(exc: BaseException) -> str:
    """A failed lookup in words rather than `[Errno -2] Name or service not known`."""
    if isinstance(exc, socket.gaierror):
        if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
            return "no such host name (check the spelling)"
        if exc.errno == socket.EAI_AGAIN:
            return "the name server did not answer; try again later"
    return str(exc)


def resolve(host: str, port: int, timeout: float) -> list[IPAddress]:
    """Every address *host* resolves to, giving up after *timeout* seconds."""
    bare = normalize_host(host)
    try:
        return [ipaddress.ip_address(bare)]
    except ValueError:
        pass
    results: list[Any] = []
    failure: list[BaseException] = []

    def lookup() -> None:
        try:
            results.extend(getaddrinfo(bare, port, type=socket.SOCK_STREAM))
        except (OSError, UnicodeError) as exc:
            failure.append(exc)

    # getaddrinfo has no timeout of its own; a daemon thread keeps the deadline honest.
    worker = threading.Thread(target=lookup, name=f"resolve {bare}", daemon=True)
    worker.start()
    worker.join(max(timeout, 0.0))
    if worker.is_alive():
        raise FetchError("timeout", f"looking up {host} took longer than the fetch deadline")
    if failure or not results:
        reason = _lookup_words(failure[0]) if failure else "it has no addresses"
        raise FetchError("dns", f"cannot resolve {host}: {reason}")
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canon, sockaddr in results:
        # getaddrinfo keeps a zone id in the string (fe80::1%eth0); drop it to parse.
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


class Deadline:
    """A monotonic instant shared by every network operation of one fetch."""

    def __init__(self, seconds: float) -> None:
        self.total = seconds
        self.expires = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.expires - time.monotonic()

    def bound(self, timeout: float | None) -> float:
        """The smaller of *timeout* and the time left; raises once nothing is left."""
        left = self.remaining()
        if left <= 0:
            raise FetchError("timeout", f"no complete response within {self.total:g} s")
        return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, deadline: Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._deadline.bound(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._deadline.bound(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname, self._deadline.bound(timeout))
        return _DeadlineStream(inner, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """Resolve once, check every address, connect to a checked address, keep the deadline."""

    def __init__(self, allow: AllowList, deadline: Deadline) -> None:
        self._allow = allow
        self._deadline = deadline
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = resolve(host, port, self._deadline.bound(timeout))
        # One bad answer refuses the name: trying only the good ones would let a
        # round-robin record alternate between a public and a private address.
        for address in addresses:
            check_address(host, address, self._allow)
        last_error: Exception | None = None
        for address in addresses:
            try:
                stream = self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=self._deadline.bound(timeout),
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
                continue
            return _DeadlineStream(stream, self._deadline)
        assert last_error is not None
        raise last_error

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        raise FetchError("blocked_address", "unix sockets are never fetched")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)
