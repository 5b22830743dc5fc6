"""Customers are created by the admin CLI in this version (no dev API)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from releasegate.customers.models import Customer
from releasegate.kit.clock import utcnow
from releasegate.runtime import Runtime
from releasegate.teams.models import Team


async def create_customer(
    runtime: Runtime,
    team_id: uuid.UUID,
    email: str | None,
    full_name: str | None,
    username: str | None,
) -> uuid.UUID:
    async with runtime.database.write() as session:
        team = await session.get(Team, team_id)
        if team is None or team.deleted_at is not None:
            raise LookupError("team not found")
        now = utcnow()
        customer = Customer(
            id=uuid.uuid4(),
            team_id=team_id,
            email=email,
            full_name=full_name,
            username=username,
            created_at=now,
            updated_at=now,
        )
        session.add(customer)
    return customer.id


async def list_customers(runtime: Runtime, team_id: uuid.UUID) -> list[Customer]:
    async with runtime.database.read() as session:
        rows = await session.scalars(
            select(Customer).where(Customer.team_id == team_id).order_by(Customer.created_at)
        )
        return list(rows)
