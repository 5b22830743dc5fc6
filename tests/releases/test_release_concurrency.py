"""Concurrent release writes: the unique indexes and the product lock hold under parallel
requests (invariants I1, I2, I5; dev-api-releases.md §1.7, §2.3 rows 25 and 30–32).

The parallel tests fire 20 requests at once with asyncio.gather over one client and then check
the database, not only the responses. The last tests force each commit-time re-check to be the
one that decides, by making the unlocked pre-check miss the conflict.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from releasegate.files import repository as file_rows
from releasegate.files.models import ReleaseFile, StorageJournal, TeamStorageUsage
from releasegate.releases import repository as release_repo
from releasegate.releases.models import Release
from releasegate.runtime import Runtime
from tests.fixtures.api import Api, update_body
from tests.fixtures.teams import set_limits

MIB = 1024 * 1024
PARALLEL = 20
VERSION_TAKEN = "A release with this version already exists for this product and branch"


@pytest.fixture
async def product_id(api: Api) -> str:
    return await api.create_product()


def body(product_id: str, **changes: Any) -> dict[str, Any]:
    return {"version": "1.0.0", "productId": product_id, "status": "PUBLISHED", **changes}


def _branch_clause(branch_id: str | None) -> Any:
    if branch_id is None:
        return Release.branch_id.is_(None)
    return Release.branch_id == uuid.UUID(branch_id)


async def count_rows(
    runtime: Runtime,
    product_id: str,
    branch_id: str | None,
    *,
    version: str | None = None,
    latest_only: bool = False,
) -> int:
    query = (
        select(func.count())
        .select_from(Release)
        .where(Release.product_id == uuid.UUID(product_id), _branch_clause(branch_id))
    )
    if version is not None:
        query = query.where(Release.version == version)
    if latest_only:
        query = query.where(Release.latest.is_(True))
    async with runtime.database.read() as session:
        return int(await session.scalar(query) or 0)


async def latest_ids(runtime: Runtime, product_id: str, branch_id: str | None) -> list[str]:
    async with runtime.database.read() as session:
        ids = await session.scalars(
            select(Release.id).where(
                Release.product_id == uuid.UUID(product_id),
                _branch_clause(branch_id),
                Release.latest.is_(True),
            )
        )
        return [str(value) for value in ids]


def assert_one_created_rest_conflict(responses: list[httpx.Response]) -> None:
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * (PARALLEL - 1), [r.text for r in responses]
    for response in responses:
        if response.status_code == 409:
            payload = response.json()
            assert payload["result"]["details"] == VERSION_TAKEN
            assert payload["result"]["valid"] is False
            assert payload["data"] is None


async def test_parallel_creates_of_one_version_on_default_branch_create_exactly_one(
    api: Api, runtime: Runtime, product_id: str
) -> None:
    responses = await asyncio.gather(
        *(api.create_release(body(product_id), f"copy {i}".encode()) for i in range(PARALLEL))
    )
    assert_one_created_rest_conflict(list(responses))
    assert await count_rows(runtime, product_id, None, version="1.0.0") == 1


async def test_parallel_creates_of_one_version_on_named_branch_create_exactly_one(
    api: Api, runtime: Runtime, product_id: str
) -> None:
    branch_id = await api.create_branch(product_id, "beta")
    responses = await asyncio.gather(
        *(
            api.create_release(body(product_id, branchId=branch_id), f"copy {i}".encode())
            for i in range(PARALLEL)
        )
    )
    assert_one_created_rest_conflict(list(responses))
    assert await count_rows(runtime, product_id, branch_id, version="1.0.0") == 1


async def test_parallel_losing_creates_leave_no_files_behind(
    api: Api, runtime: Runtime, product_id: str
) -> None:
    responses = await asyncio.gather(
        *(api.create_release(body(product_id), f"copy {i}".encode()) for i in range(PARALLEL))
    )
    (winner,) = [r.json()["data"] for r in responses if r.status_code == 201]
    async with runtime.database.read() as session:
        keys = list(await session.scalars(select(ReleaseFile.key)))
    assert keys == [winner["file"]["key"]]
    opened = await runtime.storage.open(winner["file"]["key"])
    stored = b"".join([chunk async for chunk in opened.chunks])
    assert stored == b"copy " + str(int(stored.removeprefix(b"copy "))).encode()
    assert len(stored) == winner["file"]["size"]
    listed = [key async for key, _ in runtime.storage.list("releases/")]
    assert listed == [winner["file"]["key"]]


async def test_parallel_set_as_latest_creates_leave_exactly_one_latest(
    api: Api, runtime: Runtime, product_id: str
) -> None:
    responses = await asyncio.gather(
        *(
            api.create_release(body(product_id, version=f"1.0.{i}", setAsLatest=True))
            for i in range(PARALLEL)
        )
    )
    assert [r.status_code for r in responses] == [201] * PARALLEL, [r.text for r in responses]
    assert await count_rows(runtime, product_id, None) == PARALLEL
    assert await count_rows(runtime, product_id, None, latest_only=True) == 1


async def test_parallel_set_as_latest_creates_on_named_branch_leave_exactly_one_latest(
    api: Api, runtime: Runtime, product_id: str
) -> None:
    branch_id = await api.create_branch(product_id, "beta")
    default_latest = await api.create_release(body(product_id, version="0.9.0", setAsLatest=True))
    assert default_latest.status_code == 201, default_latest.text
    responses = await asyncio.gather(
        *(
            api.create_release(
                body(product_id, version=f"1.0.{i}", setAsLatest=True, branchId=branch_id)
            )
            for i in range(PARALLEL)
        )
    )
    assert [r.status_code for r in responses] == [201] * PARALLEL, [r.text for r in responses]
    assert await count_rows(runtime, product_id, branch_id, latest_only=True) == 1
    # The default branch keeps its own latest.
    assert await latest_ids(runtime, product_id, None) == [default_latest.json()["data"]["id"]]


async def test_parallel_set_as_latest_updates_leave_exactly_one_latest(
    api: Api, runtime: Runtime, product_id: str
) -> None:
    branch_id = await api.create_branch(product_id, "beta")
    releases = []
    for i in range(PARALLEL):
        created = await api.create_release(body(product_id, version=f"2.0.{i}", branchId=branch_id))
        assert created.status_code == 201, created.text
        releases.append(created.json()["data"])
    assert await count_rows(runtime, product_id, branch_id, latest_only=True) == 0

    responses = await asyncio.gather(
        *(
            api.update_release(release["id"], update_body(release, setAsLatest=True))
            for release in releases
        )
    )
    assert [r.status_code for r in responses] == [200] * PARALLEL, [r.text for r in responses]
    assert await count_rows(runtime, product_id, branch_id) == PARALLEL
    assert await count_rows(runtime, product_id, branch_id, latest_only=True) == 1


async def test_parallel_same_version_on_two_branches_keeps_two_distinct_files(
    api: Api, runtime: Runtime, product_id: str
) -> None:
    branch_a = await api.create_branch(product_id, "alpha")
    branch_b = await api.create_branch(product_id, "beta")
    contents = {branch_a: b"bytes for alpha", branch_b: b"bytes for beta, longer"}
    responses = await asyncio.gather(
        *(
            api.create_release(body(product_id, branchId=branch), content, "plugin.txt")
            for branch, content in contents.items()
        )
    )
    assert [r.status_code for r in responses] == [201, 201], [r.text for r in responses]
    releases = [r.json()["data"] for r in responses]
    keys = [release["file"]["key"] for release in releases]
    assert len(set(keys)) == 2
    for release in releases:
        assert release["version"] == "1.0.0"
        opened = await runtime.storage.open(release["file"]["key"])
        stored = b"".join([chunk async for chunk in opened.chunks])
        assert stored == contents[release["branchId"]]
    assert await count_rows(runtime, product_id, branch_a, version="1.0.0") == 1
    assert await count_rows(runtime, product_id, branch_b, version="1.0.0") == 1


# --- Commit-time re-checks, forced deterministically (§1.7, §2.3 rows 30–32) -------------------


async def journal_and_objects(runtime: Runtime) -> tuple[list[str], list[str]]:
    async with runtime.database.read() as session:
        journal = list(await session.scalars(select(StorageJournal.key)))
    objects = [key async for key, _ in runtime.storage.list("releases/")]
    return journal, sorted(objects)


async def test_version_index_violation_at_commit_is_409_and_discards_the_upload(
    api: Api, runtime: Runtime, product_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await api.create_release(body(product_id), b"first")
    assert first.status_code == 201, first.text

    async def never_taken(*_args: Any, **_kwargs: Any) -> bool:
        return False  # the pre-check and the locked re-check both miss the duplicate

    monkeypatch.setattr(release_repo, "version_taken", never_taken)
    response = await api.create_release(body(product_id), b"second")
    assert response.status_code == 409, response.text
    assert response.json()["result"]["details"] == VERSION_TAKEN
    assert response.json()["data"] is None
    assert await count_rows(runtime, product_id, None, version="1.0.0") == 1
    assert await journal_and_objects(runtime) == ([], [first.json()["data"]["file"]["key"]])


async def test_latest_index_violation_at_commit_is_409_conflicting_update(
    api: Api, runtime: Runtime, product_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await api.create_release(body(product_id, setAsLatest=True))
    assert first.status_code == 201, first.text

    async def no_demotion(*_args: Any, **_kwargs: Any) -> None:
        return None  # the previous latest stays latest, so the partial index must refuse

    monkeypatch.setattr(release_repo, "demote_latest", no_demotion)
    response = await api.create_release(body(product_id, version="1.0.1", setAsLatest=True))
    assert response.status_code == 409, response.text
    assert response.json()["result"]["details"] == "Conflicting concurrent update, please retry"
    assert response.json()["data"] is None
    assert await count_rows(runtime, product_id, None) == 1
    assert await latest_ids(runtime, product_id, None) == [first.json()["data"]["id"]]


async def test_quota_exceeded_at_commit_is_400_and_discards_the_upload(
    api: Api, runtime: Runtime, product_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await set_limits(runtime, api.team.team_id, max_storage_mb=1)
    first = await api.create_release(body(product_id), b"a" * (MIB - 10))
    assert first.status_code == 201, first.text

    async def stale_usage(*_args: Any, **_kwargs: Any) -> int:
        return 0  # the pre-check sees an empty quota; the conditional update must refuse

    monkeypatch.setattr(file_rows, "used_bytes", stale_usage)
    response = await api.create_release(body(product_id, version="1.0.1"), b"b" * 11)
    assert response.status_code == 400, response.text
    assert response.json()["result"]["details"] == "Storage limit reached"
    assert await count_rows(runtime, product_id, None) == 1
    async with runtime.database.read() as session:
        used = await session.scalar(select(TeamStorageUsage.used_bytes))
    assert used == MIB - 10
    assert await journal_and_objects(runtime) == ([], [first.json()["data"]["file"]["key"]])
