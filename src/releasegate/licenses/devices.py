"""HWID and IP records of a license: list them, forget or remember one."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from releasegate.apikeys.auth import Caller
from releasegate.audit import service as audit
from releasegate.kit.clock import iso, iso_or_none, utcnow
from releasegate.kit.envelope import envelope
from releasegate.kit.errors import ApiError
from releasegate.kit.pagination import PageRequest, split_page
from releasegate.licenses import device_repository as devices
from releasegate.licenses import repository as licenses
from releasegate.licenses.device_kinds import DeviceKind, DeviceRecord
from releasegate.runtime import Runtime
from releasegate.teams.models import Team

SORT_COLUMNS = {"lastSeenAt": "last_seen_at", "createdAt": "created_at"}
INVALID_FORGOTTEN = "Invalid forgotten value, must be boolean"


def device_status(kind: DeviceKind, row: DeviceRecord, team: Team, now: datetime) -> str:
    """forgotten; else active within the team's timeout (or with none), else inactive."""
    if row.forgotten:
        return "forgotten"
    minutes = kind.timeout_minutes(team)
    if minutes is None or row.last_seen_at >= now - timedelta(minutes=minutes):
        return "active"
    return "inactive"


def device_json(
    kind: DeviceKind, row: DeviceRecord, team: Team, now: datetime
) -> dict[str, object]:
    return {
        "id": str(row.id),
        kind.value_field: getattr(row, kind.value_field),
        "licenseId": str(row.license_id),
        "teamId": str(row.team_id),
        "forgotten": row.forgotten,
        "forgottenAt": iso_or_none(row.forgotten_at),
        "lastSeenAt": iso(row.last_seen_at),
        "createdAt": iso(row.created_at),
        "updatedAt": iso(row.updated_at),
        "status": device_status(kind, row, team, now),
    }


def forgotten_value(body: object) -> bool:
    """The PATCH body's `forgotten`; other keys are ignored, as in the reference."""
    value = body.get("forgotten") if isinstance(body, dict) else None
    if not isinstance(value, bool):
        raise ApiError(400, INVALID_FORGOTTEN)
    return value


async def list_devices(
    runtime: Runtime,
    kind: DeviceKind,
    team: Team,
    license_id: uuid.UUID,
    *,
    show_forgotten: bool,
    sort_column: str,
    page: PageRequest,
) -> dict[str, object]:
    """One page of a license's records; 404 when the license is not the team's."""
    now = utcnow()
    async with runtime.database.read() as session:
        if await licenses.by_id(session, team.id, license_id) is None:
            raise ApiError(404, "License not found")
        rows, total = await devices.page(
            session,
            kind,
            team.id,
            license_id,
            show_forgotten=show_forgotten,
            sort_column=SORT_COLUMNS[sort_column],
            request=page,
        )
    rows, has_next = split_page(rows, page)
    return envelope(
        {
            kind.list_field: [device_json(kind, row, team, now) for row in rows],
            "totalResults": total,
            "hasNextPage": has_next,
        },
        f"{kind.plural_noun} retrieved successfully",
        valid=True,
    )


async def set_forgotten(
    runtime: Runtime,
    caller: Caller,
    kind: DeviceKind,
    license_id: uuid.UUID,
    record_id: uuid.UUID,
    forgotten: bool,
    request_body: object,
) -> dict[str, object]:
    """PATCH: forget (forgottenAt = now) or remember (null); a repeat changes and audits nothing."""
    team = caller.team
    verb = "forgotten" if forgotten else "remembered"
    async with runtime.database.write() as session:
        row = await devices.for_update(session, kind, team.id, license_id, record_id)
        if row is None:
            raise ApiError(404, f"{kind.noun} not found")
        response = envelope(
            {kind.id_field: str(row.id), "forgotten": forgotten},
            f"{kind.noun} {verb} successfully",
            valid=True,
        )
        if row.forgotten != forgotten:
            now = utcnow()
            row.forgotten = forgotten
            row.forgotten_at = now if forgotten else None
            row.updated_at = now
            await session.flush()
            await audit.record(
                session,
                team_id=team.id,
                actor=caller.actor,
                action=f"{'FORGET' if forgotten else 'REMEMBER'}_{kind.audit_action_suffix}",
                target_type=kind.target_type,
                target_id=row.id,
                request_body=request_body,
                response_body=response,
            )
    return response
