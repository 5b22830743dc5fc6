"""All release SQL. Every query is scoped by team (invariant I7)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.branches.models import Branch
from releasegate.kit.clock import utcnow
from releasegate.kit.pagination import PageRequest
from releasegate.kit.sql_text import contains_ascii_insensitive
from releasegate.licenses.models import License
from releasegate.metadata.models import Metadata
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
    session: AsyncSession,
    team_id: uuid.UUID,
    license_ids: Sequence[uuid.UUID],
    *,
    lock: bool = False,
) -> int:
    """Distinct team licenses among the ids; with `lock`, share-locked in id order so a
    concurrent license delete cannot break the allow-list insert (§1.7)."""
    query = (
        select(License.id)
        .where(License.team_id == team_id, License.id.in_(license_ids))
        .order_by(License.id)
    )
    if lock:
        query = query.with_for_update(read=True)
    return len(set(await session.scalars(query)))


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


async def has_allowed_licenses(session: AsyncSession, release_id: uuid.UUID) -> bool:
    found = await session.scalar(
        select(ReleaseLicense.license_id).where(ReleaseLicense.release_id == release_id).limit(1)
    )
    return found is not None


async def delete_release(session: AsyncSession, team_id: uuid.UUID, release_id: uuid.UUID) -> None:
    """The release row with its metadata, allowed-license links and file row."""
    await session.execute(
        delete(Metadata).where(Metadata.team_id == team_id, Metadata.release_id == release_id)
    )
    await session.execute(delete(ReleaseLicense).where(ReleaseLicense.release_id == release_id))
    await session.execute(delete(ReleaseFile).where(ReleaseFile.release_id == release_id))
    await session.execute(
        delete(Release)
        .where(Release.team_id == team_id, Release.id == release_id)
        .execution_options(synchronize_session=False)
    )


def _releases_of_product(team_id: uuid.UUID, product_id: uuid.UUID) -> Select[uuid.UUID]:
    return select(Release.id).where(Release.team_id == team_id, Release.product_id == product_id)


async def delete_releases_of_product(
    session: AsyncSession, team_id: uuid.UUID, product_id: uuid.UUID
) -> tuple[list[uuid.UUID], list[ReleaseFile]]:
    """Every release of the product, with metadata, links and file rows.

    Returns the deleted release ids (ascending) and the deleted file rows.
    """
    ids = sorted(await session.scalars(_releases_of_product(team_id, product_id)))
    files = list(
        await session.scalars(
            select(ReleaseFile)
            .where(ReleaseFile.release_id.in_(_releases_of_product(team_id, product_id)))
            .order_by(ReleaseFile.id)
        )
    )
    await session.execute(
        delete(Metadata).where(
            Metadata.team_id == team_id,
            Metadata.release_id.in_(_releases_of_product(team_id, product_id)),
        )
    )
    for table in (ReleaseLicense, ReleaseFile):
        await session.execute(
            delete(table).where(table.release_id.in_(_releases_of_product(team_id, product_id)))
        )
    await session.execute(
        delete(Release)
        .where(Release.team_id == team_id, Release.product_id == product_id)
        .execution_options(synchronize_session=False)
    )
    return ids, files


# --- List ------------------------------------------------------------------------------------

SortColumn = Literal["version", "createdAt", "updatedAt", "latest"]
SORT_COLUMNS: tuple[SortColumn, ...] = ("version", "createdAt", "updatedAt", "latest")
_SORT_EXPRESSIONS: dict[SortColumn, Any] = {
    "version": Release.version_sort_key,
    "createdAt": Release.created_at,
    "updatedAt": Release.updated_at,
    "latest": Release.latest,
}
DEFAULT_BRANCH: Literal["default"] = "default"


@dataclass(frozen=True)
class ReleaseFilter:
    """What the list shows: one product, optionally one branch, status and version substring."""

    product_id: uuid.UUID
    branch: uuid.UUID | Literal["default"] | None  # None: every branch
    status: str | None
    search: str | None


def _conditions(team_id: uuid.UUID, where: ReleaseFilter) -> list[ColumnElement[bool]]:
    conditions = [Release.team_id == team_id, Release.product_id == where.product_id]
    if where.branch == DEFAULT_BRANCH:
        conditions.append(Release.branch_id.is_(None))
    elif where.branch is not None:
        conditions.append(Release.branch_id == where.branch)
    if where.status is not None:
        conditions.append(Release.status == where.status)
    if where.search:
        conditions.append(contains_ascii_insensitive(Release.version, where.search))
    return conditions


def _ordering(sort_column: SortColumn, descending: bool) -> list[Any]:
    """The sort column, then ties by createdAt descending and id ascending (deterministic)."""
    column = _SORT_EXPRESSIONS[sort_column]
    ordering = [column.desc() if descending else column.asc()]
    if sort_column != "createdAt":
        ordering.append(Release.created_at.desc())
    return [*ordering, Release.id.asc()]


async def page_releases(
    session: AsyncSession,
    team_id: uuid.UUID,
    where: ReleaseFilter,
    sort_column: SortColumn,
    page: PageRequest,
) -> tuple[list[Release], int]:
    """One page (`page_size + 1` rows) and the number of matching rows.

    Deferred join: the OFFSET/LIMIT walk selects ids only, along an index that starts with
    product_id; the page's full rows are then joined by id.
    """
    conditions = _conditions(team_id, where)
    total = await session.scalar(select(func.count()).select_from(Release).where(*conditions))
    ordering = _ordering(sort_column, page.descending)
    page_ids = (
        select(Release.id)
        .where(*conditions)
        .order_by(*ordering)
        .offset(page.offset)
        .limit(page.page_size + 1)
        .subquery()
    )
    rows = await session.scalars(
        select(Release).join(page_ids, Release.id == page_ids.c.id).order_by(*ordering)
    )
    return list(rows), int(total or 0)
