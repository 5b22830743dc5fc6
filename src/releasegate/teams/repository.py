"""Team row SQL shared by the domains that enforce a per-team cap."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.teams.models import Team


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
