"""All client API SQL. Every query is scoped by team or by an id already found under it."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import exists, false, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.branches.models import Branch
from releasegate.licenses.device_kinds import DeviceKind, DeviceRecord
from releasegate.licenses.models import License, LicenseCustomer, LicenseProduct
from releasegate.products.models import Product
from releasegate.releases.models import Release, ReleaseFile, ReleaseLicense, ReleaseStatus
from releasegate.teams.models import Team, TeamKeyPair


async def live_team(session: AsyncSession, team_id: uuid.UUID) -> Team | None:
    team = await session.get(Team, team_id)
    return team if team is not None and team.deleted_at is None else None


async def private_key_ciphertext(session: AsyncSession, team_id: uuid.UUID) -> str | None:
    query = select(TeamKeyPair.private_key_ciphertext).where(TeamKeyPair.team_id == team_id)
    return await session.scalar(query)


async def license_links(
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


async def device_standing(
    session: AsyncSession,
    kind: DeviceKind,
    license_id: uuid.UUID,
    value: str,
    active_since: datetime | None,
) -> tuple[int, DeviceRecord | None]:
    """How many records of the license are active, and the record of `value` if one exists."""
    model = kind.model
    active = [model.license_id == license_id, model.forgotten.is_(false())]
    if active_since is not None:
        active.append(model.last_seen_at >= active_since)
    count = await session.scalar(select(func.count()).select_from(model).where(*active))
    column = getattr(model, kind.value_field)
    record: DeviceRecord | None = await session.scalar(
        select(model).where(model.license_id == license_id, column == value)
    )
    return int(count or 0), record


async def branch_named(session: AsyncSession, product_id: uuid.UUID, name: str) -> Branch | None:
    query = select(Branch).where(Branch.product_id == product_id, Branch.name == name)
    return await session.scalar(query)


def _in_branch(product_id: uuid.UUID, branch_id: uuid.UUID | None) -> list[object]:
    branch = Release.branch_id.is_(None) if branch_id is None else Release.branch_id == branch_id
    return [Release.product_id == product_id, branch]


async def published_releases(
    session: AsyncSession, product_id: uuid.UUID, branch_id: uuid.UUID | None
) -> list[Release]:
    """Release set R of verify (client-api.md §3.3): PUBLISHED, in one branch."""
    query = select(Release).where(
        *_in_branch(product_id, branch_id),  # type: ignore[arg-type]
        Release.status == ReleaseStatus.PUBLISHED.value,
    )
    return list(await session.scalars(query))


async def has_candidates(
    session: AsyncSession, product_id: uuid.UUID, branch_id: uuid.UUID | None
) -> bool:
    """Whether the branch has any release with a file (classloader row 20)."""
    query = select(
        exists().where(
            *_in_branch(product_id, branch_id),  # type: ignore[arg-type]
            ReleaseFile.release_id == Release.id,
        )
    )
    return bool(await session.scalar(query))


async def candidate(
    session: AsyncSession,
    product_id: uuid.UUID,
    branch_id: uuid.UUID | None,
    *,
    version: str | None = None,
) -> tuple[Release, ReleaseFile] | None:
    """The release with this exact version, or the latest when `version` is None; with a file."""
    chosen = Release.version == version if version is not None else Release.latest.is_(True)
    query = (
        select(Release, ReleaseFile)
        .join(ReleaseFile, ReleaseFile.release_id == Release.id)
        .where(*_in_branch(product_id, branch_id), chosen)  # type: ignore[arg-type]
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


async def product_name(session: AsyncSession, product_id: uuid.UUID) -> str:
    return str(await session.scalar(select(Product.name).where(Product.id == product_id)))


async def lock_license(session: AsyncSession, license_id: uuid.UUID) -> License | None:
    """FOR NO KEY UPDATE: serialises client successes of one license without blocking inserts
    that merely reference it (their foreign-key checks take FOR KEY SHARE)."""
    query = (
        select(License)
        .where(License.id == license_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    return await session.scalar(query)


async def touch_release(session: AsyncSession, release_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(Release)
        .where(Release.id == release_id)
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )
