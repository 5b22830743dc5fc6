"""The Release object as every response and payload shows it (dev-api-releases.md §1.6)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.branches.models import Branch
from releasegate.branches.views import branch_json
from releasegate.kit.clock import iso, iso_or_none, utcnow
from releasegate.licenses.models import License
from releasegate.licenses.views import license_summary_json
from releasegate.metadata.models import Metadata
from releasegate.metadata.service import load_metadata, metadata_json
from releasegate.products.models import Product
from releasegate.products.views import product_json
from releasegate.releases.models import Release, ReleaseFile, ReleaseLicense


def release_file_json(row: ReleaseFile, *, include_key: bool = True) -> dict[str, object]:
    body: dict[str, object] = {
        "id": str(row.id),
        "releaseId": str(row.release_id),
        "key": row.key,
        "size": row.size,
        "name": row.name,
        "checksum": row.checksum,
        "sha256": row.sha256,
        "contentType": row.content_type,
        "mainClassName": row.main_class_name,
        "createdAt": iso(row.created_at),
    }
    if not include_key:
        del body["key"]
    return body


@dataclass
class ReleaseView:
    release: Release
    product: Product
    branch: Branch | None
    file: ReleaseFile | None
    metadata: list[Metadata]
    licenses: list[License]

    def to_json(self, *, include_file_key: bool = True) -> dict[str, object]:
        release = self.release
        now = utcnow()
        return {
            "id": str(release.id),
            "version": release.version,
            "status": release.status,
            "latest": release.latest,
            "productId": str(release.product_id),
            "branchId": None if release.branch_id is None else str(release.branch_id),
            "teamId": str(release.team_id),
            "createdAt": iso(release.created_at),
            "updatedAt": iso(release.updated_at),
            "lastSeenAt": iso_or_none(release.last_seen_at),
            "metadata": [metadata_json(row, "release_id") for row in self.metadata],
            "product": product_json(self.product),
            "branch": None if self.branch is None else branch_json(self.branch),
            "file": None
            if self.file is None
            else release_file_json(self.file, include_key=include_file_key),
            "allowedLicenses": [license_summary_json(row, now) for row in self.licenses],
        }


async def load_release_views(
    session: AsyncSession, team_id: uuid.UUID, releases: Sequence[Release]
) -> list[ReleaseView]:
    """Everything the Release object shows, for a page of releases, in a fixed number of queries."""
    if not releases:
        return []
    ids = [row.id for row in releases]
    product_ids = {row.product_id for row in releases}
    branch_ids = {row.branch_id for row in releases if row.branch_id is not None}
    products = {
        row.id: row
        for row in await session.scalars(
            select(Product).where(Product.team_id == team_id, Product.id.in_(product_ids))
        )
    }
    branches = (
        {
            row.id: row
            for row in await session.scalars(
                select(Branch).where(Branch.team_id == team_id, Branch.id.in_(branch_ids))
            )
        }
        if branch_ids
        else {}
    )
    files = {
        row.release_id: row
        for row in await session.scalars(select(ReleaseFile).where(ReleaseFile.release_id.in_(ids)))
    }
    licenses: dict[uuid.UUID, list[License]] = {release_id: [] for release_id in ids}
    for release_id, license_row in await session.execute(
        select(ReleaseLicense.release_id, License)
        .join(License, License.id == ReleaseLicense.license_id)
        .where(ReleaseLicense.release_id.in_(ids), License.team_id == team_id)
        .order_by(License.id)
    ):
        licenses[release_id].append(license_row)
    metadata = await load_metadata(session, "release_id", ids)
    return [
        ReleaseView(
            release=row,
            product=products[row.product_id],
            branch=None if row.branch_id is None else branches.get(row.branch_id),
            file=files.get(row.id),
            metadata=metadata[row.id],
            licenses=licenses[row.id],
        )
        for row in releases
    ]


async def load_release_view(
    session: AsyncSession, team_id: uuid.UUID, release_id: uuid.UUID
) -> ReleaseView | None:
    release = await session.scalar(
        select(Release).where(Release.team_id == team_id, Release.id == release_id)
    )
    if release is None:
        return None
    return (await load_release_views(session, team_id, [release]))[0]
