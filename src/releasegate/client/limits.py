"""Client rate limits, trusted sources and the session-key replay guard (client-api.md §2)."""

from __future__ import annotations

import uuid
from typing import Literal

from releasegate.client.errors import ClientRateLimited
from releasegate.kit.ratelimit import LimiterUnavailable, ServiceUnavailable
from releasegate.runtime import Runtime

Endpoint = Literal["verify", "heartbeat", "classloader"]
REPLAY_WINDOW_SECONDS = 900


def is_trusted(runtime: Runtime, team_id: uuid.UUID, lookup: str) -> bool:
    """Both the key and the team are listed (security-and-limits.md §3.5)."""
    return f"{team_id}:{lookup}" in runtime.trusted_license_lookups


async def check_buckets(
    runtime: Runtime, endpoint: Endpoint, team_id: uuid.UUID, lookup: str, ip: str
) -> None:
    """Rows 6–7 (verify/heartbeat) and 3–4 (classloader): the IP bucket, then the license's.

    The license bucket is keyed by the HMAC lookup, never by the key itself.
    """
    if is_trusted(runtime, team_id, lookup):
        return
    await runtime.charge(f"client.{endpoint}.ip", ip, ClientRateLimited)
    await runtime.charge(f"client.{endpoint}.license", f"{team_id}:{lookup}", ClientRateLimited)


async def claim_session_secret(runtime: Runtime, team_id: uuid.UUID, secret_hex: str) -> None:
    """Row 8: a session secret is good for one request per team in 900 s.

    Always enforced (trusted sources too) and always fails closed. Not rolled back when a later
    check fails: it is a security control, not a side effect.
    """
    marker = runtime.keyring.replay_marker(secret_hex)
    try:
        decision = await runtime.limiter.hit(
            f"rg:replay:{team_id}:{marker}", 1, REPLAY_WINDOW_SECONDS
        )
    except LimiterUnavailable:
        raise ServiceUnavailable() from None
    if not decision.allowed:
        raise ClientRateLimited(decision.retry_after)
