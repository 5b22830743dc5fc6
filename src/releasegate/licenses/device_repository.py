"""HWID and IP record SQL, scoped by team and license."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, false, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.kit.pagination import Page, PageRequest, fetch_page
from releasegate.licenses.device_kinds import IP_ADDRESS, DeviceKind, DeviceRecord
from releasegate.licenses.models import IpAddress, License


async def page(
    session: AsyncSession,
    kind: DeviceKind,
    team_id: uuid.UUID,
    license_id: uuid.UUID,
    *,
    show_forgotten: bool,
    sort_column: str,
    request: PageRequest,
) -> Page[DeviceRecord]:
    model = kind.model
    conditions: list[ColumnElement[bool]] = [
        model.team_id == team_id,
        model.license_id == license_id,
    ]
    if not show_forgotten:
        conditions.append(model.forgotten.is_(false()))
    column = getattr(model, sort_column)
    ordering = [column.desc() if request.descending else column.asc(), model.id]
    page: Page[DeviceRecord] = await fetch_page(session, model, conditions, ordering, request)
    return page


async def for_update(
    session: AsyncSession,
    kind: DeviceKind,
    team_id: uuid.UUID,
    license_id: uuid.UUID,
    record_id: uuid.UUID,
) -> DeviceRecord | None:
    model = kind.model
    query = (
        select(model)
        .where(model.team_id == team_id, model.license_id == license_id, model.id == record_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    row: DeviceRecord | None = await session.scalar(query)
    return row


async def standing(
    session: AsyncSession,
    kind: DeviceKind,
    license_id: uuid.UUID,
    value: str,
    active_since: datetime | None,
) -> tuple[int, DeviceRecord | None]:
    """How many records of the license are active, and the record of `value` if one exists."""
    model = kind.model
    active = [model.license_id == license_id, model.forgotten.is_(false())]
    if active_since is not None:
        active.append(model.last_seen_at >= active_since)
    count = await session.scalar(select(func.count()).select_from(model).where(*active))
    column = getattr(model, kind.value_field)
    record: DeviceRecord | None = await session.scalar(
        select(model).where(model.license_id == license_id, column == value)
    )
    return int(count or 0), record


async def record_seen(
    session: AsyncSession,
    license: License,
    kind: DeviceKind,
    value: str,
    now: datetime,
    country: str | None = None,
) -> uuid.UUID:
    """The device's record, created or refreshed (and remembered again) as seen `now`."""
    _, record = await standing(session, kind, license.id, value, None)
    if record is None:
        fields: dict[str, object] = {kind.value_field: value}
        if kind is IP_ADDRESS:
            fields["country"] = country
        record = kind.model(
            license_id=license.id,
            team_id=license.team_id,
            last_seen_at=now,
            created_at=now,
            updated_at=now,
            **fields,
        )
        session.add(record)
    else:
        record.last_seen_at = now
        record.forgotten = False
        record.forgotten_at = None
        record.updated_at = now
        if isinstance(record, IpAddress) and country is not None:
            record.country = country
    await session.flush()
    return record.id
