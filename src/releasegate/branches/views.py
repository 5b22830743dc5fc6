from __future__ import annotations

from releasegate.branches.models import Branch
from releasegate.kit.clock import iso


def branch_json(row: Branch) -> dict[str, object]:
    return {
        "id": str(row.id),
        "name": row.name,
        "productId": str(row.product_id),
        "createdAt": iso(row.created_at),
        "updatedAt": iso(row.updated_at),
    }
