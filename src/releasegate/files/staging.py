"""Staged uploads: journal first, then bytes streamed to a fresh key (files-and-storage.md §7)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Final

import structlog

from releasegate.db.session import Database
from releasegate.files import repository as repo
from releasegate.files.models import JournalKind
from releasegate.storage import Storage

log = structlog.get_logger(__name__)

_END: Final = object()
_ABORT: Final = object()


class StagingFailed(Exception):
    """The backend refused or lost the upload (a server-side fault, not bad input)."""


class StagedWrite:
    """One object being written; `abort()` leaves neither object nor journal entry behind."""

    def __init__(self, database: Database, storage: Storage, team_id: uuid.UUID, key: str) -> None:
        self._database = database
        self._storage = storage
        self.team_id = team_id
        self.key = key
        self._queue: asyncio.Queue[object] = asyncio.Queue(maxsize=8)
        self._task: asyncio.Task[int] | None = None

    async def start(self) -> None:
        """Journal `PENDING_UPLOAD(key)` in its own transaction, then open the backend write."""
        async with self._database.write() as session:
            repo.add_entry(session, self.team_id, self.key, JournalKind.PENDING_UPLOAD)
        self._task = asyncio.get_running_loop().create_task(
            self._storage.put_stream(self.key, self._chunks())
        )

    async def _chunks(self) -> AsyncIterator[bytes]:
        while True:
            item = await self._queue.get()
            if item is _END:
                return
            if item is _ABORT:
                raise StagingFailed("upload aborted")
            assert isinstance(item, bytes)
            yield item

    async def _hand_over(self, item: object) -> None:
        """Queue `item` for the backend, or fail as soon as the backend task has ended."""
        assert self._task is not None
        put = asyncio.ensure_future(self._queue.put(item))
        done, _ = await asyncio.wait({put, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if put not in done:
            put.cancel()
            error = None if self._task.cancelled() else self._task.exception()
            raise StagingFailed("backend write ended early") from error

    async def write(self, chunk: bytes) -> None:
        await self._hand_over(chunk)

    async def finish(self) -> int:
        """Complete the object; returns the size the backend wrote."""
        assert self._task is not None
        if not self._task.done():
            await self._hand_over(_END)
        try:
            return await self._task
        except Exception as exc:
            raise StagingFailed("backend write failed") from exc

    async def abort(self) -> None:
        """Stop the write, delete whatever was stored, then the journal entry (best effort).

        The queue is drained and an abort marker handed over, so the backend fails its own
        write (aborting an S3 multipart upload) instead of being cancelled mid-request.
        """
        if self._task is not None and not self._task.done():
            while not self._queue.empty():
                self._queue.get_nowait()
            self._queue.put_nowait(_ABORT)
            with contextlib.suppress(BaseException):
                await self._task
        await discard_object(self._database, self._storage, self.key)


async def discard_object(database: Database, storage: Storage, key: str) -> None:
    """Delete a staged object and its PENDING_UPLOAD entry; the sweeper retries on failure."""
    try:
        await storage.delete(key)
        async with database.write() as session:
            await repo.remove_entry(session, key, JournalKind.PENDING_UPLOAD)
    except Exception as exc:  # the journal entry stays; the sweeper removes the object later
        log.warning("staged_object_cleanup_failed", key=key, error=type(exc).__name__)
