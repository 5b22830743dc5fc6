"""LocalStorage contract and staged writes (files-and-storage.md §6–§7)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from releasegate.db.migrate import upgrade_to_head
from releasegate.db.session import Database
from releasegate.files.keys import release_file_key
from releasegate.files.models import JournalKind, StorageJournal
from releasegate.files.staging import StagedWrite, StagingFailed, discard_object
from releasegate.kit.clock import utcnow
from releasegate.storage.backend import LocalStorage, ObjectNotFound, open_storage
from releasegate.teams.models import Team

DATA = bytes(range(256)) * 40  # 10,240 bytes


class Boom(Exception):
    pass


async def chunked(parts: Iterable[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def new_key() -> str:
    return release_file_key(uuid.uuid4(), uuid.uuid4(), uuid.uuid4())


def part_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if ".part-" in path.name]


async def read_all(
    storage: LocalStorage, key: str, start: int = 0, end: int | None = None
) -> bytes:
    opened = await storage.open(key, start, end)
    return b"".join([chunk async for chunk in opened.chunks])


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "files"


@pytest.fixture
def storage(root: Path) -> LocalStorage:
    return LocalStorage(root)


# --- put_stream ------------------------------------------------------------------------------


async def test_put_stream_returns_size(storage: LocalStorage) -> None:
    assert await storage.put_stream(new_key(), chunked([DATA[:100], DATA[100:]])) == len(DATA)


async def test_put_stream_stores_the_bytes_under_root(storage: LocalStorage, root: Path) -> None:
    key = new_key()
    await storage.put_stream(key, chunked([DATA[:100], DATA[100:]]))
    assert (root / key).read_bytes() == DATA


async def test_put_stream_of_no_chunks_creates_empty_object(storage: LocalStorage) -> None:
    key = new_key()
    assert await storage.put_stream(key, chunked([])) == 0
    assert await storage.head(key) == 0


async def test_put_stream_leaves_no_part_file_after_success(
    storage: LocalStorage, root: Path
) -> None:
    await storage.put_stream(new_key(), chunked([DATA]))
    assert part_files(root) == []


async def test_object_is_not_visible_while_being_written(storage: LocalStorage) -> None:
    key = new_key()
    seen: list[bool] = []

    async def chunks() -> AsyncIterator[bytes]:
        yield DATA[:5000]
        try:
            await storage.head(key)
            seen.append(True)
        except ObjectNotFound:
            seen.append(False)
        yield DATA[5000:]

    await storage.put_stream(key, chunks())
    assert seen == [False]


async def test_partial_write_is_a_dot_part_file_next_to_the_target(
    storage: LocalStorage, root: Path
) -> None:
    key = new_key()
    during: list[list[str]] = []

    async def chunks() -> AsyncIterator[bytes]:
        yield DATA[:5000]
        during.append([path.name for path in part_files(root)])
        yield DATA[5000:]

    await storage.put_stream(key, chunks())
    file_id = key.rsplit("/", 1)[1]
    assert len(during[0]) == 1
    assert during[0][0].startswith(f".{file_id}.part-")


async def test_partial_write_is_not_listed(storage: LocalStorage) -> None:
    key = new_key()
    listed: list[list[str]] = []

    async def chunks() -> AsyncIterator[bytes]:
        yield DATA[:5000]
        listed.append([found async for found, _ in storage.list("releases")])
        yield DATA[5000:]

    await storage.put_stream(key, chunks())
    assert listed == [[]]


async def test_failed_stream_raises_the_iterator_error(storage: LocalStorage) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield DATA[:5000]
        raise Boom

    with pytest.raises(Boom):
        await storage.put_stream(new_key(), chunks())


async def test_failed_stream_leaves_no_object(storage: LocalStorage) -> None:
    key = new_key()

    async def chunks() -> AsyncIterator[bytes]:
        yield DATA[:5000]
        raise Boom

    with pytest.raises(Boom):
        await storage.put_stream(key, chunks())
    with pytest.raises(ObjectNotFound):
        await storage.head(key)


async def test_failed_stream_leaves_no_part_file(storage: LocalStorage, root: Path) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield DATA[:5000]
        raise Boom

    with pytest.raises(Boom):
        await storage.put_stream(new_key(), chunks())
    assert part_files(root) == []


async def test_cancelled_put_leaves_no_object_and_no_part_file(
    storage: LocalStorage, root: Path
) -> None:
    key = new_key()
    started = asyncio.Event()

    async def chunks() -> AsyncIterator[bytes]:
        yield DATA[:5000]
        started.set()
        await asyncio.sleep(3600)
        yield DATA[5000:]

    task = asyncio.create_task(storage.put_stream(key, chunks()))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not (root / key).exists()
    assert part_files(root) == []


async def test_second_put_to_same_key_raises(storage: LocalStorage) -> None:
    key = new_key()
    await storage.put_stream(key, chunked([DATA]))
    with pytest.raises(FileExistsError):
        await storage.put_stream(key, chunked([b"replacement"]))


async def test_second_put_to_same_key_keeps_first_bytes(storage: LocalStorage) -> None:
    key = new_key()
    await storage.put_stream(key, chunked([DATA]))
    with pytest.raises(FileExistsError):
        await storage.put_stream(key, chunked([b"replacement"]))
    assert await read_all(storage, key) == DATA


async def test_second_put_to_same_key_leaves_no_part_file(
    storage: LocalStorage, root: Path
) -> None:
    key = new_key()
    await storage.put_stream(key, chunked([DATA]))
    with pytest.raises(FileExistsError):
        await storage.put_stream(key, chunked([b"replacement"]))
    assert part_files(root) == []


# --- open / head / read_range ----------------------------------------------------------------


async def test_open_full_object_reports_size(storage: LocalStorage) -> None:
    key = new_key()
    await storage.put_stream(key, chunked([DATA]))
    assert (await storage.open(key)).size == len(DATA)


async def test_open_full_object_streams_all_bytes(storage: LocalStorage) -> None:
    key = new_key()
    await storage.put_stream(key, chunked([DATA]))
    assert await read_all(storage, key) == DATA


async def test_open_large_object_streams_all_bytes(storage: LocalStorage) -> None:
    key = new_key()
    big = DATA * 100  # ~1 MiB, several read chunks
    await storage.put_stream(key, chunked([big]))
    assert await read_all(storage, key) == big


async def test_open_range_start_and_end(storage: LocalStorage) -> None:
    key = new_key()
    await storage.put_stream(key, chunked([DATA]))
    assert await read_all(storage, key, 100, 300) == DATA[100:300]


async def test_open_range_from_start_to_end_of_object(storage: LocalStorage) -> None:
    key = new_key()
    await storage.put_stream(key, chunked([DATA]))
    assert await read_all(storage, key, 10_000) == DATA[10_000:]


async def test_open_range_from_zero_with_end(storage: LocalStorage) -> None:
    key = new_key()
    await storage.put_stream(key, chunked([DATA]))
    assert await read_all(storage, key, 0, 16) == DATA[:16]


async def test_open_missing_raises_object_not_found(storage: LocalStorage) -> None:
    with pytest.raises(ObjectNotFound):
        await storage.open(new_key())


async def test_open_missing_with_range_raises_object_not_found(storage: LocalStorage) -> None:
    with pytest.raises(ObjectNotFound):
        await storage.open(new_key(), 5, 10)


async def test_head_reports_size(storage: LocalStorage) -> None:
    key = new_key()
    await storage.put_stream(key, chunked([DATA[:1234]]))
    assert await storage.head(key) == 1234


async def test_head_missing_raises_object_not_found(storage: LocalStorage) -> None:
    with pytest.raises(ObjectNotFound):
        await storage.head(new_key())


async def test_read_range_returns_exact_bytes(storage: LocalStorage) -> None:
    key = new_key()
    await storage.put_stream(key, chunked([DATA]))
    assert await storage.read_range(key, 1000, 50) == DATA[1000:1050]


async def test_read_range_at_end_of_object(storage: LocalStorage) -> None:
    key = new_key()
    await storage.put_stream(key, chunked([DATA]))
    assert await storage.read_range(key, len(DATA) - 22, 22) == DATA[-22:]


async def test_read_range_of_zero_length_is_empty(storage: LocalStorage) -> None:
    key = new_key()
    await storage.put_stream(key, chunked([DATA]))
    assert await storage.read_range(key, 10, 0) == b""


async def test_read_range_missing_raises_object_not_found(storage: LocalStorage) -> None:
    with pytest.raises(ObjectNotFound):
        await storage.read_range(new_key(), 0, 10)


# --- delete / list ---------------------------------------------------------------------------


async def test_delete_removes_object(storage: LocalStorage) -> None:
    key = new_key()
    await storage.put_stream(key, chunked([DATA]))
    await storage.delete(key)
    with pytest.raises(ObjectNotFound):
        await storage.head(key)


async def test_delete_missing_object_succeeds(storage: LocalStorage) -> None:
    await storage.delete(new_key())


async def test_delete_twice_succeeds(storage: LocalStorage) -> None:
    key = new_key()
    await storage.put_stream(key, chunked([DATA]))
    await storage.delete(key)
    await storage.delete(key)
    with pytest.raises(ObjectNotFound):
        await storage.head(key)


async def test_key_can_be_written_again_after_delete(storage: LocalStorage) -> None:
    key = new_key()
    await storage.put_stream(key, chunked([DATA]))
    await storage.delete(key)
    await storage.put_stream(key, chunked([b"again"]))
    assert await read_all(storage, key) == b"again"


async def test_list_returns_keys_under_prefix(storage: LocalStorage) -> None:
    team, other = uuid.uuid4(), uuid.uuid4()
    first = release_file_key(team, uuid.uuid4(), uuid.uuid4())
    second = release_file_key(team, uuid.uuid4(), uuid.uuid4())
    foreign = release_file_key(other, uuid.uuid4(), uuid.uuid4())
    for key in (first, second, foreign):
        await storage.put_stream(key, chunked([b"x"]))
    listed = sorted([key async for key, _ in storage.list(f"releases/{team}")])
    assert listed == sorted([first, second])


async def test_list_reports_last_modified_times(storage: LocalStorage) -> None:
    key = new_key()
    await storage.put_stream(key, chunked([b"x"]))
    listed = [modified async for _, modified in storage.list("releases")]
    assert len(listed) == 1
    assert isinstance(listed[0], datetime)
    assert listed[0].tzinfo is not None
    assert abs((utcnow() - listed[0]).total_seconds()) < 60


async def test_list_of_empty_prefix_is_empty(storage: LocalStorage) -> None:
    assert [key async for key, _ in storage.list(f"releases/{uuid.uuid4()}")] == []


async def test_list_omits_deleted_objects(storage: LocalStorage) -> None:
    key = new_key()
    await storage.put_stream(key, chunked([b"x"]))
    await storage.delete(key)
    assert [found async for found, _ in storage.list("releases")] == []


def test_open_storage_with_file_url_is_local(tmp_path: Path) -> None:
    opened = open_storage(f"file://{tmp_path / 'files'}")
    assert isinstance(opened, LocalStorage)
    assert opened.root == tmp_path / "files"


def test_open_storage_rejects_unknown_scheme() -> None:
    with pytest.raises(ValueError, match="unsupported storage URL scheme"):
        open_storage("ftp://example/files")


def test_release_file_key_is_built_from_ids_only() -> None:
    team = uuid.UUID("0b5c7a52-3f0e-4c1a-9a57-2f5d9a0c1e11")
    release = uuid.UUID("7d1f0e1c-5b2a-4f3e-8c9d-0a1b2c3d4e5f")
    file = uuid.UUID("11111111-2222-4333-8444-555555555555")
    assert release_file_key(team, release, file) == (
        "releases/0b5c7a52-3f0e-4c1a-9a57-2f5d9a0c1e11/"
        "7d1f0e1c-5b2a-4f3e-8c9d-0a1b2c3d4e5f/11111111-2222-4333-8444-555555555555"
    )


# --- staged writes -----------------------------------------------------------------------------


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'releasegate.db'}"
    upgrade_to_head(url)
    return url


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    try:
        yield db
    finally:
        await db.dispose()


@pytest.fixture
async def team_id(database: Database) -> uuid.UUID:
    created = uuid.uuid4()
    async with database.write() as session:
        now = utcnow()
        session.add(Team(id=created, name="Staging", created_at=now, updated_at=now))
    return created


async def journal_rows(database: Database, key: str) -> list[tuple[str, uuid.UUID]]:
    async with database.read() as session:
        rows = await session.scalars(select(StorageJournal).where(StorageJournal.key == key))
        return [(row.kind, row.team_id) for row in rows]


async def test_start_inserts_pending_upload_journal_row(
    database: Database, storage: LocalStorage, team_id: uuid.UUID
) -> None:
    key = release_file_key(team_id, uuid.uuid4(), uuid.uuid4())
    staged = StagedWrite(database, storage, team_id, key)
    await staged.start()
    try:
        assert await journal_rows(database, key) == [(JournalKind.PENDING_UPLOAD, team_id)]
    finally:
        await staged.abort()


async def test_start_does_not_make_the_object_visible(
    database: Database, storage: LocalStorage, team_id: uuid.UUID
) -> None:
    key = release_file_key(team_id, uuid.uuid4(), uuid.uuid4())
    staged = StagedWrite(database, storage, team_id, key)
    await staged.start()
    try:
        await staged.write(DATA[:100])
        with pytest.raises(ObjectNotFound):
            await storage.head(key)
    finally:
        await staged.abort()


async def test_finish_returns_size(
    database: Database, storage: LocalStorage, team_id: uuid.UUID
) -> None:
    key = release_file_key(team_id, uuid.uuid4(), uuid.uuid4())
    staged = StagedWrite(database, storage, team_id, key)
    await staged.start()
    for offset in range(0, len(DATA), 1000):
        await staged.write(DATA[offset : offset + 1000])
    assert await staged.finish() == len(DATA)


async def test_finish_leaves_the_complete_object(
    database: Database, storage: LocalStorage, team_id: uuid.UUID
) -> None:
    key = release_file_key(team_id, uuid.uuid4(), uuid.uuid4())
    staged = StagedWrite(database, storage, team_id, key)
    await staged.start()
    for offset in range(0, len(DATA), 1000):
        await staged.write(DATA[offset : offset + 1000])
    await staged.finish()
    assert await read_all(storage, key) == DATA


async def test_finish_keeps_the_journal_row_for_the_commit_to_delete(
    database: Database, storage: LocalStorage, team_id: uuid.UUID
) -> None:
    key = release_file_key(team_id, uuid.uuid4(), uuid.uuid4())
    staged = StagedWrite(database, storage, team_id, key)
    await staged.start()
    await staged.write(DATA)
    await staged.finish()
    assert await journal_rows(database, key) == [(JournalKind.PENDING_UPLOAD, team_id)]


async def test_many_chunks_are_written_in_order(
    database: Database, storage: LocalStorage, team_id: uuid.UUID
) -> None:
    key = release_file_key(team_id, uuid.uuid4(), uuid.uuid4())
    staged = StagedWrite(database, storage, team_id, key)
    await staged.start()
    pieces = [bytes([i % 256]) * 97 for i in range(200)]  # more chunks than the queue holds
    for piece in pieces:
        await staged.write(piece)
    assert await staged.finish() == 97 * 200
    assert await read_all(storage, key) == b"".join(pieces)


async def test_abort_mid_write_leaves_no_object(
    database: Database, storage: LocalStorage, team_id: uuid.UUID
) -> None:
    key = release_file_key(team_id, uuid.uuid4(), uuid.uuid4())
    staged = StagedWrite(database, storage, team_id, key)
    await staged.start()
    await staged.write(DATA[:5000])
    await staged.abort()
    with pytest.raises(ObjectNotFound):
        await storage.head(key)


async def test_abort_mid_write_leaves_no_journal_row(
    database: Database, storage: LocalStorage, team_id: uuid.UUID
) -> None:
    key = release_file_key(team_id, uuid.uuid4(), uuid.uuid4())
    staged = StagedWrite(database, storage, team_id, key)
    await staged.start()
    await staged.write(DATA[:5000])
    await staged.abort()
    assert await journal_rows(database, key) == []


async def test_abort_mid_write_leaves_no_part_file(
    database: Database, storage: LocalStorage, team_id: uuid.UUID, root: Path
) -> None:
    key = release_file_key(team_id, uuid.uuid4(), uuid.uuid4())
    staged = StagedWrite(database, storage, team_id, key)
    await staged.start()
    await staged.write(DATA[:5000])
    await staged.abort()
    assert part_files(root) == []


async def test_abort_with_full_queue_leaves_nothing(
    database: Database, storage: LocalStorage, team_id: uuid.UUID, root: Path
) -> None:
    key = release_file_key(team_id, uuid.uuid4(), uuid.uuid4())
    staged = StagedWrite(database, storage, team_id, key)
    await staged.start()
    for _ in range(20):
        await staged.write(DATA)
    await staged.abort()
    assert (await journal_rows(database, key), part_files(root), (root / key).exists()) == (
        [],
        [],
        False,
    )


async def test_abort_after_finish_removes_object_and_journal_row(
    database: Database, storage: LocalStorage, team_id: uuid.UUID
) -> None:
    """A post-upload check failed (§8.1 step 4): delete the object, then the journal entry."""
    key = release_file_key(team_id, uuid.uuid4(), uuid.uuid4())
    staged = StagedWrite(database, storage, team_id, key)
    await staged.start()
    await staged.write(DATA)
    await staged.finish()
    await staged.abort()
    with pytest.raises(ObjectNotFound):
        await storage.head(key)
    assert await journal_rows(database, key) == []


async def test_abort_right_after_start_leaves_nothing(
    database: Database, storage: LocalStorage, team_id: uuid.UUID, root: Path
) -> None:
    key = release_file_key(team_id, uuid.uuid4(), uuid.uuid4())
    staged = StagedWrite(database, storage, team_id, key)
    await staged.start()
    await staged.abort()
    assert (await journal_rows(database, key), part_files(root), (root / key).exists()) == (
        [],
        [],
        False,
    )


async def test_finish_on_existing_key_raises_staging_failed(
    database: Database, storage: LocalStorage, team_id: uuid.UUID
) -> None:
    key = release_file_key(team_id, uuid.uuid4(), uuid.uuid4())
    await storage.put_stream(key, chunked([DATA]))
    staged = StagedWrite(database, storage, team_id, key)
    await staged.start()
    await staged.write(b"other bytes")
    with pytest.raises(StagingFailed):
        await staged.finish()
    assert await read_all(storage, key) == DATA


async def test_discard_object_removes_object_and_pending_upload_row(
    database: Database, storage: LocalStorage, team_id: uuid.UUID
) -> None:
    key = release_file_key(team_id, uuid.uuid4(), uuid.uuid4())
    staged = StagedWrite(database, storage, team_id, key)
    await staged.start()
    await staged.write(DATA)
    await staged.finish()
    await discard_object(database, storage, key)
    with pytest.raises(ObjectNotFound):
        await storage.head(key)
    assert await journal_rows(database, key) == []


async def test_discard_object_of_missing_object_removes_journal_row(
    database: Database, storage: LocalStorage, team_id: uuid.UUID
) -> None:
    key = release_file_key(team_id, uuid.uuid4(), uuid.uuid4())
    async with database.write() as session:
        session.add(StorageJournal(key=key, team_id=team_id, kind=JournalKind.PENDING_UPLOAD))
    await discard_object(database, storage, key)
    assert await journal_rows(database, key) == []


async def test_discard_object_keeps_other_keys(
    database: Database, storage: LocalStorage, team_id: uuid.UUID
) -> None:
    kept = release_file_key(team_id, uuid.uuid4(), uuid.uuid4())
    dropped = release_file_key(team_id, uuid.uuid4(), uuid.uuid4())
    for key in (kept, dropped):
        staged = StagedWrite(database, storage, team_id, key)
        await staged.start()
        await staged.write(DATA)
        await staged.finish()
    await discard_object(database, storage, dropped)
    assert await storage.head(kept) == len(DATA)
    assert await journal_rows(database, kept) == [(JournalKind.PENDING_UPLOAD, team_id)]
