"""The Branch object, nested in a release and as the branch endpoints show it (§1.6, §9)."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class BranchView:
    """A branch with its number of releases: the object of the branch endpoints (§9)."""

    branch: Branch
    release_count: int

    def to_json(self) -> dict[str, object]:
        return {**branch_json(self.branch), "releaseCount": self.release_count}
