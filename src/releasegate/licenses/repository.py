"""All license SQL. Every query is scoped by team (security-and-limits.md §5, T2)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Select, delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.customers.models import Customer
from releasegate.kit.pagination import Page, PageRequest, fetch_page
from releasegate.kit.sql_text import contains_ascii_insensitive
from releasegate.licenses.models import License, LicenseCustomer, LicenseProduct
from releasegate.licenses.schemas import LicenseFilters
from releasegate.licenses.status import status_condition
from releasegate.metadata.models import Metadata
from releasegate.products.models import Product


def _locked(query: Select[License], lock: bool) -> Select[License]:
    return query.with_for_update().execution_options(populate_existing=True) if lock else query


async def by_lookup(
    session: AsyncSession, team_id: uuid.UUID, lookup: str, *, lock: bool = False
) -> License | None:
    query = select(License).where(License.team_id == team_id, License.key_lookup == lookup)
    return await session.scalar(_locked(query, lock))


async def by_id(
    session: AsyncSession, team_id: uuid.UUID, license_id: uuid.UUID, *, lock: bool = False
) -> License | None:
    query = select(License).where(License.team_id == team_id, License.id == license_id)
    return await session.scalar(_locked(query, lock))


async def count(session: AsyncSession, team_id: uuid.UUID) -> int:
    return int((await session.scalar(select(func.count()).where(License.team_id == team_id))) or 0)


async def _all_locked(
    session: AsyncSession,
    model: type[Product] | type[Customer],
    team_id: uuid.UUID,
    ids: Sequence[uuid.UUID],
) -> bool:
    """Every listed id is a distinct row of this team, share-locked (in id order) so that a
    concurrent delete cannot remove it before the links are inserted."""
    if not ids:
        return True
    found = await session.scalars(
        select(model.id)
        .where(model.team_id == team_id, model.id.in_(ids))
        .order_by(model.id)
        .with_for_update(read=True)
    )
    return len(list(found)) == len(ids) == len(set(ids))


async def all_team_products(
    session: AsyncSession, team_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> bool:
    return await _all_locked(session, Product, team_id, ids)


async def all_team_customers(
    session: AsyncSession, team_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> bool:
    return await _all_locked(session, Customer, team_id, ids)


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


async def linked_products(
    session: AsyncSession, license_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Product]]:
    grouped: dict[uuid.UUID, list[Product]] = {license_id: [] for license_id in license_ids}
    if license_ids:
        for license_id, product in await session.execute(
            select(LicenseProduct.license_id, Product)
            .join(Product, LicenseProduct.product_id == Product.id)
            .where(LicenseProduct.license_id.in_(license_ids))
            .order_by(Product.created_at, Product.id)
        ):
            grouped[license_id].append(product)
    return grouped


async def linked_customers(
    session: AsyncSession, license_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Customer]]:
    grouped: dict[uuid.UUID, list[Customer]] = {license_id: [] for license_id in license_ids}
    if license_ids:
        for license_id, customer in await session.execute(
            select(LicenseCustomer.license_id, Customer)
            .join(Customer, LicenseCustomer.customer_id == Customer.id)
            .where(LicenseCustomer.license_id.in_(license_ids))
            .order_by(Customer.created_at, Customer.id)
        ):
            grouped[license_id].append(customer)
    return grouped


async def delete_license(session: AsyncSession, team_id: uuid.UUID, license_id: uuid.UUID) -> None:
    """Links, metadata, allow-list entries and device records go with it (ON DELETE CASCADE)."""
    await session.execute(
        delete(License).where(License.team_id == team_id, License.id == license_id)
    )


async def links_of(
    session: AsyncSession, license_id: uuid.UUID
) -> tuple[frozenset[uuid.UUID], frozenset[uuid.UUID]]:
    """The license's customer ids and product ids."""
    customers = await session.scalars(
        select(LicenseCustomer.customer_id).where(LicenseCustomer.license_id == license_id)
    )
    products = await session.scalars(
        select(LicenseProduct.product_id).where(LicenseProduct.license_id == license_id)
    )
    return frozenset(customers), frozenset(products)


async def lock_for_success(session: AsyncSession, license_id: uuid.UUID) -> License | None:
    """FOR NO KEY UPDATE: serialises client successes of one license without blocking inserts
    that merely reference it (their foreign-key checks take FOR KEY SHARE)."""
    query = (
        select(License)
        .where(License.id == license_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    return await session.scalar(query)


async def unlink_product(session: AsyncSession, product_id: uuid.UUID) -> None:
    """Every license's link to a product being deleted (the licenses themselves stay)."""
    await session.execute(delete(LicenseProduct).where(LicenseProduct.product_id == product_id))


def _conditions(
    team_id: uuid.UUID, filters: LicenseFilters, now: datetime
) -> list[ColumnElement[bool]]:
    """The list's WHERE: the team, then every filter that applies
    (dev-api-releases.md §11.3)."""
    conditions: list[ColumnElement[bool]] = [License.team_id == team_id]
    if filters.key_lookup is not None:
        conditions.append(License.key_lookup == filters.key_lookup)
    if filters.product_ids:
        conditions.append(
            exists().where(
                LicenseProduct.license_id == License.id,
                LicenseProduct.product_id.in_(filters.product_ids),
            )
        )
    if filters.customer_ids:
        conditions.append(
            exists().where(
                LicenseCustomer.license_id == License.id,
                LicenseCustomer.customer_id.in_(filters.customer_ids),
            )
        )
    if filters.metadata_key is not None and filters.metadata_value is not None:
        conditions.append(
            exists().where(
                Metadata.license_id == License.id,
                Metadata.key == filters.metadata_key,
                contains_ascii_insensitive(Metadata.value, filters.metadata_value),
            )
        )
    if filters.status is not None:
        conditions.append(status_condition(filters.status, now))
    return conditions


async def page(
    session: AsyncSession,
    team_id: uuid.UUID,
    filters: LicenseFilters,
    sort_column: str,
    now: datetime,
    request: PageRequest,
) -> Page[License]:
    """`status` is filtered against the same `now` that renders it."""
    column = getattr(License, sort_column)
    ordering = [column.desc() if request.descending else column.asc(), License.id]
    conditions = _conditions(team_id, filters, now)
    return await fetch_page(session, License, conditions, ordering, request)


async def add(session: AsyncSession, row: License) -> None:
    session.add(row)
    await session.flush()
