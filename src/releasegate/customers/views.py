from __future__ import annotations

from releasegate.customers.models import Customer
from releasegate.kit.clock import iso
from releasegate.metadata.models import Metadata
from releasegate.metadata.views import metadata_json


def customer_json(row: Customer, metadata: list[Metadata]) -> dict[str, object]:
    return {
        "id": str(row.id),
        "email": row.email,
        "fullName": row.full_name,
        "username": row.username,
        "teamId": str(row.team_id),
        "createdAt": iso(row.created_at),
        "updatedAt": iso(row.updated_at),
        "metadata": [metadata_json(m, "customer_id") for m in metadata],
    }
