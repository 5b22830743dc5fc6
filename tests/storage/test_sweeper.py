"""The sweeper (files-and-storage.md §9): stale journal entries and local leftovers.

The commit guard (a commit after the sweeper took the entry fails with 500 and changes nothing)
is covered in tests/releases/test_update_failures.py.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from releasegate.app import create_app
from releasegate.files.keys import release_file_key
from releasegate.files.models import JournalKind, StorageJournal
from releasegate.files.staging import StagedWrite
from releasegate.files.sweeper import SweepReport, sweep_once
from releasegate.kit.clock import utcnow
from releasegate.runtime import Runtime
from releasegate.storage.backend import LocalStorage, ObjectNotFound
from tests.fixtures.api import Api, TeamCredentials

CONTENT = b"release bytes"
UPLOAD_GRACE = 3600
DELETE_GRACE = 60


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, object]:
    defaults = {"upload_grace": UPLOAD_GRACE, "deleted_object_grace": DELETE_GRACE}
    return {**defaults, **getattr(request, "param", {})}


def after(seconds: int) -> datetime:
    return utcnow() + timedelta(seconds=seconds)


async def stage(runtime: Runtime, team: TeamCredentials) -> str:
    """A finished staged upload that was never committed: its object and PENDING_UPLOAD."""
    team_id = uuid.UUID(team.team_id)
    key = release_file_key(team_id, uuid.uuid4(), uuid.uuid4())
    write = StagedWrite(runtime.database, runtime.storage, team_id, key)
    await write.start()
    await write.write(CONTENT)
    assert await write.finish() == len(CONTENT)
    return key


async def journal(runtime: Runtime) -> list[tuple[str, str]]:
    async with runtime.database.read() as session:
        rows = await session.scalars(select(StorageJournal))
        return sorted((row.key, row.kind) for row in rows)


async def is_stored(runtime: Runtime, key: str) -> bool:
    try:
        await runtime.storage.head(key)
    except ObjectNotFound:
        return False
    return True


async def create_release(api: Api) -> dict[str, Any]:
    data = {
        "version": "1.0.0",
        "productId": await api.create_product(),
        "status": "PUBLISHED",
        "setAsLatest": True,
        "branchId": None,
        "metadata": [],
        "licenseIds": [],
    }
    response = await api.create_release(data, CONTENT)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()["data"]
    return created


async def test_stale_pending_upload_loses_entry_and_object(
    runtime: Runtime, team: TeamCredentials
) -> None:
    key = await stage(runtime, team)
    report = await sweep_once(runtime, now=after(UPLOAD_GRACE + 1))
    assert report.abandoned_uploads == [key]
    assert report.referenced_uploads == []
    assert await journal(runtime) == []
    assert not await is_stored(runtime, key)


async def test_fresh_pending_upload_is_kept(runtime: Runtime, team: TeamCredentials) -> None:
    key = await stage(runtime, team)
    report = await sweep_once(runtime, now=after(UPLOAD_GRACE - 60))
    assert report == SweepReport()
    assert await journal(runtime) == [(key, "PENDING_UPLOAD")]
    assert await is_stored(runtime, key)


async def test_stale_pending_upload_without_object_loses_its_entry(
    runtime: Runtime, team: TeamCredentials
) -> None:
    key = release_file_key(uuid.UUID(team.team_id), uuid.uuid4(), uuid.uuid4())
    async with runtime.database.write() as session:  # a crash right after journal step 2
        session.add(
            StorageJournal(
                key=key, team_id=uuid.UUID(team.team_id), kind=JournalKind.PENDING_UPLOAD
            )
        )
    report = await sweep_once(runtime, now=after(UPLOAD_GRACE + 1))
    assert report.abandoned_uploads == [key]
    assert await journal(runtime) == []


async def test_pending_upload_of_a_referenced_key_keeps_the_object(
    api: Api, runtime: Runtime
) -> None:
    key = (await create_release(api))["file"]["key"]
    async with runtime.database.write() as session:
        session.add(
            StorageJournal(
                key=key, team_id=uuid.UUID(api.team.team_id), kind=JournalKind.PENDING_UPLOAD
            )
        )
    report = await sweep_once(runtime, now=after(UPLOAD_GRACE + 1))
    assert report.referenced_uploads == [key]
    assert report.abandoned_uploads == []
    assert await journal(runtime) == []
    assert await is_stored(runtime, key)


async def test_pending_delete_past_grace_loses_object_and_entry(api: Api, runtime: Runtime) -> None:
    release = await create_release(api)
    key = release["file"]["key"]
    response = await api.client.delete(
        f"{api.base}/releases/{release['id']}", headers=api.team.headers
    )
    assert response.status_code == 200, response.text
    assert await journal(runtime) == [(key, "PENDING_DELETE")]
    report = await sweep_once(runtime, now=after(DELETE_GRACE + 1))
    assert report.deleted_objects == [key]
    assert await journal(runtime) == []
    assert not await is_stored(runtime, key)


async def test_pending_delete_within_grace_is_kept(api: Api, runtime: Runtime) -> None:
    release = await create_release(api)
    key = release["file"]["key"]
    response = await api.client.delete(
        f"{api.base}/releases/{release['id']}", headers=api.team.headers
    )
    assert response.status_code == 200, response.text
    report = await sweep_once(runtime, now=after(DELETE_GRACE - 30))
    assert report == SweepReport()
    assert await journal(runtime) == [(key, "PENDING_DELETE")]
    assert await is_stored(runtime, key)


async def test_pending_delete_of_a_missing_object_loses_its_entry(
    api: Api, runtime: Runtime
) -> None:
    release = await create_release(api)
    key = release["file"]["key"]
    response = await api.client.delete(
        f"{api.base}/releases/{release['id']}", headers=api.team.headers
    )
    assert response.status_code == 200, response.text
    await runtime.storage.delete(key)
    report = await sweep_once(runtime, now=after(DELETE_GRACE + 1))
    assert report.deleted_objects == [key]
    assert await journal(runtime) == []


async def test_pending_delete_whose_object_delete_fails_keeps_its_entry_for_a_retry(
    api: Api, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = await create_release(api)
    key = release["file"]["key"]
    response = await api.client.delete(
        f"{api.base}/releases/{release['id']}", headers=api.team.headers
    )
    assert response.status_code == 200, response.text

    async def unavailable(_key: str) -> None:
        raise OSError("storage unavailable")

    with monkeypatch.context() as patch:
        patch.setattr(runtime.storage, "delete", unavailable)
        failed = await sweep_once(runtime, now=after(DELETE_GRACE + 1))
    assert failed == SweepReport()
    assert await journal(runtime) == [(key, "PENDING_DELETE")]
    retried = await sweep_once(runtime, now=after(DELETE_GRACE + 1))
    assert retried.deleted_objects == [key]
    assert await journal(runtime) == []
    assert not await is_stored(runtime, key)


@pytest.mark.parametrize(
    "settings_overrides", [{"upload_grace": 0, "run_jobs": True}], indirect=True
)
async def test_app_lifespan_runs_the_sweeper_when_jobs_are_enabled(
    runtime: Runtime, team: TeamCredentials
) -> None:
    key = await stage(runtime, team)
    await asyncio.sleep(0.01)  # older than an upload grace of 0 s
    app = create_app(runtime=runtime)
    async with app.router.lifespan_context(app):
        for _ in range(100):
            if await journal(runtime) == []:
                break
            await asyncio.sleep(0.05)
    assert await journal(runtime) == []
    assert not await is_stored(runtime, key)


async def test_app_lifespan_runs_no_sweeper_when_jobs_are_disabled(
    runtime: Runtime, team: TeamCredentials
) -> None:
    assert runtime.settings.run_jobs is False  # the profiles' default for tests
    key = await stage(runtime, team)
    app = create_app(runtime=runtime)
    async with app.router.lifespan_context(app):
        await asyncio.sleep(0.2)
    assert await journal(runtime) == [(key, "PENDING_UPLOAD")]


async def test_committed_release_file_is_never_deleted(api: Api, runtime: Runtime) -> None:
    release = await create_release(api)
    report = await sweep_once(runtime, now=after(30 * 24 * 3600))
    assert report == SweepReport()
    assert await is_stored(runtime, release["file"]["key"])
    response = await api.client.get(
        f"{api.base}/releases/{release['id']}", headers=api.team.headers
    )
    assert response.status_code == 200, response.text


def leave_part_file(directory: Path) -> Path:
    """What a crashed local put_stream leaves: a `.part-` file in its release directory."""
    directory.mkdir(parents=True)
    part = directory / f".{uuid.uuid4()}.part-0123456789abcdef"
    part.write_bytes(b"partial")
    return part


@pytest.mark.parametrize("profile", ["embedded"], indirect=True)
async def test_stale_part_files_and_empty_directories_are_removed(
    api: Api, runtime: Runtime
) -> None:
    assert isinstance(runtime.storage, LocalStorage)
    root = runtime.storage.root
    key = (await create_release(api))["file"]["key"]
    abandoned = root / "releases" / api.team.team_id / str(uuid.uuid4())
    part = leave_part_file(abandoned)
    report = await sweep_once(runtime, now=after(UPLOAD_GRACE + 1))
    assert report.part_files == [part.relative_to(root).as_posix()]
    assert report.pruned_directories == [abandoned.relative_to(root).as_posix()]
    assert not abandoned.exists()
    assert await is_stored(runtime, key)
    assert [key async for key, _ in runtime.storage.list("releases/")] == [key]


@pytest.mark.parametrize("profile", ["embedded"], indirect=True)
async def test_fresh_part_files_are_kept(runtime: Runtime) -> None:
    assert isinstance(runtime.storage, LocalStorage)
    root = runtime.storage.root
    part = leave_part_file(root / "releases" / str(uuid.uuid4()) / str(uuid.uuid4()))
    report = await sweep_once(runtime, now=after(UPLOAD_GRACE - 60))
    assert report == SweepReport()
    assert part.exists()
