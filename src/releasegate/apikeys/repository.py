"""All API key SQL."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.apikeys.models import ApiKey


async def touch_last_seen(
    session: AsyncSession, key_id: uuid.UUID, now: datetime, interval: timedelta
) -> None:
    await session.execute(
        update(ApiKey)
        .where(
            ApiKey.id == key_id,
            or_(ApiKey.last_seen_at.is_(None), ApiKey.last_seen_at < now - interval),
        )
        .values(last_seen_at=now)
    )


async def count_for_team(session: AsyncSession, team_id: uuid.UUID) -> int:
    return int((await session.scalar(select(func.count()).where(ApiKey.team_id == team_id))) or 0)


async def add(session: AsyncSession, key: ApiKey) -> None:
    session.add(key)
    await session.flush()


async def delete_for_team(session: AsyncSession, team_id: uuid.UUID, key_id: uuid.UUID) -> bool:
    result = await session.execute(
        delete(ApiKey).where(ApiKey.team_id == team_id, ApiKey.id == key_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
