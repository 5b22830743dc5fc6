"""The webhook URL rule checked at creation, update and delivery (webhooks-and-audit.md §1)."""

from __future__ import annotations

from urllib.parse import urlsplit


def is_valid_webhook_url(url: str, *, allow_http: bool) -> bool:
    """Absolute, with a host, scheme `https` (or `http` when the operator allows it)."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError on a malformed port
    except ValueError:
        return False
    schemes = ("https", "http") if allow_http else ("https",)
    return (
        parts.scheme.lower() in schemes
        and bool(parts.hostname)
        and (port is None or 0 < port < 65536)
        and not any(char.isspace() for char in url)
        and url.isascii()
    )
