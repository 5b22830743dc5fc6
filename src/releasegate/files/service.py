"""The life of a release file (files-and-storage.md §7–§10), as the release writers use it.

Write order: `stage` (by the intake) journals the key and streams the bytes; every check runs;
in the release's write transaction `attach` inserts the row, counts the bytes against the quota
and removes the PENDING_UPLOAD entry (the commit guard), and `detach` removes a replaced or
deleted file's row, journals its key PENDING_DELETE and uncounts it; after the commit
`purge_after_commit` deletes those objects. Any failure before the commit `discard`s the
staged object. Nothing here holds a transaction across storage I/O.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Sequence

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.files import repository as repo
from releasegate.files.errors import (
    ChecksumMismatch,
    DigestWithoutFile,
    StorageLimitReached,
    UploadsNotAllowed,
)
from releasegate.files.inspection import FileFacts
from releasegate.files.intake import StagedFile
from releasegate.files.models import JournalKind, ReleaseFile
from releasegate.files.staging import StagingFailed, discard_object
from releasegate.kit.clock import utcnow
from releasegate.runtime import Runtime

log = structlog.get_logger(__name__)


def check_declared(
    declared_sha256: str | None, staged: StagedFile | None, *, uploads_allowed: bool
) -> None:
    """Rows 16–18: the declared digest (compared in constant time), then whether uploads are
    allowed at all."""
    if declared_sha256 is not None:
        if staged is None:
            raise DigestWithoutFile()
        if not hmac.compare_digest(declared_sha256.lower().encode(), staged.sha256.encode()):
            raise ChecksumMismatch()
    if staged is not None and not uploads_allowed:
        raise UploadsNotAllowed()


async def check_quota(
    session: AsyncSession, team_id: uuid.UUID, quota: int, adding: int, freeing: int = 0
) -> None:
    """The state check before the write (the counter's conditional update decides at commit)."""
    if quota and await repo.used_bytes(session, team_id) - freeing + adding > quota:
        raise StorageLimitReached()


async def attach(
    session: AsyncSession,
    team_id: uuid.UUID,
    quota: int,
    release_id: uuid.UUID,
    staged: StagedFile,
    facts: FileFacts,
) -> ReleaseFile:
    """In the release's write transaction: the file row, its bytes counted (refused past a
    non-zero quota), and the commit guard: its PENDING_UPLOAD entry must still exist."""
    row = ReleaseFile(
        id=staged.file_id,
        release_id=release_id,
        key=staged.key,
        size=staged.size,
        name=facts.name,
        content_type=facts.content_type,
        checksum=staged.md5,
        sha256=staged.sha256,
        main_class_name=facts.main_class_name,
        created_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    if not await repo.apply_usage_delta(session, team_id, staged.size, quota):
        raise StorageLimitReached()
    if not await repo.remove_entry(session, staged.key, JournalKind.PENDING_UPLOAD):
        raise StagingFailed("staged upload was swept before commit")
    return row


async def detach(
    session: AsyncSession, team_id: uuid.UUID, files: Sequence[ReleaseFile]
) -> list[str]:
    """In the writer's transaction: the rows go, their keys are journaled PENDING_DELETE and
    their bytes uncounted. Returns the keys, for `purge_after_commit`."""
    if not files:
        return []
    await repo.delete_files(session, [file.id for file in files])
    for file in files:
        repo.add_entry(session, team_id, file.key, JournalKind.PENDING_DELETE)
    await session.flush()
    await repo.apply_usage_delta(session, team_id, -sum(file.size for file in files), 0)
    return [file.key for file in files]


async def purge_after_commit(runtime: Runtime, keys: Sequence[str]) -> None:
    """After the commit that unreferenced `keys`: delete each object, then its entry.

    With a non-zero RELEASEGATE_DELETED_OBJECT_GRACE the sweeper does it later instead; a
    failure leaves the entry, and the sweeper retries.
    """
    if runtime.settings.deleted_object_grace > 0:
        return
    for key in keys:
        try:
            await runtime.storage.delete(key)
            async with runtime.database.write() as session:
                await repo.remove_entry(session, key, JournalKind.PENDING_DELETE)
        except Exception as exc:
            log.warning("purge_after_commit_failed", key=key, error=type(exc).__name__)


async def discard(runtime: Runtime, staged: StagedFile) -> None:
    """A staged file that will not be committed: its object and PENDING_UPLOAD entry go."""
    await discard_object(runtime.database, runtime.storage, staged.key)


async def open_usage(session: AsyncSession, team_id: uuid.UUID) -> None:
    """A new team's storage counter, at zero bytes."""
    repo.open_usage(session, team_id)


async def file_of_release(session: AsyncSession, release_id: uuid.UUID) -> ReleaseFile | None:
    return await repo.file_of_release(session, release_id)


async def files_of_releases(
    session: AsyncSession, release_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, ReleaseFile]:
    return await repo.files_of_releases(session, release_ids)
