"""Reconciliation (files-and-storage.md §9): orphaned objects and missing objects."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from datetime import datetime, timedelta
from typing import Any

import structlog.testing

from releasegate.files.keys import release_file_key
from releasegate.files.reconcile import ReconcileReport, reconcile
from releasegate.files.staging import StagedWrite
from releasegate.kit.clock import utcnow
from releasegate.runtime import Runtime
from releasegate.storage import ObjectNotFound
from tests.fixtures.api import Api, TeamCredentials

CONTENT = b"release bytes"


def later(hours: float) -> datetime:
    """Reconciliation's view of time: objects written now are `hours` old."""
    return utcnow() + timedelta(hours=hours)


async def chunks(parts: Iterable[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def put_orphan(runtime: Runtime, team: TeamCredentials) -> str:
    """An object no row references and no journal entry covers (a sweeper that died)."""
    key = release_file_key(uuid.UUID(team.team_id), uuid.uuid4(), uuid.uuid4())
    await runtime.storage.put_stream(key, chunks([CONTENT]))
    return key


async def stage(runtime: Runtime, team: TeamCredentials) -> str:
    team_id = uuid.UUID(team.team_id)
    key = release_file_key(team_id, uuid.uuid4(), uuid.uuid4())
    write = StagedWrite(runtime.database, runtime.storage, team_id, key)
    await write.start()
    await write.write(CONTENT)
    await write.finish()
    return key


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


async def is_stored(runtime: Runtime, key: str) -> bool:
    try:
        await runtime.storage.head(key)
    except ObjectNotFound:
        return False
    return True


async def test_old_unreferenced_object_is_reported_as_orphan(
    runtime: Runtime, team: TeamCredentials
) -> None:
    key = await put_orphan(runtime, team)
    report = await reconcile(runtime, now=later(25))
    assert report == ReconcileReport(orphans=[key], missing=[], deleted=[])
    assert await is_stored(runtime, key)  # read-only without delete


async def test_recent_unreferenced_object_is_not_reported(
    runtime: Runtime, team: TeamCredentials
) -> None:
    await put_orphan(runtime, team)
    assert await reconcile(runtime, now=later(23)) == ReconcileReport()


async def test_object_covered_by_a_journal_entry_is_not_an_orphan(
    runtime: Runtime, team: TeamCredentials
) -> None:
    await stage(runtime, team)
    assert await reconcile(runtime, now=later(25)) == ReconcileReport()


async def test_referenced_object_is_not_an_orphan(api: Api, runtime: Runtime) -> None:
    await create_release(api)
    assert await reconcile(runtime, now=later(25)) == ReconcileReport()


async def test_delete_removes_only_orphans(api: Api, runtime: Runtime) -> None:
    orphan = await put_orphan(runtime, api.team)
    staged = await stage(runtime, api.team)
    committed = (await create_release(api))["file"]["key"]
    report = await reconcile(runtime, delete=True, now=later(25))
    assert report == ReconcileReport(orphans=[orphan], missing=[], deleted=[orphan])
    assert not await is_stored(runtime, orphan)
    assert await is_stored(runtime, staged)
    assert await is_stored(runtime, committed)


async def test_release_file_without_object_is_reported_missing(api: Api, runtime: Runtime) -> None:
    key = (await create_release(api))["file"]["key"]
    await runtime.storage.delete(key)
    report = await reconcile(runtime, delete=True)
    assert report == ReconcileReport(orphans=[], missing=[key], deleted=[])


async def test_missing_object_is_logged_at_error_level(api: Api, runtime: Runtime) -> None:
    key = (await create_release(api))["file"]["key"]
    await runtime.storage.delete(key)
    with structlog.testing.capture_logs() as logs:
        await reconcile(runtime)
    assert [entry for entry in logs if entry["event"] == "storage_object_missing"] == [
        {"event": "storage_object_missing", "key": key, "log_level": "error"}
    ]


async def test_to_json_lists_the_three_sets() -> None:
    report = ReconcileReport(orphans=["a"], missing=["b"], deleted=["a"])
    assert report.to_json() == {"orphans": ["a"], "missing": ["b"], "deleted": ["a"]}
