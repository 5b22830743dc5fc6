"""All license SQL. Every query is scoped by team (security-and-limits.md §5, T2)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy import ColumnElement, Select, delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from releasegate.customers.models import Customer
from releasegate.db.base import Base
from releasegate.kit.pagination import PageRequest
from releasegate.licenses.models import License, LicenseCustomer, LicenseProduct
from releasegate.products.models import Product
from releasegate.releases.models import Release, ReleaseLicense

RowT = TypeVar("RowT", bound=Base)


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


async def deferred_page(
    session: AsyncSession,
    model: type[RowT],
    conditions: Sequence[ColumnElement[bool]],
    sort_column: InstrumentedAttribute[object],
    page: PageRequest,
) -> tuple[list[RowT], int]:
    """`page_size + 1` rows ordered by (sort column, id), and the count of every match.

    A deferred join: OFFSET/LIMIT walk only ids, and full rows are read for the page alone.
    """
    model_id: InstrumentedAttribute[uuid.UUID] = getattr(model, "id")  # noqa: B009
    ordering = sort_column.desc() if page.descending else sort_column.asc()
    total = await session.scalar(select(func.count()).select_from(model).where(*conditions))
    page_ids = (
        select(model_id)
        .where(*conditions)
        .order_by(ordering, model_id)
        .offset(page.offset)
        .limit(page.page_size + 1)
        .subquery()
    )
    rows = await session.scalars(
        select(model).join(page_ids, model_id == page_ids.c.id).order_by(ordering, model_id)
    )
    return list(rows), int(total or 0)


async def lock_releases_listing(
    session: AsyncSession, team_id: uuid.UUID, license_id: uuid.UUID
) -> None:
    """Lock, in id order, the releases whose allow-list names this license.

    Taken before the license lock: release writers lock the release and then reference
    licenses, so this order cannot deadlock with them, and two deletes that would together
    empty one allow-list queue on that release.
    """
    await session.execute(
        select(Release.id)
        .where(
            Release.team_id == team_id,
            Release.id.in_(
                select(ReleaseLicense.release_id).where(ReleaseLicense.license_id == license_id)
            ),
        )
        .order_by(Release.id)
        .with_for_update()
    )


async def is_last_allowed_license(session: AsyncSession, license_id: uuid.UUID) -> bool:
    """True when some release's allow-list holds this license and no other."""
    other = aliased(ReleaseLicense)
    found = await session.scalar(
        select(ReleaseLicense.release_id)
        .where(
            ReleaseLicense.license_id == license_id,
            ~exists().where(
                other.release_id == ReleaseLicense.release_id, other.license_id != license_id
            ),
        )
        .limit(1)
    )
    return found is not None


async def delete_license(session: AsyncSession, team_id: uuid.UUID, license_id: uuid.UUID) -> None:
    """Links, metadata, allow-list entries and device records go with it (ON DELETE CASCADE)."""
    await session.execute(
        delete(License).where(License.team_id == team_id, License.id == license_id)
    )
