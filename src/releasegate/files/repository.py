"""All SQL of release files, the storage journal and the usage counter."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, delete, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.files.models import JournalKind, ReleaseFile, StorageJournal, TeamStorageUsage

# --- files ------------------------------------------------------------------------------------


async def file_of_release(session: AsyncSession, release_id: uuid.UUID) -> ReleaseFile | None:
    return await session.scalar(select(ReleaseFile).where(ReleaseFile.release_id == release_id))


async def files_of_releases(
    session: AsyncSession, release_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, ReleaseFile]:
    """Release id → its file, for the releases that have one."""
    if not release_ids:
        return {}
    rows = await session.scalars(
        select(ReleaseFile).where(ReleaseFile.release_id.in_(release_ids)).order_by(ReleaseFile.id)
    )
    return {row.release_id: row for row in rows}


async def delete_files(session: AsyncSession, file_ids: Sequence[uuid.UUID]) -> None:
    await session.execute(delete(ReleaseFile).where(ReleaseFile.id.in_(file_ids)))


async def referenced_keys(session: AsyncSession, keys: Collection[str]) -> set[str]:
    """The keys among `keys` that a ReleaseFile row references."""
    if not keys:
        return set()
    return set(await session.scalars(select(ReleaseFile.key).where(ReleaseFile.key.in_(keys))))


async def keys_created_before(session: AsyncSession, moment: datetime) -> list[str]:
    rows = await session.scalars(
        select(ReleaseFile.key).where(ReleaseFile.created_at < moment).order_by(ReleaseFile.key)
    )
    return list(rows)


# --- journal ----------------------------------------------------------------------------------


def add_entry(session: AsyncSession, team_id: uuid.UUID, key: str, kind: JournalKind) -> None:
    session.add(StorageJournal(key=key, team_id=team_id, kind=kind))


async def remove_entry(session: AsyncSession, key: str, kind: JournalKind) -> bool:
    """Delete the entry; False when there was none (the commit guard's test)."""
    result = await session.execute(
        delete(StorageJournal).where(StorageJournal.key == key, StorageJournal.kind == kind)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def remove_entries(session: AsyncSession, entry_ids: Sequence[uuid.UUID]) -> None:
    await session.execute(delete(StorageJournal).where(StorageJournal.id.in_(entry_ids)))


async def journaled_keys(session: AsyncSession, keys: Collection[str]) -> set[str]:
    """The keys among `keys` that a journal entry (of either kind) covers."""
    if not keys:
        return set()
    return set(
        await session.scalars(select(StorageJournal.key).where(StorageJournal.key.in_(keys)))
    )


async def stale_entries(
    session: AsyncSession,
    kind: JournalKind,
    older_than: datetime,
    limit: int,
    *,
    skip_locked: bool,
) -> dict[str, uuid.UUID]:
    """Up to `limit` entries of `kind` older than the cutoff, oldest first; key → entry id.

    With `skip_locked` (PostgreSQL), entries another sweeper holds are passed over.
    """
    query = (
        select(StorageJournal.id, StorageJournal.key)
        .where(StorageJournal.kind == kind, StorageJournal.created_at < older_than)
        .order_by(StorageJournal.created_at)
        .limit(limit)
    )
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    return {row.key: row.id for row in await session.execute(query)}


# --- usage ------------------------------------------------------------------------------------


def open_usage(session: AsyncSession, team_id: uuid.UUID) -> None:
    """A new team's counter, at zero."""
    session.add(TeamStorageUsage(team_id=team_id, used_bytes=0))


async def used_bytes(session: AsyncSession, team_id: uuid.UUID) -> int:
    used = await session.scalar(
        select(TeamStorageUsage.used_bytes).where(TeamStorageUsage.team_id == team_id)
    )
    return int(used or 0)


async def apply_usage_delta(
    session: AsyncSession, team_id: uuid.UUID, delta: int, quota: int
) -> bool:
    """Add `delta` unless it would cross a non-zero quota; a negative delta always applies."""
    if delta == 0:
        return True
    condition: ColumnElement[bool] = (
        true() if delta < 0 or quota == 0 else TeamStorageUsage.used_bytes + delta <= quota
    )
    result = await session.execute(
        update(TeamStorageUsage)
        .where(TeamStorageUsage.team_id == team_id, condition)
        .values(used_bytes=TeamStorageUsage.used_bytes + delta)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
