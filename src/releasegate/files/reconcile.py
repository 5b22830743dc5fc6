"""Reconciliation of storage against the database (files-and-storage.md §9).

Reports objects under releases/ that nothing references or covers (orphans), and ReleaseFile
rows whose object is missing (integrity faults). Read-only unless asked to delete orphans.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from releasegate.files import repository as repo
from releasegate.files.keys import RELEASES_PREFIX
from releasegate.kit.clock import utcnow
from releasegate.runtime import Runtime

log = structlog.get_logger(__name__)

ORPHAN_AGE = timedelta(hours=24)
_QUERY_BATCH = 500


@dataclass
class ReconcileReport:
    orphans: list[str] = field(default_factory=list)  # unreferenced, uncovered, old enough
    missing: list[str] = field(default_factory=list)  # ReleaseFile keys without an object
    deleted: list[str] = field(default_factory=list)  # orphans removed (with delete=True)

    def to_json(self) -> dict[str, list[str]]:
        return {"orphans": self.orphans, "missing": self.missing, "deleted": self.deleted}


async def reconcile(
    runtime: Runtime, *, delete: bool = False, now: datetime | None = None
) -> ReconcileReport:
    """Compare every object under releases/ with ReleaseFile rows and journal entries."""
    now = now or utcnow()
    listed_at = utcnow()
    objects = {key: modified async for key, modified in runtime.storage.list(f"{RELEASES_PREFIX}/")}
    report = ReconcileReport()
    candidates = sorted(key for key, modified in objects.items() if modified < now - ORPHAN_AGE)
    known = await _known_keys(runtime, candidates)
    report.orphans = [key for key in candidates if key not in known]
    report.missing = await _missing_objects(runtime, objects.keys(), listed_at)
    for key in report.missing:
        log.error("storage_object_missing", key=key)
    if delete:
        for key in report.orphans:
            if key in await _known_keys(runtime, [key]):  # a row or entry appeared meanwhile
                continue
            await runtime.storage.delete(key)
            report.deleted.append(key)
    return report


async def _known_keys(runtime: Runtime, keys: list[str]) -> set[str]:
    """Keys that a ReleaseFile references or a journal entry covers."""
    known: set[str] = set()
    async with runtime.database.read() as session:
        for start in range(0, len(keys), _QUERY_BATCH):
            batch = keys[start : start + _QUERY_BATCH]
            known.update(await repo.referenced_keys(session, batch))
            known.update(await repo.journaled_keys(session, batch))
    return known


async def _missing_objects(
    runtime: Runtime, present: Collection[str], listed_at: datetime
) -> list[str]:
    """ReleaseFile rows committed before the listing began whose key was not listed."""
    async with runtime.database.read() as session:
        keys = await repo.keys_created_before(session, listed_at)
    return [key for key in keys if key not in present]
