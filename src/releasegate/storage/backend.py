"""Storage protocol and the obstore-backed implementations (local files and S3)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlparse

import obstore
from obstore.exceptions import NotFoundError
from obstore.store import LocalStore, S3Store

if TYPE_CHECKING:
    from obstore import GetOptions
    from obstore.store import ClientConfig, S3Config

READ_CHUNK = 256 * 1024
LOCAL_READ_BLOCK = 1024 * 1024  # 16 classloader frames: whole frames are sealed without copies
S3_PART_SIZE = 8 * 1024 * 1024
LOCAL_WRITE_BATCH = 1024 * 1024


class ObjectNotFound(Exception):
    """The object does not exist (or has another size than recorded)."""


@dataclass
class OpenedObject:
    """An object opened before any response header is sent: its size and a byte stream."""

    size: int
    chunks: AsyncIterator[bytes | memoryview]


@dataclass
class Leftovers:
    """What a backend removed of interrupted writes (paths relative to its root)."""

    part_files: list[str] = field(default_factory=list)
    pruned_directories: list[str] = field(default_factory=list)


class Storage(Protocol):
    async def put_stream(self, key: str, chunks: AsyncIterable[bytes]) -> int: ...
    async def open(self, key: str, start: int = 0, end: int | None = None) -> OpenedObject: ...
    async def head(self, key: str) -> int: ...
    async def read_range(self, key: str, offset: int, length: int) -> bytes: ...
    async def delete(self, key: str) -> None: ...
    def list(self, prefix: str) -> AsyncIterator[tuple[str, datetime]]: ...
    async def ping(self) -> None: ...
    async def remove_leftovers(self, prefix: str, older_than: datetime) -> Leftovers: ...
    async def signed_url(self, key: str, expires_in: timedelta) -> str | None: ...
    def local_path(self, key: str) -> Path | None: ...


class _ObstoreReads:
    """Reads, deletes and listings shared by both backends."""

    store: Any

    async def open(self, key: str, start: int = 0, end: int | None = None) -> OpenedObject:
        """Open `[start, end)` of an object; raises ObjectNotFound before any byte is sent."""
        options: GetOptions | None = None
        if end is not None:
            options = {"range": (start, end)}
        elif start:
            options = {"range": {"offset": start}}
        try:
            result = await obstore.get_async(self.store, key, options=options)
        except (NotFoundError, FileNotFoundError) as exc:
            raise ObjectNotFound(key) from exc
        size = int(result.meta["size"])

        async def chunks() -> AsyncIterator[bytes | memoryview]:
            async for chunk in result.stream(min_chunk_size=READ_CHUNK):
                yield memoryview(chunk)

        return OpenedObject(size=size, chunks=chunks())

    async def head(self, key: str) -> int:
        try:
            meta = await obstore.head_async(self.store, key)
        except (NotFoundError, FileNotFoundError) as exc:
            raise ObjectNotFound(key) from exc
        return int(meta["size"])

    async def read_range(self, key: str, offset: int, length: int) -> bytes:
        if length <= 0:
            return b""
        try:
            data = await obstore.get_range_async(self.store, key, start=offset, length=length)
        except (NotFoundError, FileNotFoundError) as exc:
            raise ObjectNotFound(key) from exc
        return bytes(data)

    async def delete(self, key: str) -> None:
        """Idempotent: a missing object counts as deleted."""
        try:
            await obstore.delete_async(self.store, key)
        except (NotFoundError, FileNotFoundError):
            return

    async def list(self, prefix: str) -> AsyncIterator[tuple[str, datetime]]:
        async for batch in obstore.list(self.store, prefix=prefix):
            for meta in batch:
                path = str(meta["path"])
                if not path.rsplit("/", 1)[-1].startswith("."):  # in-progress `.part-` files
                    yield path, meta["last_modified"]


class LocalStorage(_ObstoreReads):
    """`file://ROOT`: objects are files under ROOT, written `.part-` then linked into place."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.store = LocalStore(root, mkdir=True)

    async def open(self, key: str, start: int = 0, end: int | None = None) -> OpenedObject:
        """Open `[start, end)` of the file; raises ObjectNotFound before any byte is sent.

        Blocks of 1 MiB are read with pread in a worker thread: the event loop never waits on
        the disk, and each byte is copied once, from the page cache into its block.
        """
        try:
            fd = await asyncio.to_thread(os.open, self.root / key, os.O_RDONLY)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise ObjectNotFound(key) from exc
        size = os.fstat(fd).st_size
        return OpenedObject(size=size, chunks=_FileBlocks(fd, start, size if end is None else end))

    async def put_stream(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        """Atomic and create-only: an existing object is never replaced."""
        final = self.root / key
        await asyncio.to_thread(final.parent.mkdir, parents=True, exist_ok=True)
        part = final.parent / f".{final.name}.part-{secrets.token_hex(8)}"
        handle = await asyncio.to_thread(open, part, "xb")
        size = 0
        pending = bytearray()  # batch socket-sized chunks into ~1 MiB writes (one thread hop each)
        try:
            async for chunk in chunks:
                pending += chunk
                size += len(chunk)
                if len(pending) >= LOCAL_WRITE_BATCH:
                    await asyncio.to_thread(handle.write, bytes(pending))
                    pending.clear()
            if pending:
                await asyncio.to_thread(handle.write, bytes(pending))
            await asyncio.to_thread(_flush_and_sync, handle)
            handle.close()
            await asyncio.to_thread(os.link, part, final)  # fails if the key exists
        finally:
            handle.close()
            await asyncio.to_thread(_unlink_quietly, part)
        return size

    async def ping(self) -> None:
        await asyncio.to_thread(os.stat, self.root)

    async def signed_url(self, key: str, expires_in: timedelta) -> str | None:
        """A local file has no URL of its own: None."""
        return None

    def local_path(self, key: str) -> Path | None:
        return self.root / key

    async def remove_leftovers(self, prefix: str, older_than: datetime) -> Leftovers:
        """`.part-` files of interrupted writes, then empty directories, under `prefix`.

        A directory is pruned only when it too is older than the cutoff, so one that an upload
        has just created (and is about to write into) stays.
        """
        leftovers = Leftovers()
        await asyncio.to_thread(self._remove_leftovers, prefix, older_than.timestamp(), leftovers)
        return leftovers

    def _remove_leftovers(self, prefix: str, limit: float, leftovers: Leftovers) -> None:
        base = self.root / prefix
        for directory, _subdirectories, files in os.walk(base, topdown=False):
            path = Path(directory)
            for name in files:
                file = path / name
                if ".part-" in name and _mtime(file) < limit and _remove(file, os.unlink):
                    leftovers.part_files.append(file.relative_to(self.root).as_posix())
            if path != base and _mtime(path) < limit and _remove(path, os.rmdir):
                leftovers.pruned_directories.append(path.relative_to(self.root).as_posix())


class _FileBlocks:
    """The blocks of `[start, stop)` of an open file; the descriptor is closed at the end, on
    `aclose()`, or when the stream is dropped before its first block."""

    def __init__(self, fd: int, start: int, stop: int) -> None:
        self._fd: int | None = fd
        self._position = start
        self._stop = min(stop, os.fstat(fd).st_size)

    def __aiter__(self) -> AsyncIterator[bytes | memoryview]:
        return self

    async def __anext__(self) -> bytes | memoryview:
        if self._fd is None or self._position >= self._stop:
            await self.aclose()
            raise StopAsyncIteration
        length = min(LOCAL_READ_BLOCK, self._stop - self._position)
        try:
            block = await asyncio.to_thread(os.pread, self._fd, length, self._position)
        except BaseException:
            await self.aclose()
            raise
        if not block:
            await self.aclose()
            raise StopAsyncIteration
        self._position += len(block)
        return block

    async def aclose(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def __del__(self) -> None:
        if self._fd is not None:
            os.close(self._fd)


class S3Storage(_ObstoreReads):
    """`s3://BUCKET[/PREFIX]`: streamed multipart uploads (8 MiB parts), aborted on failure."""

    def __init__(self, bucket: str, prefix: str, endpoint_url: str | None) -> None:
        config: S3Config = {}
        if endpoint_url:
            config["endpoint"] = endpoint_url
        client_options: ClientConfig = {}
        if endpoint_url and endpoint_url.startswith("http://"):
            client_options["allow_http"] = True
        self.bucket = bucket
        self.store = S3Store(
            bucket,
            prefix=prefix or None,
            config=config,
            client_options=client_options,
            virtual_hosted_style_request=False,
        )

    async def put_stream(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        """Cancelling this aborts the multipart upload too: obstore aborts it when the stream
        fails, but a cancelled (dropped) `put_async` would leave the upload open in the bucket."""
        stream = _AbortableStream(chunks)
        upload = asyncio.ensure_future(
            obstore.put_async(
                self.store,
                key,
                stream,
                use_multipart=True,
                chunk_size=S3_PART_SIZE,
                max_concurrency=4,
            )
        )
        try:
            await asyncio.shield(upload)
        except asyncio.CancelledError:
            stream.abort()
            with contextlib.suppress(BaseException):
                await asyncio.shield(upload)
            raise
        return stream.size

    async def ping(self) -> None:
        async for _batch in obstore.list(self.store, chunk_size=1):
            break

    async def remove_leftovers(self, prefix: str, older_than: datetime) -> Leftovers:
        """Nothing to do: obstore cannot list or abort multipart uploads; the bucket lifecycle
        rule that aborts incomplete uploads covers a crashed process (docs/deploy.md)."""
        return Leftovers()

    async def signed_url(self, key: str, expires_in: timedelta) -> str | None:
        """A presigned GET of the object, valid for `expires_in`."""
        return await obstore.sign_async(self.store, "GET", key, expires_in)

    def local_path(self, key: str) -> Path | None:
        return None


class _UploadAborted(Exception):
    """Raised into obstore's read of the stream so that it aborts the multipart upload."""


class _AbortableStream:
    """Counts the bytes read; `abort()` fails the next read, or the one waiting for a chunk."""

    def __init__(self, chunks: AsyncIterable[bytes]) -> None:
        self._chunks = aiter(chunks)
        self._aborted = False
        self._reading: asyncio.Task[Any] | None = None
        self.size = 0

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        if self._aborted:
            raise _UploadAborted
        self._reading = asyncio.current_task()  # obstore reads each chunk in its own task
        try:
            chunk = await anext(self._chunks)
        except asyncio.CancelledError:
            if self._aborted:
                raise _UploadAborted from None
            raise
        finally:
            self._reading = None
        self.size += len(chunk)
        return chunk

    def abort(self) -> None:
        self._aborted = True
        if self._reading is not None:
            self._reading.cancel()


def _flush_and_sync(handle: Any) -> None:
    handle.flush()
    os.fsync(handle.fileno())


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


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def open_storage(url: str, s3_endpoint_url: str | None = None) -> Storage:
    """Pick the backend from `file://PATH` or `s3://BUCKET[/PREFIX]`."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalStorage(Path(parsed.netloc + parsed.path))
    if parsed.scheme == "s3":
        return S3Storage(parsed.netloc, parsed.path.strip("/"), s3_endpoint_url)
    raise ValueError(f"unsupported storage URL scheme: {parsed.scheme!r}")
