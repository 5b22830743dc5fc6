"""All branch SQL. Every query is scoped by team (invariant I7)."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.branches.models import Branch
from releasegate.kit.pagination import Page, PageRequest, fetch_page
from releasegate.kit.sql_text import contains_ascii_insensitive


async def get(
    session: AsyncSession, team_id: uuid.UUID, branch_id: uuid.UUID, *, lock: bool = False
) -> Branch | None:
    query = select(Branch).where(Branch.team_id == team_id, Branch.id == branch_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(query)


async def get_of_product(
    session: AsyncSession, team_id: uuid.UUID, product_id: uuid.UUID, branch_id: uuid.UUID
) -> Branch | None:
    return await session.scalar(
        select(Branch).where(
            Branch.team_id == team_id, Branch.product_id == product_id, Branch.id == branch_id
        )
    )


async def by_ids(
    session: AsyncSession, team_id: uuid.UUID, branch_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, Branch]:
    if not branch_ids:
        return {}
    rows = await session.scalars(
        select(Branch).where(Branch.team_id == team_id, Branch.id.in_(branch_ids))
    )
    return {row.id: row for row in rows}


async def of_product(
    session: AsyncSession, team_id: uuid.UUID, product_id: uuid.UUID
) -> list[Branch]:
    """The product's branches, oldest first."""
    rows = await session.scalars(
        select(Branch)
        .where(Branch.team_id == team_id, Branch.product_id == product_id)
        .order_by(Branch.created_at, Branch.id)
    )
    return list(rows)


async def count_for_product(
    session: AsyncSession, team_id: uuid.UUID, product_id: uuid.UUID
) -> int:
    count = await session.scalar(
        select(func.count()).where(Branch.team_id == team_id, Branch.product_id == product_id)
    )
    return int(count or 0)


async def name_taken(
    session: AsyncSession,
    team_id: uuid.UUID,
    product_id: uuid.UUID,
    name: str,
    *,
    excluding: uuid.UUID | None = None,
) -> bool:
    query = select(Branch.id).where(
        Branch.team_id == team_id, Branch.product_id == product_id, Branch.name == name
    )
    if excluding is not None:
        query = query.where(Branch.id != excluding)
    return (await session.scalar(query.limit(1))) is not None


async def delete_branches(
    session: AsyncSession, team_id: uuid.UUID, branch_ids: Collection[uuid.UUID]
) -> None:
    if not branch_ids:
        return
    await session.execute(
        delete(Branch)
        .where(Branch.team_id == team_id, Branch.id.in_(branch_ids))
        .execution_options(synchronize_session=False)
    )


async def page(
    session: AsyncSession,
    team_id: uuid.UUID,
    product_id: uuid.UUID,
    search: str | None,
    sort_column: str,
    request: PageRequest,
) -> Page[Branch]:
    conditions: list[ColumnElement[bool]] = [
        Branch.team_id == team_id,
        Branch.product_id == product_id,
    ]
    if search:
        conditions.append(contains_ascii_insensitive(Branch.name, search))
    column = getattr(Branch, sort_column)
    ordering = [column.desc() if request.descending else column.asc(), Branch.id]
    return await fetch_page(session, Branch, conditions, ordering, request)


async def named(session: AsyncSession, product_id: uuid.UUID, name: str) -> Branch | None:
    """The product's branch with this exact name (clients address branches by name)."""
    query = select(Branch).where(Branch.product_id == product_id, Branch.name == name)
    return await session.scalar(query)
