"""The guard's one read: an API key with its team, in one query."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.apikeys.models import ApiKey
from releasegate.teams.models import Team


async def key_of_team(
    session: AsyncSession, key_hash: str, team_id: uuid.UUID
) -> tuple[ApiKey, Team] | None:
    """The key with this hash, only if it belongs to this live team."""
    row = (
        await session.execute(
            select(ApiKey, Team)
            .join(Team, Team.id == ApiKey.team_id)
            .where(ApiKey.key_hash == key_hash, Team.id == team_id, Team.deleted_at.is_(None))
        )
    ).first()
    return None if row is None else (row[0], row[1])
