"""Metadata rows: replaced as a whole, kept in submitted order, ids regenerated."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.kit.clock import iso, utcnow
from releasegate.metadata.models import Metadata

Owner = Literal["release_id", "product_id", "license_id", "customer_id"]
_WIRE_NAMES: dict[str, str] = {
    "release_id": "releaseId",
    "product_id": "productId",
    "license_id": "licenseId",
    "customer_id": "customerId",
}


async def replace_metadata(
    session: AsyncSession,
    team_id: uuid.UUID,
    owner: Owner,
    owner_id: uuid.UUID,
    items: Sequence[dict[str, Any]],
) -> None:
    """Delete the owner's rows and insert `items` in order, with new ids."""
    column = getattr(Metadata, owner)
    await session.execute(delete(Metadata).where(column == owner_id))
    now = utcnow()
    session.add_all(
        Metadata(
            team_id=team_id,
            key=item["key"],
            value=item["value"],
            locked=bool(item.get("locked", False)),
            position=position,
            created_at=now,
            updated_at=now,
            **{owner: owner_id},
        )
        for position, item in enumerate(items)
    )
    await session.flush()


async def load_metadata(
    session: AsyncSession, owner: Owner, owner_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Metadata]]:
    column = getattr(Metadata, owner)
    grouped: dict[uuid.UUID, list[Metadata]] = {owner_id: [] for owner_id in owner_ids}
    if not owner_ids:
        return grouped
    rows = await session.scalars(
        select(Metadata).where(column.in_(owner_ids)).order_by(column, Metadata.position)
    )
    for row in rows:
        grouped[getattr(row, owner)].append(row)
    return grouped


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
