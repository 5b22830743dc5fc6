"""The Metadata object as responses show it (dev-api-releases.md §1.6)."""

from __future__ import annotations

from releasegate.kit.clock import iso
from releasegate.metadata.models import Metadata
from releasegate.metadata.repository import Owner

_WIRE_NAMES: dict[str, str] = {
    "release_id": "releaseId",
    "product_id": "productId",
    "license_id": "licenseId",
    "customer_id": "customerId",
}


def metadata_json(row: Metadata, owner: Owner) -> dict[str, object]:
    return {
        "id": str(row.id),
        "key": row.key,
        "value": row.value,
        "locked": row.locked,
        "teamId": str(row.team_id),
        _WIRE_NAMES[owner]: str(getattr(row, owner)),
        "createdAt": iso(row.created_at),
        "updatedAt": iso(row.updated_at),
    }
