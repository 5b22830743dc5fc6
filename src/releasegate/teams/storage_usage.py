"""The per-team storage counter: one conditional atomic update per change (§10)."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.teams.models import TeamStorageUsage


async def current_usage(session: AsyncSession, team_id: uuid.UUID) -> int:
    used = await session.scalar(
        select(TeamStorageUsage.used_bytes).where(TeamStorageUsage.team_id == team_id)
    )
    return int(used or 0)


async def apply_delta(session: AsyncSession, team_id: uuid.UUID, delta: int, quota: int) -> bool:
    """Add `delta` unless it would cross a non-zero quota; a negative delta always applies."""
    if delta == 0:
        return True
    condition: ColumnElement[bool] = (
        true() if delta < 0 or quota == 0 else TeamStorageUsage.used_bytes + delta <= quota
    )
    result = await session.execute(
        update(TeamStorageUsage)
        .where(TeamStorageUsage.team_id == team_id, condition)
        .values(used_bytes=TeamStorageUsage.used_bytes + delta)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
