"""Client IP determination behind trusted proxies (security-and-limits.md §4)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

import pycountry

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_trusted_proxies(text: str) -> tuple[IPNetwork, ...]:
    """Comma list of addresses and CIDR ranges."""
    return tuple(
        ipaddress.ip_network(item.strip(), strict=False) for item in text.split(",") if item.strip()
    )


def _parse(value: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: IPAddress, proxies: Sequence[IPNetwork]) -> bool:
    return any(address in network for network in proxies)


def resolve_client_ip(
    peer: str | None,
    forwarded_for: Iterable[str],
    real_ip: str | None,
    proxies: Sequence[IPNetwork],
) -> str:
    """The canonical client IP: forwarded headers are believed only from a trusted peer."""
    peer_address = _parse(peer or "") or ipaddress.IPv4Address("0.0.0.0")  # noqa: S104
    if not _trusted(peer_address, proxies):
        return str(peer_address)
    entries = [part.strip() for header in forwarded_for for part in header.split(",")]
    entries = [entry for entry in entries if entry]
    if entries:
        parsed = [_parse(entry) for entry in entries]
        chosen: IPAddress | None = None
        valid = True
        for address in reversed(parsed):
            if address is None:
                valid = False
                break
            if not _trusted(address, proxies):
                chosen = address
                break
        if valid:
            leftmost = parsed[0]
            return str(chosen if chosen is not None else leftmost)
    if real_ip is not None:
        address = _parse(real_ip)
        if address is not None:
            return str(address)
    return str(peer_address)


def resolve_country(
    peer: str | None, header_value: str | None, proxies: Sequence[IPNetwork]
) -> str | None:
    """ISO 3166-1 alpha-3 from a trusted proxy's country header; None when unknown (§4 step 6).

    `XX`, `T1` (Cloudflare's unknown and Tor markers) and anything not a real alpha-2 code are
    unknown.
    """
    peer_address = _parse(peer or "")
    if header_value is None or peer_address is None or not _trusted(peer_address, proxies):
        return None
    code = header_value.strip().upper()
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        return None
    country = pycountry.countries.get(alpha_2=code)
    return None if country is None else str(country.alpha_3)
