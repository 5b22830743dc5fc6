"""Metadata rows: replaced as a whole, kept in submitted order, ids regenerated."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Literal

from sqlalchemy import ColumnElement, and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.kit.clock import utcnow
from releasegate.metadata.models import Metadata
from releasegate.metadata.schemas import MetadataItem

Owner = Literal["release_id", "product_id", "license_id", "customer_id"]


async def replace(
    session: AsyncSession,
    team_id: uuid.UUID,
    owner: Owner,
    owner_id: uuid.UUID,
    items: Sequence[MetadataItem],
) -> None:
    """Delete the owner's rows and insert `items` in order, with new ids."""
    column = getattr(Metadata, owner)
    await session.execute(delete(Metadata).where(column == owner_id))
    now = utcnow()
    session.add_all(
        Metadata(
            team_id=team_id,
            key=item.key,
            value=item.value,
            locked=item.locked,
            position=position,
            created_at=now,
            updated_at=now,
            **{owner: owner_id},
        )
        for position, item in enumerate(items)
    )
    await session.flush()


async def load(
    session: AsyncSession, owner: Owner, owner_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Metadata]]:
    """Each owner's rows in stored order (every owner id gets a list, maybe empty)."""
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


async def delete_of(session: AsyncSession, owner: Owner, owner_ids: Sequence[uuid.UUID]) -> None:
    """Every row of these owners (the owners are being deleted)."""
    if owner_ids:
        await session.execute(delete(Metadata).where(getattr(Metadata, owner).in_(owner_ids)))


async def with_keys(
    session: AsyncSession,
    team_id: uuid.UUID,
    wanted: Sequence[tuple[Owner, Sequence[uuid.UUID], Sequence[str]]],
) -> list[Metadata]:
    """The rows of the given owners whose key is among that owner kind's keys, in stored
    order; one query for every owner kind together."""
    conditions: list[ColumnElement[bool]] = [
        and_(getattr(Metadata, owner).in_(owner_ids), Metadata.key.in_(keys))
        for owner, owner_ids, keys in wanted
        if owner_ids and keys
    ]
    if not conditions:
        return []
    rows = await session.scalars(
        select(Metadata)
        .where(Metadata.team_id == team_id, or_(*conditions))
        .order_by(Metadata.position, Metadata.id)
    )
    return list(rows)
