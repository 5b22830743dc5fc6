"""Signatures and headers of one delivery attempt (webhooks-and-audit.md §4).

Both signatures key HMAC-SHA256 with the UTF-8 bytes of the 64-character secret string: it is
used as text, never hex-decoded (the reference does the same).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _hmac(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def lukittu_signature(secret: str, timestamp_ms: int, body: bytes) -> str:
    """`X-Lukittu-Signature`: hex HMAC over `<timestampMs>.<body>`."""
    return _hmac(secret, str(timestamp_ms).encode("ascii") + b"." + body).hex()


def standard_signature(secret: str, webhook_id: str, timestamp_s: int, body: bytes) -> str:
    """`webhook-signature` (Standard Webhooks): `v1,` + base64 HMAC over `<id>.<ts>.<body>`."""
    message = f"{webhook_id}.{timestamp_s}.".encode() + body
    return "v1," + base64.b64encode(_hmac(secret, message)).decode("ascii")


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the Unix epoch, in exact integer arithmetic."""
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def delivery_headers(
    *,
    secret: str,
    event_id: uuid.UUID,
    event_type: str,
    attempt: int,
    body: bytes,
    user_agent: str,
    sent_at: datetime,
) -> dict[str, str]:
    """Every §4 header of one attempt, signed at `sent_at`."""
    timestamp_ms = epoch_ms(sent_at)
    timestamp_s = timestamp_ms // 1000
    webhook_id = str(event_id)
    return {
        "Content-Type": "application/json",
        "User-Agent": user_agent,
        "X-Lukittu-Signature": lukittu_signature(secret, timestamp_ms, body),
        "X-Lukittu-Timestamp": str(timestamp_ms),
        "X-Lukittu-Event": event_type,
        "X-Releasegate-Event-Id": webhook_id,
        "X-Releasegate-Attempt": str(attempt),
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp_s),
        "webhook-signature": standard_signature(secret, webhook_id, timestamp_s, body),
    }
