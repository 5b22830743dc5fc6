"""Dev API guard: checks C1–C6 of dev-api-releases.md §1.3, in order."""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from starlette.requests import Request

from releasegate.apikeys import repository as apikeys
from releasegate.apikeys.tokens import hash_token, is_well_formed
from releasegate.auth import repository
from releasegate.auth.actors import Actor
from releasegate.auth.errors import ApiKeyExpired, InvalidApiKey, InvalidPathId
from releasegate.kit.client_ip import resolve_client_ip
from releasegate.kit.clock import utcnow
from releasegate.kit.errors import RateLimited
from releasegate.kit.ids import parse_uuid
from releasegate.kit.ratelimit import LimiterUnavailable, ServiceUnavailable, store_key
from releasegate.runtime import Runtime
from releasegate.teams.models import Team

_BEARER = re.compile(r"^\s*bearer +(.*)$", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Caller:
    """An authenticated dev API request."""

    team: Team
    api_key_id: uuid.UUID
    client_ip: str
    user_agent: str | None

    @property
    def actor(self) -> Actor:
        return Actor(
            source="API_KEY",
            api_key_id=self.api_key_id,
            ip_address=self.client_ip,
            user_agent=self.user_agent,
        )


def client_ip_of(runtime: Runtime, request: Request) -> str:
    peer = request.client.host if request.client else None
    return resolve_client_ip(
        peer,
        request.headers.getlist("x-forwarded-for"),
        request.headers.get("x-real-ip"),
        runtime.trusted_proxies,
    )


async def _check_lockout(runtime: Runtime, ip: str) -> None:
    limit = runtime.settings.rate_limits["auth.failure"]
    if limit is None:
        return
    try:
        count, ttl = await runtime.limiter.count(store_key("auth.failure", ip))
    except LimiterUnavailable:
        if runtime.settings.rate_limit_fail_mode == "closed":
            raise ServiceUnavailable() from None
        return
    if count >= limit.max_requests:
        raise RateLimited(ttl)


async def _auth_failure(runtime: Runtime, ip: str, refusal: InvalidApiKey) -> InvalidApiKey:
    limit = runtime.settings.rate_limits["auth.failure"]
    if limit is not None:
        with contextlib.suppress(LimiterUnavailable):
            await runtime.limiter.hit(
                store_key("auth.failure", ip), limit.max_requests, limit.window_seconds
            )
    return refusal


def parse_path_ids(team_id: str, path_ids: Sequence[tuple[str, str]]) -> list[uuid.UUID]:
    """C1 then C2: the team id, then each path id left to right."""
    team_uuid = parse_uuid(team_id)
    if team_uuid is None:
        raise InvalidPathId("teamId")
    parsed = [team_uuid]
    for name, raw in path_ids:
        value = parse_uuid(raw)
        if value is None:
            raise InvalidPathId(name)
        parsed.append(value)
    return parsed


async def authorize(
    runtime: Runtime,
    request: Request,
    team_id: uuid.UUID,
    bucket: str,
) -> Caller:
    """C3–C6 for a request whose path ids already parsed; raises a Refusal on failure."""
    ip = client_ip_of(runtime, request)
    await _check_lockout(runtime, ip)

    match = _BEARER.match(request.headers.get("authorization", ""))
    token = match.group(1).strip() if match else ""
    found = None
    # Always hash and look up, so unknown and foreign keys take the same path (§9 timing).
    well_formed = bool(token) and is_well_formed(token, runtime.settings.api_key_prefix)
    key_hash = hash_token(token)
    if well_formed:
        async with runtime.database.read() as session:
            found = await repository.key_of_team(session, key_hash, team_id)
    if found is None:
        raise await _auth_failure(runtime, ip, InvalidApiKey())
    api_key, team = found
    now = utcnow()
    if api_key.expires_at is not None and api_key.expires_at <= now:
        raise await _auth_failure(runtime, ip, ApiKeyExpired())

    await runtime.charge(bucket, str(api_key.id))

    interval = timedelta(seconds=runtime.settings.api_key_last_seen_interval)
    if api_key.last_seen_at is None or api_key.last_seen_at < now - interval:
        runtime.spawn(_touch_last_seen(runtime, api_key.id, interval))
    return Caller(team, api_key.id, ip, request.headers.get("user-agent"))


async def _touch_last_seen(runtime: Runtime, key_id: uuid.UUID, interval: timedelta) -> None:
    async with runtime.database.write() as session:
        await apikeys.touch_last_seen(session, key_id, utcnow(), interval)
