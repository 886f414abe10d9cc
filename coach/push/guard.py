"""The endpoint guard: a push endpoint is a URL a user chose, so the server must not be
made to send requests to its own network (SSRF).

An endpoint must be `https` to a host whose every address is public, unless the host is
listed in `COACH_PUSH_INSECURE_HOSTS` (loopback test receivers), which then may use plain
http and any address. It is checked twice:
- when a browser subscribes (`check_endpoint`, with a DNS look-up), answering 422;
- when sending (`guarded_client_session`): the URL rules again before every request
  (redirects are refused), and a resolver that lets the connection use only public
  addresses, so a name that later resolves somewhere private (DNS rebinding) is refused
  before a byte of the request leaves.
"""
from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from functools import lru_cache
from urllib.parse import urlsplit

from aiohttp import ClientHandlerType, ClientRequest, ClientResponse, ClientSession, DummyCookieJar, TCPConnector
from aiohttp.resolver import ThreadedResolver

MAX_ENDPOINT_LENGTH = 2048
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_UNSAFE = re.compile(r"[\x00-\x20\x7f\\]")  # spaces, controls, backslashes


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


@lru_cache(maxsize=4096)  # the tick checks each endpoint again before every request
def check_url(url: str, insecure_hosts: frozenset[str]) -> tuple[str, str, int]:
    """The URL rules without DNS: returns (scheme, host, port) or raises EndpointRefused."""
    if not isinstance(url, str) or not url:
        raise EndpointRefused("The endpoint is missing.")
    if len(url) > MAX_ENDPOINT_LENGTH:
        raise EndpointRefused(f"The endpoint is longer than {MAX_ENDPOINT_LENGTH} characters.")
    if _UNSAFE.search(url):
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


class GuardedResolver(ThreadedResolver):
    """Resolves a push host and refuses it unless every address is public: the sender
    connects only to the addresses returned here, so what is checked is what is used
    (no window for DNS rebinding). IP literals never reach a resolver; `guard_middleware`
    checks those with the URL rules."""

    def __init__(self, insecure_hosts: frozenset[str]) -> None:
        super().__init__()
        self.insecure_hosts = insecure_hosts

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET):
        results = await super().resolve(host, port, family)
        if normalise_host(host) not in self.insecure_hosts:
            if not results or not all(is_public_address(r["host"]) for r in results):
                raise EndpointRefused("The endpoint resolves to a non-public address.")
        return results


def guard_middleware(insecure_hosts: frozenset[str]):
    """An aiohttp client middleware: the URL rules before every request, and no redirects
    (a push service answers; it does not send the message elsewhere)."""

    async def middleware(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        check_url(str(request.url), insecure_hosts)
        response = await handler(request)
        if 300 <= response.status < 400:
            response.release()
            raise EndpointRefused("The push service answered with a redirect.")
        return response

    return middleware


def guarded_client_session(insecure_hosts: Iterable[str], connections: int = 16, per_host: int = 0) -> ClientSession:
    """An aiohttp.ClientSession for pushes: guarded resolver and middleware, no proxies from
    the environment (a proxy would hide the real peer), no cookies, at most `connections`
    connections and `per_host` to one host (0: no cap of its own). Create it inside the
    event loop that uses it."""
    allowed = insecure_set(insecure_hosts)
    connector = TCPConnector(
        resolver=GuardedResolver(allowed), limit=connections, limit_per_host=per_host, ttl_dns_cache=60
    )
    return ClientSession(
        connector=connector,
        middlewares=(guard_middleware(allowed),),
        trust_env=False,
        cookie_jar=DummyCookieJar(),
    )
