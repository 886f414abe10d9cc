"""The endpoint guard: a push endpoint is a URL a user chose, so the server must not be
made to send requests to its own network (SSRF).

An endpoint must be `https` to a host whose every address is public, unless the host is
listed in `COACH_PUSH_INSECURE_HOSTS` (loopback test receivers), which then may use plain
http and any address. It is checked twice:
- when a browser subscribes (`check_endpoint`, with a DNS look-up), answering 422;
- when sending (`guarded_session`): the URL rules again, and the address the socket
  actually connected to, so a name that later resolves somewhere private (DNS
  rebinding) is refused before a byte of the request leaves.
"""
from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

MAX_ENDPOINT_LENGTH = 2048
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class EndpointRefused(ValueError):
    """The endpoint may not receive pushes; `str(exc)` says why in plain words."""


def normalise_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def insecure_set(hosts: Iterable[str] | None) -> frozenset[str]:
    return frozenset(normalise_host(h) for h in (hosts or ()) if h and h.strip())


def is_public_address(address: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True only for a globally routable unicast address (no private, loopback,
    link-local, multicast, reserved, shared or unspecified ones, including IPv4 ones
    hidden in IPv6 forms)."""
    try:
        ip = ipaddress.ip_address(str(address).split("%", 1)[0])
    except ValueError:
        return False
    if ip.version == 6:
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and not is_public_address(embedded):
            return False
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (replaceable in tests: there is no DNS offline)."""
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def check_url(url: str, insecure_hosts: frozenset[str]) -> tuple[str, str, int]:
    """The URL rules without DNS: returns (scheme, host, port) or raises EndpointRefused."""
    if not isinstance(url, str) or not url:
        raise EndpointRefused("The endpoint is missing.")
    if len(url) > MAX_ENDPOINT_LENGTH:
        raise EndpointRefused(f"The endpoint is longer than {MAX_ENDPOINT_LENGTH} characters.")
    if any(ord(c) <= 0x20 or ord(c) == 0x7F or c == "\\" for c in url):
        raise EndpointRefused("The endpoint contains spaces, control characters or backslashes.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise EndpointRefused("The endpoint is not a valid URL.") from exc
    scheme = parts.scheme.lower()
    if scheme not in {"https", "http"}:
        raise EndpointRefused("The endpoint must be an https URL.")
    if "@" in parts.netloc:
        raise EndpointRefused("The endpoint must not carry a user name or password.")
    host = normalise_host(parts.hostname or "")
    if not host:
        raise EndpointRefused("The endpoint has no host.")
    port = port or (443 if scheme == "https" else 80)
    if host in insecure_hosts:
        return scheme, host, port
    if scheme != "https":
        raise EndpointRefused("The endpoint must be an https URL.")
    if host == "localhost" or host.endswith(".localhost"):
        raise EndpointRefused("The endpoint must be a public address.")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        return scheme, host, port
    if not is_public_address(literal):
        raise EndpointRefused("The endpoint must be a public address.")
    return scheme, host, port


def check_endpoint(
    url: str, insecure_hosts: frozenset[str], resolver: Callable[[str, int], list[str]] | None = None
) -> None:
    """The full check at subscription time: URL rules, then every resolved address public."""
    _scheme, host, port = check_url(url, insecure_hosts)
    if host in insecure_hosts:
        return
    try:
        ipaddress.ip_address(host)
        return  # a literal, already checked
    except ValueError:
        pass
    try:
        addresses = (resolver or resolve)(host, port)
    except (OSError, UnicodeError) as exc:
        raise EndpointRefused("The endpoint's host could not be found.") from exc
    if not addresses:
        raise EndpointRefused("The endpoint's host could not be found.")
    if not all(is_public_address(a) for a in addresses):
        raise EndpointRefused("The endpoint must be a public address.")


# --- at send time -------------------------------------------------------------------------


def _check_peer(conn, sock: socket.socket, insecure_hosts: frozenset[str]) -> socket.socket:
    if normalise_host(conn.host) in insecure_hosts:
        return sock
    try:
        peer = sock.getpeername()[0]
    except OSError:
        peer = ""
    if not is_public_address(peer):
        sock.close()
        raise EndpointRefused("The endpoint connected to a non-public address.")
    return sock


def guarded_session(insecure_hosts: Iterable[str]) -> requests.Session:
    """A requests.Session that refuses non-public peers, follows no redirects and ignores
    proxy settings from the environment (a proxy would hide the real peer)."""
    allowed = insecure_set(insecure_hosts)

    class Conn(HTTPConnection):
        def _new_conn(self):
            return _check_peer(self, super()._new_conn(), allowed)

    class TLSConn(HTTPSConnection):
        def _new_conn(self):
            return _check_peer(self, super()._new_conn(), allowed)

    class Pool(HTTPConnectionPool):
        ConnectionCls = Conn

    class TLSPool(HTTPSConnectionPool):
        ConnectionCls = TLSConn

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": Pool, "https": TLSPool}

    class Session(requests.Session):
        def request(self, *args, **kwargs):
            kwargs["allow_redirects"] = False
            return super().request(*args, **kwargs)

    session = Session()
    session.trust_env = False
    adapter = Adapter(pool_connections=4, pool_maxsize=4, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
