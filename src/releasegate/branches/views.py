from __future__ import annotations

from releasegate.branches.models import Branch
from releasegate.kit.clock import iso


def branch_json(row: Branch) -> dict[str, object]:
    """The Branch object as nested in a release (dev-api-releases.md §1.6)."""
    return {
        "id": str(row.id),
        "name": row.name,
        "productId": str(row.product_id),
        "createdAt": iso(row.created_at),
        "updatedAt": iso(row.updated_at),
    }


def branch_with_count_json(row: Branch, release_count: int) -> dict[str, object]:
    """The Branch object of the branch endpoints (§9): nested form plus `releaseCount`."""
    return {**branch_json(row), "releaseCount": release_count}
