"""HWID and IP records of a license: list them, forget or remember one
(dev-api-releases.md §11.3)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from releasegate.auth.guard import Caller
from releasegate.changes import Change, record_change
from releasegate.kit.clock import iso, iso_or_none, utcnow
from releasegate.kit.envelope import Reply
from releasegate.kit.pagination import Page, PageRequest
from releasegate.licenses import device_repository as devices
from releasegate.licenses import repository as licenses
from releasegate.licenses.device_kinds import DeviceKind, DeviceRecord
from releasegate.licenses.errors import DeviceNotFound, InvalidForgotten, LicenseNotFound
from releasegate.runtime import Runtime
from releasegate.teams.models import Team

SORT_COLUMNS = {"lastSeenAt": "last_seen_at", "createdAt": "created_at"}


def device_status(kind: DeviceKind, row: DeviceRecord, team: Team, now: datetime) -> str:
    """forgotten; else active within the team's timeout (or with none), else inactive."""
    if row.forgotten:
        return "forgotten"
    minutes = kind.timeout_minutes(team)
    if minutes is None or row.last_seen_at >= now - timedelta(minutes=minutes):
        return "active"
    return "inactive"


@dataclass(frozen=True)
class DeviceView:
    kind: DeviceKind
    row: DeviceRecord
    team: Team
    now: datetime

    def to_json(self) -> dict[str, object]:
        row = self.row
        return {
            "id": str(row.id),
            self.kind.value_field: getattr(row, self.kind.value_field),
            "licenseId": str(row.license_id),
            "teamId": str(row.team_id),
            "forgotten": row.forgotten,
            "forgottenAt": iso_or_none(row.forgotten_at),
            "lastSeenAt": iso(row.last_seen_at),
            "createdAt": iso(row.created_at),
            "updatedAt": iso(row.updated_at),
            "status": device_status(self.kind, row, self.team, self.now),
        }


def forgotten_value(body: object) -> bool:
    """The PATCH body's `forgotten`; other keys are ignored, as in the reference."""
    value = body.get("forgotten") if isinstance(body, dict) else None
    if not isinstance(value, bool):
        raise InvalidForgotten()
    return value


async def list_devices(
    runtime: Runtime,
    kind: DeviceKind,
    team: Team,
    license_id: uuid.UUID,
    *,
    show_forgotten: bool,
    sort_column: str,
    request: PageRequest,
) -> Page[DeviceView]:
    """One page of a license's records; LicenseNotFound when the license is not the team's."""
    now = utcnow()
    async with runtime.database.read() as session:
        if await licenses.by_id(session, team.id, license_id) is None:
            raise LicenseNotFound()
        page = await devices.page(
            session,
            kind,
            team.id,
            license_id,
            show_forgotten=show_forgotten,
            sort_column=SORT_COLUMNS[sort_column],
            request=request,
        )
    views = [DeviceView(kind, row, team, now) for row in page.rows]
    return Page(views, page.has_next, page.total)


async def set_forgotten(
    runtime: Runtime,
    caller: Caller,
    kind: DeviceKind,
    license_id: uuid.UUID,
    record_id: uuid.UUID,
    forgotten: bool,
    request_body: object,
) -> Reply[uuid.UUID]:
    """Forget (forgottenAt = now) or remember (null); a repeat changes and audits nothing."""
    team = caller.team
    verb = "forgotten" if forgotten else "remembered"
    async with runtime.database.write() as session:
        row = await devices.for_update(session, kind, team.id, license_id, record_id)
        if row is None:
            raise DeviceNotFound(kind.noun)
        reply = Reply(
            row.id,
            {kind.id_field: str(row.id), "forgotten": forgotten},
            f"{kind.noun} {verb} successfully",
        )
        if row.forgotten != forgotten:
            now = utcnow()
            row.forgotten = forgotten
            row.forgotten_at = now if forgotten else None
            row.updated_at = now
            await session.flush()
            await record_change(
                session,
                runtime,
                Change(
                    team.id,
                    caller.actor,
                    f"{'FORGET' if forgotten else 'REMEMBER'}_{kind.audit_action_suffix}",
                    kind.target_type,
                    row.id,
                    request=request_body,
                    response=reply.envelope(),
                ),
            )
    return reply
