from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.products.models import Product


async def get(
    session: AsyncSession, team_id: uuid.UUID, product_id: uuid.UUID, *, lock: bool = False
) -> Product | None:
    query = select(Product).where(Product.team_id == team_id, Product.id == product_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(query)


async def count(session: AsyncSession, team_id: uuid.UUID) -> int:
    return int((await session.scalar(select(func.count()).where(Product.team_id == team_id))) or 0)


async def name_taken(session: AsyncSession, team_id: uuid.UUID, name: str) -> bool:
    found = await session.scalar(
        select(Product.id).where(
            Product.team_id == team_id, func.lower(Product.name) == name.lower()
        )
    )
    return found is not None
