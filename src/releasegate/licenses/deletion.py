"""Deleting a license, guarded so that no restricted release silently becomes unrestricted."""

from __future__ import annotations

import uuid

from releasegate.apikeys.auth import Caller
from releasegate.audit import service as audit
from releasegate.kit.envelope import envelope
from releasegate.kit.errors import ApiError
from releasegate.licenses import repository as repo
from releasegate.licenses.events import emit_license_event
from releasegate.licenses.service import find_license, license_json
from releasegate.runtime import Runtime
from releasegate.webhooks.models import EventType

LAST_ALLOWED = "License is the last allowed license of one or more releases"


async def delete_license(
    runtime: Runtime,
    caller: Caller,
    *,
    key: str | None = None,
    license_id: uuid.UUID | None = None,
) -> dict[str, object]:
    """DELETE by key or id; 409 while it is the only license of a release's allow-list.

    The releases naming it are locked first, then the license, and the guard is evaluated
    under those locks (§1.7), so concurrent deletes cannot together empty an allow-list.
    """
    team = caller.team
    async with runtime.database.write() as session:
        found = await find_license(
            session, runtime.keyring, team.id, key=key, license_id=license_id
        )
        if found is None:
            raise ApiError(404, "License not found")
        await repo.lock_releases_listing(session, team.id, found.id)
        row = await repo.by_id(session, team.id, found.id, lock=True)
        if row is None:
            raise ApiError(404, "License not found")
        if await repo.is_last_allowed_license(session, row.id):
            raise ApiError(409, LAST_ALLOWED)
        body = envelope(
            await license_json(session, runtime.keyring, row),
            "License deleted successfully",
            valid=True,
        )
        await repo.delete_license(session, team.id, row.id)
        await audit.record(
            session,
            team_id=team.id,
            actor=caller.actor,
            action="DELETE_LICENSE",
            target_type="LICENSE",
            target_id=row.id,
            request_body=None,
            response_body=body,
        )
        await emit_license_event(session, runtime, team.id, EventType.LICENSE_DELETED, body)
    return body
