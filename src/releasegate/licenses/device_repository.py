"""HWID and IP record SQL, scoped by team and license."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.kit.pagination import PageRequest
from releasegate.licenses.device_kinds import DeviceKind, DeviceRecord
from releasegate.licenses.repository import deferred_page


async def page(
    session: AsyncSession,
    kind: DeviceKind,
    team_id: uuid.UUID,
    license_id: uuid.UUID,
    *,
    show_forgotten: bool,
    sort_column: str,
    request: PageRequest,
) -> tuple[list[DeviceRecord], int]:
    model = kind.model
    conditions: list[ColumnElement[bool]] = [
        model.team_id == team_id,
        model.license_id == license_id,
    ]
    if not show_forgotten:
        conditions.append(model.forgotten.is_(false()))
    rows, total = await deferred_page(
        session, model, conditions, getattr(model, sort_column), request
    )
    return list(rows), total


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
