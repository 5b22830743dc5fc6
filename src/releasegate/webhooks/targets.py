"""Where a delivery may connect (webhooks-and-audit.md §1): checked addresses, pinned.

The host is resolved once; every address must be public (unless the operator allows private
targets) and the request then connects to one of those addresses as an IP literal. The
original host travels in the `Host` header and, for https, as the TLS server name (SNI and
certificate verification), so a second DNS answer (rebinding) never picks the destination.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from dataclasses import dataclass

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class BlockedDestination(Exception):
    """A resolved address of the webhook's host is not public."""


class UnresolvableHost(Exception):
    """The webhook's host has no address."""


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped, 6to4 or NAT64 address leads to."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: IPAddress) -> bool:
    """False for loopback, RFC 1918, 100.64/10, ULA, link-local (169.254.169.254 too),
    multicast, unspecified, and every other reserved or non-global range."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_public(embedded)
    return address.is_global and not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
    )


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address of `host`, in the resolver's order, without repeats."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UnresolvableHost(host) from exc
    addresses: list[IPAddress] = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnresolvableHost(host)
    return addresses


@dataclass(frozen=True)
class Target:
    """A webhook URL whose host resolved to `addresses`, all of them allowed."""

    url: httpx.URL
    addresses: tuple[IPAddress, ...]

    @property
    def host(self) -> str:
        return self.url.raw_host.decode("ascii")

    def requests(
        self, client: httpx.AsyncClient, headers: dict[str, str], body: bytes
    ) -> list[httpx.Request]:
        """One POST per checked address, in order: each connects to its address as an IP
        literal and names the original host (Host header; SNI and certificate for https)."""
        extensions = {"sni_hostname": self.host} if self.url.scheme == "https" else {}
        host_header = self.url.netloc.decode("ascii")
        return [
            client.build_request(
                "POST",
                self.url.copy_with(host=str(address)),
                headers={**headers, "Host": host_header},
                content=body,
                extensions=extensions,
            )
            for address in self.addresses
        ]


async def check_target(url: str, *, allow_private: bool) -> Target:
    """Resolve the URL's host and refuse it unless every address is allowed."""
    parsed = httpx.URL(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    host = parsed.raw_host.decode("ascii")
    addresses = await resolve(host, port)
    if not allow_private and not all(is_public(address) for address in addresses):
        raise BlockedDestination(host)
    return Target(parsed, tuple(addresses))


def delivery_client(timeout: float, verify: ssl.SSLContext | bool = True) -> httpx.AsyncClient:
    """The client for pinned requests.

    No redirects; no proxies from the environment (a proxy would resolve the host itself);
    no kept-alive connections, because a connection is keyed by the IP literal and must not
    carry a request for another host name over TLS verified for the first one.
    """
    return httpx.AsyncClient(
        follow_redirects=False,
        verify=verify,
        trust_env=False,
        timeout=httpx.Timeout(timeout),
        limits=httpx.Limits(max_keepalive_connections=0),
    )
