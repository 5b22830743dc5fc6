from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.branches.models import Branch
from releasegate.kit.pagination import PageRequest
from releasegate.kit.sql_text import contains_ascii_insensitive
from releasegate.releases.models import Release


async def get(
    session: AsyncSession, team_id: uuid.UUID, branch_id: uuid.UUID, *, lock: bool = False
) -> Branch | None:
    query = select(Branch).where(Branch.team_id == team_id, Branch.id == branch_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(query)


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


async def delete_branch(session: AsyncSession, team_id: uuid.UUID, branch_id: uuid.UUID) -> None:
    await session.execute(
        delete(Branch)
        .where(Branch.team_id == team_id, Branch.id == branch_id)
        .execution_options(synchronize_session=False)
    )


def _filtered(team_id: uuid.UUID, product_id: uuid.UUID, search: str | None) -> Select[Branch]:
    query = select(Branch).where(Branch.team_id == team_id, Branch.product_id == product_id)
    if search:
        query = query.where(contains_ascii_insensitive(Branch.name, search))
    return query


async def page(
    session: AsyncSession,
    team_id: uuid.UUID,
    product_id: uuid.UUID,
    search: str | None,
    sort_column: str,
    request: PageRequest,
) -> tuple[list[Branch], int]:
    query = _filtered(team_id, product_id, search)
    total = int((await session.scalar(select(func.count()).select_from(query.subquery()))) or 0)
    column = getattr(Branch, sort_column)
    ordering = column.desc() if request.descending else column.asc()
    rows = await session.scalars(
        query.order_by(ordering, Branch.id).offset(request.offset).limit(request.page_size + 1)
    )
    return list(rows), total


async def release_counts(
    session: AsyncSession, team_id: uuid.UUID, branch_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    counts: dict[uuid.UUID, int] = dict.fromkeys(branch_ids, 0)
    if branch_ids:
        for branch_id, count in await session.execute(
            select(Release.branch_id, func.count())
            .where(Release.team_id == team_id, Release.branch_id.in_(branch_ids))
            .group_by(Release.branch_id)
        ):
            if branch_id is not None:
                counts[branch_id] = int(count)
    return counts
