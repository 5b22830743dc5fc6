"""Update Release failure injection: every way a PUT can fail leaves the release exactly as it
was (invariant I6, dev-api-releases.md §3.2 "Improvement (ordering)", files-and-storage.md §8.2).

Each test creates a release with a file, metadata and an allowed license, snapshots everything a
PUT could touch, sends a PUT that would change all of it (new version, status, metadata,
licenses and a new file), makes it fail at one point, and checks that the snapshot is unchanged:
the release row, its ReleaseFile row, metadata, allowed licenses, the team's storage usage, the
storage journal, the audit log, the stored bytes of the old object, and the objects under the
release's storage prefix (no staged or `.part-` leftovers).
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from releasegate.audit.models import AuditLog
from releasegate.files.models import JournalKind, ReleaseFile, StorageJournal, TeamStorageUsage
from releasegate.metadata.models import Metadata
from releasegate.releases import service as release_service
from releasegate.releases.models import Release, ReleaseLicense
from releasegate.runtime import Runtime
from tests.fixtures.api import Api, jar_bytes
from tests.fixtures.multipart import BOUNDARY, content_type, data_part, file_part
from tests.fixtures.state import StorageProbe
from tests.fixtures.teams import set_limits

MIB = 1024 * 1024
OLD_CONTENT = b"old release bytes\n" * 64
VERSION_TAKEN = "A release with this version already exists for this product and branch"


@dataclass(frozen=True)
class Existing:
    release_id: str
    product_id: str
    file_key: str
    license_id: str
    other_license_id: str


@dataclass(frozen=True)
class Snapshot:
    release: dict[str, Any]
    file: dict[str, Any] | None
    metadata: list[dict[str, Any]]
    licenses: list[uuid.UUID]
    used_bytes: int
    journal: list[tuple[str, str]]
    audit_rows: int
    objects: list[str]
    pending_uploads: list[str]


async def read_object(runtime: Runtime, key: str) -> bytes:
    opened = await runtime.storage.open(key)
    return b"".join([chunk async for chunk in opened.chunks])


async def snapshot(probe: StorageProbe, team_id: str, release_id: str) -> Snapshot:
    runtime = probe.runtime
    rid = uuid.UUID(release_id)
    tid = uuid.UUID(team_id)
    async with runtime.database.read() as session:
        release = (
            (await session.execute(select(Release.__table__).where(Release.__table__.c.id == rid)))
            .mappings()
            .one()
        )
        file = (
            (
                await session.execute(
                    select(ReleaseFile.__table__).where(ReleaseFile.__table__.c.release_id == rid)
                )
            )
            .mappings()
            .one_or_none()
        )
        metadata = (
            (
                await session.execute(
                    select(Metadata.__table__)
                    .where(Metadata.__table__.c.release_id == rid)
                    .order_by(Metadata.__table__.c.position)
                )
            )
            .mappings()
            .all()
        )
        licenses = (
            await session.scalars(
                select(ReleaseLicense.license_id)
                .where(ReleaseLicense.release_id == rid)
                .order_by(ReleaseLicense.license_id)
            )
        ).all()
        used = await session.scalar(
            select(TeamStorageUsage.used_bytes).where(TeamStorageUsage.team_id == tid)
        )
        journal = (
            await session.execute(
                select(StorageJournal.key, StorageJournal.kind).order_by(StorageJournal.key)
            )
        ).all()
        audit_rows = await session.scalar(select(func.count()).select_from(AuditLog))
    return Snapshot(
        release=dict(release),
        file=None if file is None else dict(file),
        metadata=[dict(row) for row in metadata],
        licenses=list(licenses),
        used_bytes=int(used or 0),
        journal=[(key, kind) for key, kind in journal],
        audit_rows=int(audit_rows or 0),
        objects=await probe.objects(f"releases/{team_id}/{release_id}"),
        pending_uploads=await probe.pending_uploads(),
    )


@pytest.fixture
async def existing(api: Api) -> Existing:
    product_id = await api.create_product()
    license_id = (await api.create_license([product_id]))["id"]
    other_license_id = (await api.create_license([product_id]))["id"]
    response = await api.create_release(
        {
            "version": "1.0.0",
            "productId": product_id,
            "status": "PUBLISHED",
            "metadata": [{"key": "mc", "value": "1.21", "locked": True}],
            "licenseIds": [license_id],
        },
        OLD_CONTENT,
        "old.txt",
    )
    assert response.status_code == 201, response.text
    release = response.json()["data"]
    return Existing(
        release_id=release["id"],
        product_id=product_id,
        file_key=release["file"]["key"],
        license_id=license_id,
        other_license_id=other_license_id,
    )


def changing_body(existing: Existing, **changes: Any) -> dict[str, Any]:
    """A PUT body that would change every field of the release if it succeeded."""
    body: dict[str, Any] = {
        "version": "2.0.0",
        "productId": existing.product_id,
        "status": "DRAFT",
        "setAsLatest": False,
        "keepExistingFile": False,
        "branchId": None,
        "metadata": [{"key": "new", "value": "value"}],
        "licenseIds": [existing.other_license_id],
    }
    body.update(changes)
    return body


async def before_failure(probe: StorageProbe, api: Api, existing: Existing) -> Snapshot:
    runtime = probe.runtime
    before = await snapshot(probe, api.team.team_id, existing.release_id)
    assert before.file is not None and before.file["key"] == existing.file_key
    assert before.journal == []
    assert before.objects == [existing.file_key]
    assert await read_object(runtime, existing.file_key) == OLD_CONTENT
    return before


async def assert_unchanged(
    probe: StorageProbe, api: Api, existing: Existing, before: Snapshot
) -> None:
    runtime = probe.runtime
    after = await snapshot(probe, api.team.team_id, existing.release_id)
    assert after.release == before.release
    assert after.file == before.file
    assert after.metadata == before.metadata
    assert after.licenses == before.licenses == [uuid.UUID(existing.license_id)]
    assert after.used_bytes == before.used_bytes == len(OLD_CONTENT)
    assert after.journal == []  # no leftover PENDING_UPLOAD (nor PENDING_DELETE) entry
    assert after.audit_rows == before.audit_rows
    assert after.objects == [existing.file_key]
    assert after.pending_uploads == []
    assert await read_object(runtime, existing.file_key) == OLD_CONTENT


def assert_error(response: Any, status: int, details: str) -> None:
    assert response.status_code == status, response.text
    payload = response.json()
    assert payload["result"]["details"] == details
    assert payload["result"]["valid"] is False
    assert payload["data"] is None


# --- Validation failures after the new file was staged ----------------------------------------


async def test_jar_without_main_class_changes_nothing(
    api: Api, probe: StorageProbe, existing: Existing
) -> None:
    before = await before_failure(probe, api, existing)
    response = await api.update_release(
        existing.release_id, changing_body(existing), jar_bytes(None), "new.jar"
    )
    assert_error(response, 400, "Main class not found in JAR file")
    await assert_unchanged(probe, api, existing, before)


@pytest.mark.parametrize("settings_overrides", [{"max_file_size_mb": 1}], ids=["limit-1mb"])
async def test_file_over_size_limit_changes_nothing(
    api: Api, probe: StorageProbe, existing: Existing
) -> None:
    before = await before_failure(probe, api, existing)
    response = await api.update_release(
        existing.release_id, changing_body(existing), b"x" * (MIB + 1), "new.txt"
    )
    assert_error(response, 400, "File too large. Maximum size is 1.0 MB")
    assert response.headers["connection"] == "close"
    await assert_unchanged(probe, api, existing, before)


async def test_sha256_mismatch_changes_nothing(
    api: Api, probe: StorageProbe, existing: Existing
) -> None:
    before = await before_failure(probe, api, existing)
    new_content = b"new bytes"
    wrong = hashlib.sha256(b"other bytes").hexdigest()
    response = await api.update_release(
        existing.release_id, changing_body(existing, sha256=wrong), new_content, "new.txt"
    )
    assert_error(response, 400, "File checksum mismatch")
    await assert_unchanged(probe, api, existing, before)


async def test_storage_limit_refusal_changes_nothing(
    api: Api, runtime: Runtime, probe: StorageProbe, existing: Existing
) -> None:
    await set_limits(runtime, api.team.team_id, max_storage_mb=1)
    before = await before_failure(probe, api, existing)
    response = await api.update_release(
        existing.release_id, changing_body(existing), b"y" * (MIB + 1), "new.txt"
    )
    assert_error(response, 400, "Storage limit reached")
    await assert_unchanged(probe, api, existing, before)


async def test_version_conflict_changes_nothing(
    api: Api, probe: StorageProbe, existing: Existing
) -> None:
    other = await api.create_release(
        {"version": "2.0.0", "productId": existing.product_id, "status": "PUBLISHED"}
    )
    assert other.status_code == 201, other.text
    before = await before_failure(probe, api, existing)
    response = await api.update_release(
        existing.release_id, changing_body(existing), b"new bytes", "new.txt"
    )
    assert_error(response, 409, VERSION_TAKEN)
    await assert_unchanged(probe, api, existing, before)


# --- Server-side faults: 500, and still nothing changed ----------------------------------------


async def chunked_update_body(existing: Existing, file_size: int) -> AsyncIterator[bytes]:
    """A data-first multipart body whose file arrives in 64 KiB chunks (one event each)."""
    chunk = 64 * 1024
    yield (
        f"--{BOUNDARY}\r\n".encode()
        + data_part(changing_body(existing)).encode()
        + f"\r\n--{BOUNDARY}\r\n".encode()
        + file_part(b"", "new.txt").encode()
    )
    sent = 0
    while sent < file_size:
        piece = min(chunk, file_size - sent)
        yield b"z" * piece
        sent += piece
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


async def test_storage_error_while_streaming_is_500_and_changes_nothing(
    api: Api,
    runtime: Runtime,
    probe: StorageProbe,
    existing: Existing,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = runtime.storage.put_stream
    consumed: list[int] = []

    async def failing_put_stream(key: str, chunks: AsyncIterable[bytes]) -> int:
        async def until_failure() -> AsyncIterator[bytes]:
            async for chunk in chunks:
                consumed.append(len(chunk))
                yield chunk
                if len(consumed) == 3:
                    raise OSError("disk failed mid-stream")

        return await original(key, until_failure())

    monkeypatch.setattr(runtime.storage, "put_stream", failing_put_stream)
    before = await before_failure(probe, api, existing)
    response = await api.client.put(
        f"{api.base}/releases/{existing.release_id}",
        content=chunked_update_body(existing, 2 * MIB),
        headers={**api.team.headers, "Content-Type": content_type()},
    )
    assert_error(response, 500, "Internal server error")
    assert len(consumed) == 3
    await assert_unchanged(probe, api, existing, before)


async def test_failure_inside_commit_is_500_and_changes_nothing(
    api: Api,
    probe: StorageProbe,
    existing: Existing,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    objects_at_commit: list[list[str]] = []
    prefix = f"releases/{api.team.team_id}/{existing.release_id}"

    async def failing_record(*_args: Any, **kwargs: Any) -> None:
        calls.append(str(kwargs.get("action")))
        objects_at_commit.append(await probe.objects(prefix))
        raise RuntimeError("audit insert failed")

    before = await before_failure(probe, api, existing)
    # The audit insert of every change goes through releasegate.changes.
    monkeypatch.setattr("releasegate.changes.record", failing_record)
    response = await api.update_release(
        existing.release_id, changing_body(existing), b"new bytes", "new.txt"
    )
    monkeypatch.undo()
    assert_error(response, 500, "Internal server error")
    assert calls == ["UPDATE_RELEASE"]
    # The new object was fully staged when the commit failed, and is gone afterwards.
    assert len(objects_at_commit[0]) == 2 and existing.file_key in objects_at_commit[0]
    await assert_unchanged(probe, api, existing, before)


async def test_upload_swept_before_commit_is_500_and_changes_nothing(
    api: Api,
    probe: StorageProbe,
    existing: Existing,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original_inspect = release_service.inspect
    swept: list[str] = []

    async def inspect_then_sweep(runtime_: Runtime, staged: Any, **options: Any) -> Any:
        facts = await original_inspect(runtime_, staged, **options)
        assert await read_object(runtime_, staged.key) == b"new bytes"
        async with runtime_.database.write() as session:  # what the sweeper's claim does
            result = await session.execute(
                delete(StorageJournal).where(
                    StorageJournal.key == staged.key,
                    StorageJournal.kind == JournalKind.PENDING_UPLOAD,
                )
            )
            assert result.rowcount == 1  # type: ignore[attr-defined]
        swept.append(staged.key)
        return facts

    monkeypatch.setattr(release_service, "inspect", inspect_then_sweep)
    before = await before_failure(probe, api, existing)
    response = await api.update_release(
        existing.release_id, changing_body(existing), b"new bytes", "new.txt"
    )
    assert_error(response, 500, "Internal server error")
    assert len(swept) == 1
    assert swept[0].startswith(f"releases/{api.team.team_id}/{existing.release_id}/")
    assert swept[0] != existing.file_key
    await assert_unchanged(probe, api, existing, before)


async def test_storage_error_after_last_chunk_is_500_and_changes_nothing(
    api: Api,
    runtime: Runtime,
    probe: StorageProbe,
    existing: Existing,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The backend fails after the whole file was handed over, while the intake is waiting
    to complete the write (9 chunks: one taken by the backend, eight filling the queue)."""
    original = runtime.storage.put_stream

    async def slow_then_failing(key: str, chunks: AsyncIterable[bytes]) -> int:
        async def first_then_failure() -> AsyncIterator[bytes]:
            async for chunk in chunks:
                yield chunk
                await asyncio.sleep(0.5)
                raise OSError("backend failed before completing the object")

        return await original(key, first_then_failure())

    monkeypatch.setattr(runtime.storage, "put_stream", slow_then_failing)
    before = await before_failure(probe, api, existing)
    try:
        async with asyncio.timeout(10):
            response = await api.client.put(
                f"{api.base}/releases/{existing.release_id}",
                content=chunked_update_body(existing, 9 * 64 * 1024),
                headers={**api.team.headers, "Content-Type": content_type()},
            )
    except TimeoutError:
        # pytrace=False: formatting this cancelled stack has crashed pytest (CPython 3.11
        # "AST constructor recursion depth mismatch") and aborted the whole session.
        pytest.fail(
            "PUT never answered after the storage backend failed (request hung)", pytrace=False
        )
    assert_error(response, 500, "Internal server error")
    await assert_unchanged(probe, api, existing, before)
