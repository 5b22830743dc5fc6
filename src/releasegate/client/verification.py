"""Verify and heartbeat (client-api.md §3): may this license run, and on this device?"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.branches import repository as branches
from releasegate.client import standing
from releasegate.client.errors import EmptyBranch, UnknownBranch, VersionNotFound
from releasegate.client.limits import Endpoint, check_buckets
from releasegate.client.request_log import Trace
from releasegate.client.returned_fields import returned_data
from releasegate.client.schemas import ClientRequest
from releasegate.client.standing import Device, Holder
from releasegate.client.team_keys import private_key
from releasegate.kit.clock import utcnow
from releasegate.kit.session_key import sign_challenge
from releasegate.licenses import repository as licenses
from releasegate.licenses.errors import LicenseNotFound
from releasegate.releases import repository as releases
from releasegate.releases.models import Release
from releasegate.runtime import Runtime
from releasegate.teams import repository as teams
from releasegate.teams.errors import TeamNotFound
from releasegate.teams.models import Team

SUCCESS_DETAILS = {"verify": "License is valid", "heartbeat": "License heartbeat successful"}


@dataclass(frozen=True)
class Verified:
    data: dict[str, object] | None
    challenge_response: str | None
    details: str


async def load_holder(
    session: AsyncSession, runtime: Runtime, team_id: uuid.UUID, license_key: str, trace: Trace
) -> Holder:
    """Rows 8–9: the live team, then the license found by its HMAC lookup only."""
    team = await teams.live_team(session, team_id)
    if team is None:
        raise TeamNotFound()
    trace.team_id = team.id
    return await load_license(session, runtime, team, license_key, trace)


async def load_license(
    session: AsyncSession, runtime: Runtime, team: Team, license_key: str, trace: Trace
) -> Holder:
    lookup = runtime.keyring.license_lookup(license_key, str(team.id))
    license = await licenses.by_lookup(session, team.id, lookup)
    if license is None:
        raise LicenseNotFound()
    trace.license_id = license.id
    customer_ids, product_ids = await licenses.links_of(session, license.id)
    return Holder(team, license, customer_ids, product_ids)


async def _release_to_touch(
    session: AsyncSession,
    team_id: uuid.UUID,
    product_id: uuid.UUID,
    request: ClientRequest,
    strict: bool,
) -> Release | None:
    """Rows 19–21 over release set R (PUBLISHED, in one branch); returns the release whose
    lastSeenAt the success sets. Each question is one indexed lookup, whatever R's size."""
    branch_id: uuid.UUID | None = None
    if request.branch is not None:
        branch = await branches.named(session, product_id, request.branch)
        if branch is None:
            raise UnknownBranch()
        branch_id = branch.id
    if request.version is not None:
        match = await releases.published_version(
            session, team_id, product_id, branch_id, request.version
        )
        if match is not None:
            return match
    latest = (
        None
        if request.version is not None
        else await releases.current_latest(session, product_id, branch_id)
    )
    if latest is not None and not strict:
        return latest  # latest ⇒ PUBLISHED (I3), so R is not empty
    if not await releases.any_published(session, product_id, branch_id):
        if request.branch is not None:
            raise EmptyBranch()
        return None
    if (strict and request.version is None) or request.version is not None:
        raise VersionNotFound()
    return latest


async def verify(
    runtime: Runtime,
    endpoint: Endpoint,
    team_id: uuid.UUID,
    request: ClientRequest,
    device: Device,
    trace: Trace,
) -> Verified:
    """Rows 6–22 of §3.2 in order, then the success transaction (§3.4)."""
    lookup = runtime.keyring.license_lookup(request.license_key, str(team_id))
    await check_buckets(runtime, endpoint, team_id, lookup, device.ip)
    now = utcnow()
    async with runtime.database.read() as session:
        holder = await load_holder(session, runtime, team_id, request.license_key, trace)
        standing.check_customer(holder, request, trace)
        product_id = standing.check_product(holder, request, trace)
        standing.check_term(holder.license, now)
        await standing.check_limits(session, holder, device, now, trace)
        release = None
        if product_id is not None:
            release = await _release_to_touch(
                session, team_id, product_id, request, holder.team.strict_releases
            )
        ciphertext = None
        if request.challenge is not None:
            ciphertext = await teams.private_key_ciphertext(session, team_id)
    if release is not None:
        trace.release_id = release.id
    async with runtime.database.write() as session:
        license = await standing.commit_success(
            session, holder, device, None if release is None else release.id, now, trace
        )
        data = await returned_data(session, holder.team, license, request.branch)
    signature = None
    if request.challenge is not None and ciphertext is not None:
        key = private_key(runtime.keyring, team_id, ciphertext)
        signature = sign_challenge(key, request.challenge)
    return Verified(data, signature, SUCCESS_DETAILS[endpoint])
