"""All release SQL. Every query is scoped by team (invariant I7), or by an id found under it."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Uuid,
    bindparam,
    delete,
    exists,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from releasegate.branches.models import Branch
from releasegate.db.base import NIL_UUID
from releasegate.files.models import ReleaseFile
from releasegate.kit.clock import utcnow
from releasegate.kit.pagination import Page, PageRequest, fetch_page
from releasegate.kit.sql_text import contains_ascii_insensitive
from releasegate.licenses.models import License
from releasegate.releases.models import BRANCH_KEY_SQL, Release, ReleaseLicense, ReleaseStatus


async def get(
    session: AsyncSession, team_id: uuid.UUID, release_id: uuid.UUID, *, lock: bool = False
) -> Release | None:
    query = select(Release).where(Release.team_id == team_id, Release.id == release_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(query)


async def of_product(
    session: AsyncSession, team_id: uuid.UUID, product_id: uuid.UUID
) -> list[Release]:
    """Every release of the product, by id."""
    rows = await session.scalars(
        select(Release)
        .where(Release.team_id == team_id, Release.product_id == product_id)
        .order_by(Release.id)
    )
    return list(rows)


async def count_of_product(session: AsyncSession, product_id: uuid.UUID) -> int:
    count = await session.scalar(
        select(func.count()).select_from(Release).where(Release.product_id == product_id)
    )
    return int(count or 0)


async def any_of_product(session: AsyncSession, team_id: uuid.UUID, product_id: uuid.UUID) -> bool:
    found = await session.scalar(
        select(Release.id)
        .where(Release.team_id == team_id, Release.product_id == product_id)
        .limit(1)
    )
    return found is not None


async def count_by_branch(
    session: AsyncSession, team_id: uuid.UUID, branch_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """Branch id → its number of releases (0 for a branch without any)."""
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


def _same_branch(branch_id: uuid.UUID | None) -> ColumnElement[bool]:
    """The branch compared as the unique indexes key it, so that they can serve the lookup."""
    key = literal_column(BRANCH_KEY_SQL, type_=Uuid())
    if branch_id is None:
        return key == literal_column(f"'{NIL_UUID}'", type_=Uuid())
    return key == bindparam(None, branch_id, type_=Uuid())


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
        # `latest` bare, as the partial index's WHERE says it (SQLite matches it literally).
        select(Release).where(
            Release.product_id == product_id, _same_branch(branch_id), Release.latest
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


async def delete_releases(
    session: AsyncSession, team_id: uuid.UUID, release_ids: Sequence[uuid.UUID]
) -> None:
    """The release rows and their allow-lists; their files and metadata must be gone."""
    if not release_ids:
        return
    await session.execute(delete(ReleaseLicense).where(ReleaseLicense.release_id.in_(release_ids)))
    await session.execute(
        delete(Release)
        .where(Release.team_id == team_id, Release.id.in_(release_ids))
        .execution_options(synchronize_session=False)
    )


async def latest_of_products(
    session: AsyncSession, product_ids: Sequence[uuid.UUID], branch_name: str | None
) -> dict[uuid.UUID, Release]:
    """Each product's latest release in the branch named `branch_name` (resolved per product),
    or in the default branch when no name is given; one query."""
    query = select(Release).where(Release.product_id.in_(product_ids), Release.latest)
    if branch_name is None:
        query = query.where(Release.branch_id.is_(None))
    else:
        query = query.join(Branch, Release.branch_id == Branch.id).where(
            Branch.product_id == Release.product_id, Branch.name == branch_name
        )
    return {release.product_id: release for release in await session.scalars(query)}


# --- client selection (client-api.md §3.3, §4.4) ----------------------------------------------


def _in_branch(product_id: uuid.UUID, branch_id: uuid.UUID | None) -> list[ColumnElement[bool]]:
    return [Release.product_id == product_id, _same_branch(branch_id)]


async def any_published(
    session: AsyncSession, product_id: uuid.UUID, branch_id: uuid.UUID | None
) -> bool:
    """Whether release set R of verify (PUBLISHED, in one branch) has any release."""
    query = select(
        exists().where(
            *_in_branch(product_id, branch_id), Release.status == ReleaseStatus.PUBLISHED.value
        )
    )
    return bool(await session.scalar(query))


async def published_version(
    session: AsyncSession,
    team_id: uuid.UUID,
    product_id: uuid.UUID,
    branch_id: uuid.UUID | None,
    version: str,
) -> Release | None:
    """The PUBLISHED release of this exact version in the branch (uq_releases_version)."""
    return await session.scalar(
        select(Release).where(
            Release.team_id == team_id,
            *_in_branch(product_id, branch_id),
            Release.version == version,
            Release.status == ReleaseStatus.PUBLISHED.value,
        )
    )


async def has_downloadable(
    session: AsyncSession, product_id: uuid.UUID, branch_id: uuid.UUID | None
) -> bool:
    """Whether the branch has any release with a file (classloader row 20)."""
    query = select(
        exists().where(*_in_branch(product_id, branch_id), ReleaseFile.release_id == Release.id)
    )
    return bool(await session.scalar(query))


async def downloadable(
    session: AsyncSession,
    team_id: uuid.UUID,
    product_id: uuid.UUID,
    branch_id: uuid.UUID | None,
    *,
    version: str | None = None,
) -> tuple[Release, ReleaseFile] | None:
    """The release with this exact version, or the latest when `version` is None; with a file.

    Either way one row of a unique index: uq_releases_version, or uq_releases_latest.
    """
    chosen = (
        [Release.team_id == team_id, Release.version == version]
        if version is not None
        else [Release.latest]
    )
    query = (
        select(Release, ReleaseFile)
        .join(ReleaseFile, ReleaseFile.release_id == Release.id)
        .where(*_in_branch(product_id, branch_id), *chosen)
    )
    row = (await session.execute(query)).first()
    return None if row is None else (row[0], row[1])


async def may_download(session: AsyncSession, release_id: uuid.UUID, license_id: uuid.UUID) -> bool:
    """An empty allow-list admits every license; otherwise the license must be on it."""
    listed = select(ReleaseLicense.license_id).where(ReleaseLicense.release_id == release_id)
    restricted = await session.scalar(select(exists(listed)))
    if not restricted:
        return True
    return bool(
        await session.scalar(select(exists(listed.where(ReleaseLicense.license_id == license_id))))
    )


async def touch_last_seen(session: AsyncSession, release_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(Release)
        .where(Release.id == release_id)
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )


# --- allow-lists ------------------------------------------------------------------------------


async def count_team_licenses(
    session: AsyncSession,
    team_id: uuid.UUID,
    license_ids: Sequence[uuid.UUID],
    *,
    lock: bool = False,
) -> int:
    """Distinct team licenses among the ids; with `lock`, share-locked in id order so a
    concurrent license delete cannot break the allow-list insert
    (dev-api-releases.md §1.7)."""
    query = (
        select(License.id)
        .where(License.team_id == team_id, License.id.in_(license_ids))
        .order_by(License.id)
    )
    if lock:
        query = query.with_for_update(read=True)
    return len(set(await session.scalars(query)))


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


async def allowed_licenses(
    session: AsyncSession, team_id: uuid.UUID, release_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[License]]:
    """Each release's allow-list, as license rows ordered by id."""
    grouped: dict[uuid.UUID, list[License]] = {release_id: [] for release_id in release_ids}
    if release_ids:
        for release_id, license_row in await session.execute(
            select(ReleaseLicense.release_id, License)
            .join(License, License.id == ReleaseLicense.license_id)
            .where(ReleaseLicense.release_id.in_(release_ids), License.team_id == team_id)
            .order_by(License.id)
        ):
            grouped[release_id].append(license_row)
    return grouped


async def lock_releases_allowing(
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


async def is_sole_allowed_license(session: AsyncSession, license_id: uuid.UUID) -> bool:
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


# --- list -------------------------------------------------------------------------------------

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


async def page(
    session: AsyncSession,
    team_id: uuid.UUID,
    where: ReleaseFilter,
    sort_column: SortColumn,
    request: PageRequest,
) -> Page[Release]:
    ordering = _ordering(sort_column, request.descending)
    return await fetch_page(session, Release, _conditions(team_id, where), ordering, request)
