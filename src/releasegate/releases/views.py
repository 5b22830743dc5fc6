"""The Release object as every response and payload shows it (dev-api-releases.md §1.6)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.branches import repository as branches
from releasegate.branches.models import Branch
from releasegate.branches.views import branch_json
from releasegate.files import service as files
from releasegate.files.models import ReleaseFile
from releasegate.kit.clock import iso, iso_or_none, utcnow
from releasegate.licenses.models import License
from releasegate.licenses.views import license_summary_json
from releasegate.metadata import repository as metadata
from releasegate.metadata.models import Metadata
from releasegate.metadata.views import metadata_json
from releasegate.products import repository as products
from releasegate.products.models import Product
from releasegate.products.views import product_json
from releasegate.releases import repository as repo
from releasegate.releases.models import Release


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

    def to_json(
        self, *, include_file_key: bool = True, now: datetime | None = None
    ) -> dict[str, object]:
        """The Release object; webhook payloads leave out `file.key` (never sent out)."""
        release = self.release
        now = now or utcnow()
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

    def payload(self) -> dict[str, object]:
        """The webhook payload: the Release object without `file.key`."""
        return self.to_json(include_file_key=False)


async def load_views(
    session: AsyncSession, team_id: uuid.UUID, releases: Sequence[Release]
) -> list[ReleaseView]:
    """Everything the Release object shows, for a page of releases, in a fixed number of queries."""
    if not releases:
        return []
    ids = [row.id for row in releases]
    product_rows = await products.by_ids(session, team_id, {row.product_id for row in releases})
    branch_ids = {row.branch_id for row in releases if row.branch_id is not None}
    branch_rows = await branches.by_ids(session, team_id, branch_ids)
    file_rows = await files.files_of_releases(session, ids)
    licenses = await repo.allowed_licenses(session, team_id, ids)
    metadata_rows = await metadata.load(session, "release_id", ids)
    return [
        ReleaseView(
            release=row,
            product=product_rows[row.product_id],
            branch=None if row.branch_id is None else branch_rows.get(row.branch_id),
            file=file_rows.get(row.id),
            metadata=metadata_rows[row.id],
            licenses=licenses[row.id],
        )
        for row in releases
    ]


async def load_view(
    session: AsyncSession, team_id: uuid.UUID, release_id: uuid.UUID
) -> ReleaseView | None:
    release = await repo.get(session, team_id, release_id)
    if release is None:
        return None
    return (await load_views(session, team_id, [release]))[0]
