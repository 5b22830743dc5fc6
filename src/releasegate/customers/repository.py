"""All customer SQL. Every query is scoped by team."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.customers.models import Customer


async def add(session: AsyncSession, customer: Customer) -> None:
    session.add(customer)
    await session.flush()


async def of_team(session: AsyncSession, team_id: uuid.UUID) -> list[Customer]:
    rows = await session.scalars(
        select(Customer).where(Customer.team_id == team_id).order_by(Customer.created_at)
    )
    return list(rows)
