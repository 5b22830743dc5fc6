"""Team rows and their key pairs."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.teams.models import Team, TeamKeyPair


async def lock_team(session: AsyncSession, team_id: uuid.UUID) -> Team | None:
    """The team row, locked and freshly read.

    Every count-then-insert against a team cap (products, licenses, API keys, webhooks) takes
    this lock first, so concurrent creates on PostgreSQL cannot all pass the count (SQLite
    write transactions are serial already). `FOR NO KEY UPDATE` on PostgreSQL: cap counts queue
    behind each other, but inserts elsewhere that merely reference the team (their foreign-key
    check takes `FOR KEY SHARE`) do not wait.
    """
    query = select(Team).where(Team.id == team_id).with_for_update(key_share=True)
    return await session.scalar(query.execution_options(populate_existing=True))


async def live_team(session: AsyncSession, team_id: uuid.UUID) -> Team | None:
    """The team unless it is unknown or deleted."""
    team = await session.get(Team, team_id)
    return team if team is not None and team.deleted_at is None else None


async def add_team(session: AsyncSession, team: Team, key_pair: TeamKeyPair) -> None:
    session.add(team)
    await session.flush()
    session.add(key_pair)
    await session.flush()


async def key_pair(session: AsyncSession, team_id: uuid.UUID) -> TeamKeyPair | None:
    return await session.scalar(select(TeamKeyPair).where(TeamKeyPair.team_id == team_id))


async def private_key_ciphertext(session: AsyncSession, team_id: uuid.UUID) -> str | None:
    query = select(TeamKeyPair.private_key_ciphertext).where(TeamKeyPair.team_id == team_id)
    return await session.scalar(query)
