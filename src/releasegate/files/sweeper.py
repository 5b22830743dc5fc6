"""The sweeper: acts on stale journal entries and leftovers (files-and-storage.md §9).

Order matters: a PENDING_UPLOAD entry is deleted (its own short transaction) before its object,
so a commit that arrives late fails the commit guard instead of referencing a deleted object.
No transaction is ever open while objects are deleted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from releasegate.files import repository as repo
from releasegate.files.keys import RELEASES_PREFIX
from releasegate.files.models import JournalKind
from releasegate.kit.clock import utcnow
from releasegate.runtime import Runtime

log = structlog.get_logger(__name__)

BATCH_SIZE = 100


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
    cutoff = now - timedelta(seconds=runtime.settings.upload_grace)
    leftovers = await runtime.storage.remove_leftovers(RELEASES_PREFIX, cutoff)
    report.part_files = leftovers.part_files
    report.pruned_directories = leftovers.pruned_directories
    return report


async def _claim(runtime: Runtime, kind: JournalKind, older_than: datetime) -> dict[str, uuid.UUID]:
    """Take up to BATCH_SIZE stale entries of `kind` in one short transaction; key -> id.

    PENDING_UPLOAD entries are deleted right here (the commit guard then fails a late commit);
    PENDING_DELETE entries are only read, and deleted after their objects. On SQLite the write
    scope is BEGIN IMMEDIATE, which already keeps other sweepers out.
    """
    async with runtime.database.write() as session:
        claimed = await repo.stale_entries(
            session, kind, older_than, BATCH_SIZE, skip_locked=not runtime.database.is_sqlite
        )
        if claimed and kind == JournalKind.PENDING_UPLOAD:
            await repo.remove_entries(session, list(claimed.values()))
    return claimed


async def _referenced(runtime: Runtime, keys: list[str]) -> set[str]:
    async with runtime.database.read() as session:
        return await repo.referenced_keys(session, keys)


async def _sweep_pending_uploads(runtime: Runtime, now: datetime, report: SweepReport) -> None:
    cutoff = now - timedelta(seconds=runtime.settings.upload_grace)
    claimed = await _claim(runtime, JournalKind.PENDING_UPLOAD, cutoff)
    referenced = await _referenced(runtime, list(claimed))  # re-checked after the entries went
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
    referenced = await _referenced(runtime, list(claimed))
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
            await repo.remove_entries(session, done)
