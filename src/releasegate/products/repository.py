"""All product SQL. Every query is scoped by team (invariant I7)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from typing import Any, Literal

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.kit.pagination import Page, PageRequest, fetch_page
from releasegate.kit.sql_text import contains_ascii_insensitive
from releasegate.products.models import Product

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


async def lock_in_order(
    session: AsyncSession, team_id: uuid.UUID, product_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Product]:
    """Lock product rows in id order, so concurrent writers never deadlock."""
    locked: dict[uuid.UUID, Product] = {}
    for product_id in sorted(set(product_ids)):
        product = await get(session, team_id, product_id, lock=True)
        if product is not None:
            locked[product_id] = product
    return locked


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


async def page(
    session: AsyncSession,
    team_id: uuid.UUID,
    search: str | None,
    sort_column: SortColumn,
    request: PageRequest,
) -> Page[Product]:
    conditions: list[ColumnElement[bool]] = [Product.team_id == team_id]
    if search:
        conditions.append(contains_ascii_insensitive(Product.name, search))
    column = _SORT_EXPRESSIONS[sort_column]
    ordering = [column.desc() if request.descending else column.asc(), Product.id.asc()]
    return await fetch_page(session, Product, conditions, ordering, request)


async def delete_product(session: AsyncSession, team_id: uuid.UUID, product_id: uuid.UUID) -> None:
    """The product row; its releases, branches, links and metadata must be gone already."""
    await session.execute(
        delete(Product)
        .where(Product.team_id == team_id, Product.id == product_id)
        .execution_options(synchronize_session=False)
    )


async def by_ids(
    session: AsyncSession, team_id: uuid.UUID, product_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, Product]:
    rows = await session.scalars(
        select(Product).where(Product.team_id == team_id, Product.id.in_(product_ids))
    )
    return {row.id: row for row in rows}


async def name_of(session: AsyncSession, product_id: uuid.UUID) -> str:
    return str(await session.scalar(select(Product.name).where(Product.id == product_id)))
