from __future__ import annotations

from releasegate.kit.clock import iso
from releasegate.metadata.models import Metadata
from releasegate.metadata.service import metadata_json
from releasegate.products.models import Product


def product_json(row: Product) -> dict[str, object]:
    """The nested Product form (no metadata)."""
    return {
        "id": str(row.id),
        "name": row.name,
        "url": row.url,
        "teamId": str(row.team_id),
        "createdAt": iso(row.created_at),
        "updatedAt": iso(row.updated_at),
    }


def product_with_metadata_json(row: Product, metadata: list[Metadata]) -> dict[str, object]:
    """The Product object of the product endpoints (§10): nested form plus metadata."""
    return {**product_json(row), "metadata": [metadata_json(m, "product_id") for m in metadata]}
