from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.customers.models import Customer
from releasegate.licenses.models import License, LicenseCustomer, LicenseProduct
from releasegate.products.models import Product


async def by_lookup(session: AsyncSession, team_id: uuid.UUID, lookup: str) -> License | None:
    return await session.scalar(
        select(License).where(License.team_id == team_id, License.key_lookup == lookup)
    )


async def by_id(session: AsyncSession, team_id: uuid.UUID, license_id: uuid.UUID) -> License | None:
    return await session.scalar(
        select(License).where(License.team_id == team_id, License.id == license_id)
    )


async def count(session: AsyncSession, team_id: uuid.UUID) -> int:
    return int((await session.scalar(select(func.count()).where(License.team_id == team_id))) or 0)


async def all_team_products(
    session: AsyncSession, team_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> bool:
    """True when every listed id is a distinct product of this team."""
    if not ids:
        return True
    found = await session.scalar(
        select(func.count()).where(Product.team_id == team_id, Product.id.in_(ids))
    )
    return int(found or 0) == len(ids) == len(set(ids))


async def all_team_customers(
    session: AsyncSession, team_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> bool:
    if not ids:
        return True
    found = await session.scalar(
        select(func.count()).where(Customer.team_id == team_id, Customer.id.in_(ids))
    )
    return int(found or 0) == len(ids) == len(set(ids))


async def replace_links(
    session: AsyncSession,
    license_id: uuid.UUID,
    product_ids: Sequence[uuid.UUID],
    customer_ids: Sequence[uuid.UUID],
) -> None:
    await session.execute(delete(LicenseProduct).where(LicenseProduct.license_id == license_id))
    await session.execute(delete(LicenseCustomer).where(LicenseCustomer.license_id == license_id))
    session.add_all(LicenseProduct(license_id=license_id, product_id=pid) for pid in product_ids)
    session.add_all(LicenseCustomer(license_id=license_id, customer_id=cid) for cid in customer_ids)
    await session.flush()


async def linked_products(session: AsyncSession, license_id: uuid.UUID) -> list[Product]:
    rows = await session.scalars(
        select(Product)
        .join(LicenseProduct, LicenseProduct.product_id == Product.id)
        .where(LicenseProduct.license_id == license_id)
        .order_by(Product.created_at, Product.id)
    )
    return list(rows)


async def linked_customers(session: AsyncSession, license_id: uuid.UUID) -> list[Customer]:
    rows = await session.scalars(
        select(Customer)
        .join(LicenseCustomer, LicenseCustomer.customer_id == Customer.id)
        .where(LicenseCustomer.license_id == license_id)
        .order_by(Customer.created_at, Customer.id)
    )
    return list(rows)
