"""Suspend and unsuspend: idempotent, audited only when the state changes."""

from __future__ import annotations

import uuid

from releasegate.apikeys.auth import Caller
from releasegate.audit import service as audit
from releasegate.kit.clock import utcnow
from releasegate.kit.envelope import envelope
from releasegate.kit.errors import ApiError
from releasegate.licenses import repository as repo
from releasegate.licenses.events import emit_license_event
from releasegate.licenses.service import license_json
from releasegate.runtime import Runtime
from releasegate.webhooks.models import EventType


async def set_suspended(
    runtime: Runtime, caller: Caller, license_id: uuid.UUID, suspended: bool
) -> dict[str, object]:
    """Set `suspended`; the License either way, an audit row only when it changed.

    The row lock makes two concurrent suspends write one audit row, not two.
    """
    team = caller.team
    async with runtime.database.write() as session:
        row = await repo.by_id(session, team.id, license_id, lock=True)
        if row is None:
            raise ApiError(404, "License not found")
        changed = row.suspended != suspended
        if changed:
            row.suspended = suspended
            row.updated_at = utcnow()
            await session.flush()
        body = envelope(
            await license_json(session, runtime.keyring, row),
            "License suspended" if suspended else "License unsuspended",
            valid=True,
        )
        if changed:
            await audit.record(
                session,
                team_id=team.id,
                actor=caller.actor,
                action="SUSPEND_LICENSE" if suspended else "UNSUSPEND_LICENSE",
                target_type="LICENSE",
                target_id=row.id,
                request_body=None,
                response_body=body,
            )
            await emit_license_event(session, runtime, team.id, EventType.LICENSE_UPDATED, body)
    return body
