"""The Product object as responses and webhook payloads show it (dev-api-releases.md §10)."""

from __future__ import annotations

from dataclasses import dataclass

from releasegate.kit.clock import iso
from releasegate.metadata.models import Metadata
from releasegate.metadata.views import metadata_json
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


@dataclass(frozen=True)
class ProductView:
    """A product with its metadata: the Product object of the product endpoints."""

    product: Product
    metadata: list[Metadata]

    def to_json(self) -> dict[str, object]:
        return {
            **product_json(self.product),
            "metadata": [metadata_json(m, "product_id") for m in self.metadata],
        }
