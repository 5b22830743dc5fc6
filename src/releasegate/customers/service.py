"""Customers are created by the admin CLI in this version (no dev API)."""

from __future__ import annotations

import uuid

from releasegate.customers import repository as repo
from releasegate.customers.models import Customer
from releasegate.kit.clock import utcnow
from releasegate.runtime import Runtime
from releasegate.teams import repository as teams
from releasegate.teams.errors import TeamNotFound


async def create_customer(
    runtime: Runtime,
    team_id: uuid.UUID,
    email: str | None,
    full_name: str | None,
    username: str | None,
) -> uuid.UUID:
    async with runtime.database.write() as session:
        if await teams.live_team(session, team_id) is None:
            raise TeamNotFound()
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
        await repo.add(session, customer)
    return customer.id


async def list_customers(runtime: Runtime, team_id: uuid.UUID) -> list[Customer]:
    async with runtime.database.read() as session:
        return await repo.of_team(session, team_id)
