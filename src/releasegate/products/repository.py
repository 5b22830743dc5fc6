"""All product SQL. Every query is scoped by team (invariant I7)."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.branches.models import Branch
from releasegate.kit.pagination import PageRequest
from releasegate.kit.sql_text import contains_ascii_insensitive
from releasegate.licenses.models import LicenseProduct
from releasegate.metadata.models import Metadata
from releasegate.products.models import Product
from releasegate.releases.models import Release

SortColumn = Literal["name", "createdAt", "updatedAt"]
SORT_COLUMNS: tuple[SortColumn, ...] = ("name", "createdAt", "updatedAt")
# lower(name) is unique per team and rides uq_products_team_id_name.
_SORT_EXPRESSIONS: dict[SortColumn, Any] = {
    "name": func.lower(Product.name),
    "createdAt": Product.created_at,
    "updatedAt": Product.updated_at,
}


async def get(
    session: AsyncSession, team_id: uuid.UUID, product_id: uuid.UUID, *, lock: bool = False
) -> Product | None:
    query = select(Product).where(Product.team_id == team_id, Product.id == product_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(query)


async def count(session: AsyncSession, team_id: uuid.UUID) -> int:
    return int((await session.scalar(select(func.count()).where(Product.team_id == team_id))) or 0)


async def name_taken(
    session: AsyncSession, team_id: uuid.UUID, name: str, *, excluding: uuid.UUID | None = None
) -> bool:
    """Names compare ASCII case-insensitively (they are ASCII by pattern)."""
    query = select(Product.id).where(
        Product.team_id == team_id, func.lower(Product.name) == name.lower()
    )
    if excluding is not None:
        query = query.where(Product.id != excluding)
    return (await session.scalar(query.limit(1))) is not None


def _conditions(team_id: uuid.UUID, search: str | None) -> list[ColumnElement[bool]]:
    conditions = [Product.team_id == team_id]
    if search:
        conditions.append(contains_ascii_insensitive(Product.name, search))
    return conditions


async def page(
    session: AsyncSession,
    team_id: uuid.UUID,
    search: str | None,
    sort_column: SortColumn,
    request: PageRequest,
) -> tuple[list[Product], int]:
    """One page (`page_size + 1` rows) and the number of matching rows.

    Deferred join: the OFFSET/LIMIT walk selects ids only, along an index that starts with
    team_id; the page's full rows are then joined by id.
    """
    conditions = _conditions(team_id, search)
    total = await session.scalar(select(func.count()).select_from(Product).where(*conditions))
    column = _SORT_EXPRESSIONS[sort_column]
    ordering = [column.desc() if request.descending else column.asc(), Product.id.asc()]
    page_ids = (
        select(Product.id)
        .where(*conditions)
        .order_by(*ordering)
        .offset(request.offset)
        .limit(request.page_size + 1)
        .subquery()
    )
    rows = await session.scalars(
        select(Product).join(page_ids, Product.id == page_ids.c.id).order_by(*ordering)
    )
    return list(rows), int(total or 0)


async def has_releases(session: AsyncSession, team_id: uuid.UUID, product_id: uuid.UUID) -> bool:
    found = await session.scalar(
        select(Release.id)
        .where(Release.team_id == team_id, Release.product_id == product_id)
        .limit(1)
    )
    return found is not None


async def delete_product(
    session: AsyncSession, team_id: uuid.UUID, product_id: uuid.UUID
) -> list[uuid.UUID]:
    """The product with its branches, license links and metadata; its releases must be gone.

    Returns the deleted branch ids, ascending. Licenses themselves remain.
    """
    branch_ids = sorted(
        await session.scalars(
            select(Branch.id).where(Branch.team_id == team_id, Branch.product_id == product_id)
        )
    )
    await session.execute(
        delete(Branch).where(Branch.team_id == team_id, Branch.product_id == product_id)
    )
    await session.execute(delete(LicenseProduct).where(LicenseProduct.product_id == product_id))
    await session.execute(
        delete(Metadata).where(Metadata.team_id == team_id, Metadata.product_id == product_id)
    )
    await session.execute(
        delete(Product)
        .where(Product.team_id == team_id, Product.id == product_id)
        .execution_options(synchronize_session=False)
    )
    return branch_ids
