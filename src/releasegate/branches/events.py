"""Branch webhook payloads needed outside the branch endpoints (a product cascade)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.branches.models import Branch
from releasegate.branches.views import branch_json
from releasegate.webhooks.models import EventType
from releasegate.webhooks.outbox import has_subscribers


async def branch_payloads_of_product(
    session: AsyncSession, team_id: uuid.UUID, product_id: uuid.UUID
) -> list[dict[str, object]]:
    """BRANCH_DELETED payloads for a product deletion; empty when nobody listens."""
    if not await has_subscribers(session, team_id, EventType.BRANCH_DELETED):
        return []
    rows = await session.scalars(
        select(Branch)
        .where(Branch.team_id == team_id, Branch.product_id == product_id)
        .order_by(Branch.created_at, Branch.id)
    )
    return [branch_json(row) for row in rows]
