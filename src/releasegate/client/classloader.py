"""The classloader: a license-checked, encrypted download of one release file (client-api.md §4).

Every license-standing check (rows 9–18) runs before any release question (rows 19–25), the
stored object is opened before the success transaction (row 26 before 27), and the body is
encrypted frame by frame while the object streams from storage.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.branches import repository as branches
from releasegate.client import standing
from releasegate.client.errors import (
    ClassloaderNotAllowed,
    EmptyBranch,
    InvalidSessionKey,
    NoAccessToRelease,
    ReleaseArchived,
    ReleaseIsDraft,
    UnknownBranch,
)
from releasegate.client.limits import check_buckets, claim_session_secret
from releasegate.client.request_log import Trace
from releasegate.client.schemas import ClientRequest
from releasegate.client.standing import Device
from releasegate.client.team_keys import private_key
from releasegate.client.verification import load_license
from releasegate.files.models import ReleaseFile
from releasegate.files.reading import open_stored
from releasegate.kit.clock import iso, utcnow
from releasegate.kit.session_key import (
    UnreadableSessionKey,
    content_key,
    open_session_key,
    secret_hex,
)
from releasegate.kit.stream_cipher import encrypt_stream, encrypted_length
from releasegate.products import repository as products
from releasegate.releases import repository as releases
from releasegate.releases.errors import ReleaseNotFound
from releasegate.releases.models import Release, ReleaseStatus
from releasegate.runtime import Runtime
from releasegate.storage import OpenedObject
from releasegate.teams import repository as teams
from releasegate.teams.errors import TeamNotFound

_PERCENT_ENCODABLE = ("X-Product-Name", "X-Version", "X-Latest-Version", "X-Main-Class")


@dataclass(frozen=True)
class Delivery:
    headers: dict[str, str]
    body: AsyncIterator[bytes | memoryview]


@dataclass(frozen=True)
class Selected:
    release: Release
    file: ReleaseFile
    latest_version: str | None
    product_name: str


async def _select(
    session: AsyncSession,
    team_id: uuid.UUID,
    product_id: uuid.UUID,
    request: ClientRequest,
    license_id: uuid.UUID,
) -> Selected:
    """Rows 19–25 (§4.4): one candidate by exact version or the latest, then its status."""
    branch_id: uuid.UUID | None = None
    if request.branch is not None:
        branch = await branches.named(session, product_id, request.branch)
        if branch is None:
            raise UnknownBranch()
        if not await releases.has_downloadable(session, product_id, branch.id):
            raise EmptyBranch()
        branch_id = branch.id
    latest = await releases.downloadable(session, team_id, product_id, branch_id)
    chosen = (
        latest
        if request.version is None
        else await releases.downloadable(
            session, team_id, product_id, branch_id, version=request.version
        )
    )
    if chosen is None:
        raise ReleaseNotFound()
    release, file = chosen
    if release.status == ReleaseStatus.ARCHIVED:
        raise ReleaseArchived()
    if release.status == ReleaseStatus.DRAFT:
        raise ReleaseIsDraft()
    if not await releases.may_download(session, release.id, license_id):
        raise NoAccessToRelease()
    name = await products.name_of(session, product_id)
    return Selected(release, file, None if latest is None else latest[0].version, name)


async def _session_secret(
    runtime: Runtime, team_id: uuid.UUID, ciphertext: str, session_key: str
) -> bytes:
    """Rows 7–8: decrypt the session key, then spend its secret (replay guard)."""
    try:
        secret = open_session_key(private_key(runtime.keyring, team_id, ciphertext), session_key)
    except UnreadableSessionKey:
        raise InvalidSessionKey() from None
    await claim_session_secret(runtime, team_id, secret_hex(secret))
    return secret


async def _close(opened: OpenedObject) -> None:
    close = getattr(opened.chunks, "aclose", None)
    if close is not None:
        await close()


def _header_value(name: str, value: str, encoded: list[str]) -> str:
    """§4.6: a value outside printable ASCII goes as percent-encoded UTF-8, and is listed."""
    if all(" " <= char <= "~" for char in value):
        return value
    encoded.append(name)
    return quote(value, safe="")


def _headers(selected: Selected) -> dict[str, str]:
    release, file = selected.release, selected.file
    text = {
        "X-Version": release.version,
        "X-Latest-Version": selected.latest_version,
        "X-Main-Class": file.main_class_name,
        "X-Product-Name": selected.product_name,
    }
    headers = {
        "Content-Type": "application/octet-stream",
        "Content-Length": str(encrypted_length(file.size)),
        "Content-Security-Policy": "default-src 'none'",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
        "X-File-Size": str(file.size),
        "X-Release-Status": release.status,
        "X-Release-Created-At": iso(release.created_at),
        "X-File-Created-At": iso(file.created_at),
        "X-File-Sha256": file.sha256,
    }
    encoded: list[str] = []
    for name in _PERCENT_ENCODABLE:
        value = text[name]
        if value is not None:
            headers[name] = _header_value(name, value, encoded)
    if encoded:
        headers["X-Percent-Encoded"] = ",".join(encoded)
    return headers


async def deliver(
    runtime: Runtime,
    team_id: uuid.UUID,
    request: ClientRequest,
    device: Device,
    trace: Trace,
) -> Delivery:
    """Rows 3–27 of §4.3 in order; returns the headers and the encrypted body stream."""
    assert request.product_id is not None
    assert request.session_key is not None
    lookup = runtime.keyring.license_lookup(request.license_key, str(team_id))
    await check_buckets(runtime, "classloader", team_id, lookup, device.ip)
    async with runtime.database.read() as session:
        team = await teams.live_team(session, team_id)
        if team is None:
            raise TeamNotFound()
        trace.team_id = team.id
        if not team.allow_classloader:
            raise ClassloaderNotAllowed()
        ciphertext = await teams.private_key_ciphertext(session, team_id)
    if ciphertext is None:
        raise InvalidSessionKey()
    secret = await _session_secret(runtime, team_id, ciphertext, request.session_key)
    now = utcnow()
    async with runtime.database.read() as session:
        holder = await load_license(session, runtime, team, request.license_key, trace)
        standing.check_customer(holder, request, trace)
        standing.check_linked_product(holder, request.product_id, trace)
        standing.check_term(holder.license, now)
        await standing.check_limits(session, holder, device, now, trace)
        selected = await _select(session, team_id, request.product_id, request, holder.license.id)
    trace.release_id = selected.release.id
    trace.release_file_id = selected.file.id
    opened = await open_stored(runtime, selected.file)  # row 26, before the success
    try:
        async with runtime.database.write() as session:
            await standing.commit_success(session, holder, device, selected.release.id, now, trace)
    except BaseException:
        await _close(opened)
        raise
    body = encrypt_stream(opened.chunks, content_key(secret), runtime.frame_iv_source)
    return Delivery(_headers(selected), runtime.metrics.counted_download("classloader", body))
