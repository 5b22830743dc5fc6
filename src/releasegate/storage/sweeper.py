"""The sweeper: acts on stale journal entries and leftovers (files-and-storage.md §9).

Order matters: a PENDING_UPLOAD entry is deleted (its own short transaction) before its object,
so a commit that arrives late fails the commit guard instead of referencing a deleted object.
No transaction is ever open while objects are deleted.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog
from sqlalchemy import delete, select

from releasegate.kit.clock import utcnow
from releasegate.releases.models import ReleaseFile
from releasegate.runtime import Runtime
from releasegate.storage.backend import LocalStorage
from releasegate.storage.journal import JournalKind, StorageJournal

log = structlog.get_logger(__name__)

BATCH_SIZE = 100
RELEASES_PREFIX = "releases"


@dataclass
class SweepReport:
    """What one pass did; keys are listed in the order they were handled."""

    abandoned_uploads: list[str] = field(default_factory=list)  # entry and object removed
    referenced_uploads: list[str] = field(default_factory=list)  # entry removed, object kept
    deleted_objects: list[str] = field(default_factory=list)  # PENDING_DELETE carried out
    part_files: list[str] = field(default_factory=list)  # relative to the local root
    pruned_directories: list[str] = field(default_factory=list)  # relative to the local root


async def sweep_once(runtime: Runtime, now: datetime | None = None) -> SweepReport:
    """One bounded pass (at most BATCH_SIZE entries of each kind)."""
    now = now or utcnow()
    report = SweepReport()
    await _sweep_pending_uploads(runtime, now, report)
    await _sweep_pending_deletes(runtime, now, report)
    if isinstance(runtime.storage, LocalStorage):
        cutoff = now - timedelta(seconds=runtime.settings.upload_grace)
        await asyncio.to_thread(_sweep_local_leftovers, runtime.storage.root, cutoff, report)
    # S3: obstore cannot list or abort multipart uploads; the bucket lifecycle rule that
    # aborts incomplete multipart uploads (operations.md) covers them.
    return report


async def _claim(runtime: Runtime, kind: JournalKind, older_than: datetime) -> dict[str, uuid.UUID]:
    """Take up to BATCH_SIZE stale entries of `kind` in one short transaction; key -> id.

    PENDING_UPLOAD entries are deleted right here (the commit guard then fails a late commit);
    PENDING_DELETE entries are only read, and deleted after their objects.
    """
    query = (
        select(StorageJournal.id, StorageJournal.key)
        .where(StorageJournal.kind == kind, StorageJournal.created_at < older_than)
        .order_by(StorageJournal.created_at)
        .limit(BATCH_SIZE)
    )
    if not runtime.database.is_sqlite:  # SQLite: the write scope is already BEGIN IMMEDIATE
        query = query.with_for_update(skip_locked=True)
    async with runtime.database.write() as session:
        rows = (await session.execute(query)).all()
        if rows and kind == JournalKind.PENDING_UPLOAD:
            await session.execute(
                delete(StorageJournal).where(StorageJournal.id.in_([row.id for row in rows]))
            )
    return {row.key: row.id for row in rows}


async def _referenced(runtime: Runtime, keys: Collection[str]) -> set[str]:
    if not keys:
        return set()
    async with runtime.database.read() as session:
        found = await session.scalars(select(ReleaseFile.key).where(ReleaseFile.key.in_(keys)))
        return set(found)


async def _sweep_pending_uploads(runtime: Runtime, now: datetime, report: SweepReport) -> None:
    cutoff = now - timedelta(seconds=runtime.settings.upload_grace)
    claimed = await _claim(runtime, JournalKind.PENDING_UPLOAD, cutoff)
    referenced = await _referenced(runtime, claimed)  # re-checked after the entries are gone
    for key in claimed:
        if key in referenced:
            report.referenced_uploads.append(key)
            continue
        try:
            await runtime.storage.delete(key)
        except Exception as exc:  # the entry is gone: reconciliation reports the orphan
            log.warning("swept_upload_delete_failed", key=key, error=type(exc).__name__)
            continue
        report.abandoned_uploads.append(key)
    if claimed:
        log.info("swept_uploads", abandoned=len(report.abandoned_uploads))


async def _sweep_pending_deletes(runtime: Runtime, now: datetime, report: SweepReport) -> None:
    """Object first, then the entry: a failure leaves the entry, and the next pass retries.

    Two sweepers may both delete the same object; deletes are idempotent, so that is harmless.
    """
    cutoff = now - timedelta(seconds=runtime.settings.deleted_object_grace)
    claimed = await _claim(runtime, JournalKind.PENDING_DELETE, cutoff)
    referenced = await _referenced(runtime, claimed)
    done: list[uuid.UUID] = []
    for key, entry_id in claimed.items():
        if key in referenced:  # keys are never reused; this is an integrity fault, keep the bytes
            log.error("pending_delete_of_referenced_object", key=key)
        else:
            try:
                await runtime.storage.delete(key)
            except Exception as exc:  # the entry stays; the next pass retries
                log.warning("pending_delete_failed", key=key, error=type(exc).__name__)
                continue
            report.deleted_objects.append(key)
        done.append(entry_id)
    if done:
        async with runtime.database.write() as session:
            await session.execute(delete(StorageJournal).where(StorageJournal.id.in_(done)))


def _sweep_local_leftovers(root: Path, cutoff: datetime, report: SweepReport) -> None:
    """Remove `.part-` files older than the cutoff, then empty directories under releases/.

    A directory is pruned only when it too is older than the cutoff, so one that an upload
    has just created (and is about to write into) stays.
    """
    base = root / RELEASES_PREFIX
    limit = cutoff.timestamp()
    for directory, _subdirectories, files in os.walk(base, topdown=False):
        path = Path(directory)
        for name in files:
            file = path / name
            if ".part-" in name and _mtime(file) < limit and _remove(file, os.unlink):
                report.part_files.append(file.relative_to(root).as_posix())
        if path != base and _mtime(path) < limit and _remove(path, os.rmdir):
            report.pruned_directories.append(path.relative_to(root).as_posix())


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return datetime.max.replace(tzinfo=UTC).timestamp()


def _remove(path: Path, remove: Callable[[Path], None]) -> bool:
    """True when removed; a directory that is not empty (or already gone) is left alone."""
    try:
        remove(path)
    except OSError:
        return False
    return True
