"""All release SQL. Every query is scoped by team (invariant I7)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.branches.models import Branch
from releasegate.kit.clock import utcnow
from releasegate.licenses.models import License
from releasegate.products import repository as products
from releasegate.products.models import Product
from releasegate.releases.models import Release, ReleaseFile, ReleaseLicense

get_product = products.get


async def lock_products(
    session: AsyncSession, team_id: uuid.UUID, product_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Product]:
    """Lock product rows in id order, so concurrent writers never deadlock."""
    locked: dict[uuid.UUID, Product] = {}
    for product_id in sorted(set(product_ids)):
        product = await get_product(session, team_id, product_id, lock=True)
        if product is not None:
            locked[product_id] = product
    return locked


async def get_release(
    session: AsyncSession, team_id: uuid.UUID, release_id: uuid.UUID, *, lock: bool = False
) -> Release | None:
    query = select(Release).where(Release.team_id == team_id, Release.id == release_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(query)


async def branch_of_product(
    session: AsyncSession, team_id: uuid.UUID, product_id: uuid.UUID, branch_id: uuid.UUID
) -> Branch | None:
    return await session.scalar(
        select(Branch).where(
            Branch.team_id == team_id, Branch.product_id == product_id, Branch.id == branch_id
        )
    )


async def count_releases(session: AsyncSession, product_id: uuid.UUID) -> int:
    count = await session.scalar(
        select(func.count()).select_from(Release).where(Release.product_id == product_id)
    )
    return int(count or 0)


async def count_team_licenses(
    session: AsyncSession, team_id: uuid.UUID, license_ids: Sequence[uuid.UUID]
) -> int:
    count = await session.scalar(
        select(func.count(func.distinct(License.id))).where(
            License.team_id == team_id, License.id.in_(license_ids)
        )
    )
    return int(count or 0)


def _same_branch(branch_id: uuid.UUID | None):  # type: ignore[no-untyped-def]
    return Release.branch_id.is_(None) if branch_id is None else Release.branch_id == branch_id


async def version_taken(
    session: AsyncSession,
    team_id: uuid.UUID,
    product_id: uuid.UUID,
    branch_id: uuid.UUID | None,
    version: str,
    *,
    excluding: uuid.UUID | None = None,
) -> bool:
    query = select(Release.id).where(
        Release.team_id == team_id,
        Release.product_id == product_id,
        _same_branch(branch_id),
        Release.version == version,
    )
    if excluding is not None:
        query = query.where(Release.id != excluding)
    return (await session.scalar(query.limit(1))) is not None


async def current_latest(
    session: AsyncSession, product_id: uuid.UUID, branch_id: uuid.UUID | None
) -> Release | None:
    return await session.scalar(
        select(Release).where(
            Release.product_id == product_id, _same_branch(branch_id), Release.latest.is_(True)
        )
    )


async def demote_latest(
    session: AsyncSession,
    product_id: uuid.UUID,
    branch_id: uuid.UUID | None,
    *,
    keep: uuid.UUID | None = None,
) -> uuid.UUID | None:
    """Clear `latest` on the current latest of (product, branch); returns its id."""
    current = await current_latest(session, product_id, branch_id)
    if current is None or current.id == keep:
        return None
    await session.execute(
        update(Release)
        .where(Release.id == current.id)
        .values(latest=False, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return current.id


async def get_file(session: AsyncSession, release_id: uuid.UUID) -> ReleaseFile | None:
    return await session.scalar(select(ReleaseFile).where(ReleaseFile.release_id == release_id))


async def delete_file_row(session: AsyncSession, file_id: uuid.UUID) -> None:
    await session.execute(delete(ReleaseFile).where(ReleaseFile.id == file_id))


async def replace_allowed_licenses(
    session: AsyncSession, release_id: uuid.UUID, license_ids: Sequence[uuid.UUID]
) -> None:
    await session.execute(delete(ReleaseLicense).where(ReleaseLicense.release_id == release_id))
    session.add_all(
        ReleaseLicense(release_id=release_id, license_id=license_id)
        for license_id in dict.fromkeys(license_ids)
    )
    await session.flush()
