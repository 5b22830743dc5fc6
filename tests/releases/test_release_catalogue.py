"""Get one release (§5), delete a release (§6) and set latest (§7): every check row, the
committed state (rows, usage, journal, objects, audit) and tenant isolation."""

from __future__ import annotations

import asyncio
import json
import uuid
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from releasegate.audit.models import AuditLog
from releasegate.files.models import ReleaseFile
from releasegate.licenses.models import License
from releasegate.metadata.models import Metadata
from releasegate.releases import repository as release_repo
from releasegate.releases.models import Release, ReleaseLicense
from releasegate.runtime import Runtime
from tests.fixtures.api import Api, TeamCredentials
from tests.fixtures.state import count, is_stored, journal, used_bytes

CONTENT = b"release bytes"
PARALLEL = 20
NOT_PUBLISHED = "Cannot set as latest release when status is not PUBLISHED"
RESTRICTED = "Cannot set as latest release when it has license restrictions"


# --- Fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, object]:
    return dict(getattr(request, "param", {}))


@pytest.fixture
async def product_id(api: Api) -> str:
    return await api.create_product()


async def create(
    api: Api,
    product_id: str,
    version: str,
    *,
    status: str = "PUBLISHED",
    latest: bool = False,
    branch_id: str | None = None,
    file: bytes | None = None,
    metadata: list[dict[str, Any]] | None = None,
    license_ids: list[str] | None = None,
) -> dict[str, Any]:
    data = {
        "version": version,
        "productId": product_id,
        "status": status,
        "setAsLatest": latest,
        "branchId": branch_id,
        "metadata": metadata or [],
        "licenseIds": license_ids or [],
    }
    response = await api.create_release(data, file)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()["data"]
    return created


@pytest.fixture
async def release(api: Api, product_id: str) -> dict[str, Any]:
    """1.0.0, PUBLISHED, latest, with a file, a metadata entry and nothing restricting it."""
    return await create(
        api,
        product_id,
        "1.0.0",
        latest=True,
        file=CONTENT,
        metadata=[{"key": "mc", "value": "1.21"}],
    )


def url(api: Api, release_id: str, suffix: str = "") -> str:
    return f"{api.base}/releases/{release_id}{suffix}"


async def get_one(api: Api, release_id: str) -> httpx.Response:
    return await api.client.get(url(api, release_id), headers=api.team.headers)


async def delete(api: Api, release_id: str) -> httpx.Response:
    return await api.client.delete(url(api, release_id), headers=api.team.headers)


async def set_latest(api: Api, release_id: str) -> httpx.Response:
    return await api.client.post(url(api, release_id, "/set-latest"), headers=api.team.headers)


def ok(response: httpx.Response, details: str) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    payload = response.json()
    assert payload["result"]["details"] == details
    assert payload["result"]["valid"] is True
    data: dict[str, Any] = payload["data"]
    return data


def assert_error(response: httpx.Response, status: int, details: str) -> None:
    assert response.status_code == status, response.text
    payload = response.json()
    assert payload["result"]["details"] == details
    assert payload["result"]["valid"] is False
    assert payload["data"] is None


async def audits(runtime: Runtime, action: str) -> list[AuditLog]:
    async with runtime.database.read() as session:
        rows = await session.scalars(
            select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.created_at)
        )
        return list(rows)


async def latest_flags(runtime: Runtime, *release_ids: str) -> list[bool]:
    async with runtime.database.read() as session:
        flags = {
            str(row.id): row.latest
            for row in await session.scalars(
                select(Release).where(Release.id.in_([uuid.UUID(i) for i in release_ids]))
            )
        }
    return [flags[release_id] for release_id in release_ids]


def random_id() -> str:
    return str(uuid.uuid4())


# --- Get one (§5) -------------------------------------------------------------------------------


async def test_get_returns_the_release_object(api: Api, release: dict[str, Any]) -> None:
    assert ok(await get_one(api, release["id"]), "Release found") == release


async def test_get_accepts_an_upper_case_release_id(api: Api, release: dict[str, Any]) -> None:
    assert ok(await get_one(api, release["id"].upper()), "Release found") == release


async def test_get_invalid_team_id(api: Api, release: dict[str, Any]) -> None:
    response = await api.client.get(
        f"/api/v1/dev/teams/nope/releases/{release['id']}", headers=api.team.headers
    )
    assert_error(response, 400, "Invalid teamId")


async def test_get_invalid_release_id(api: Api) -> None:
    assert_error(await get_one(api, "nope"), 400, "Invalid releaseId")


async def test_get_release_id_is_checked_before_authentication(api: Api) -> None:
    response = await api.client.get(url(api, "nope"))
    assert_error(response, 400, "Invalid releaseId")


async def test_get_unknown_release(api: Api) -> None:
    assert_error(await get_one(api, random_id()), 404, "Release not found")


# --- Delete (§6) --------------------------------------------------------------------------------


async def test_delete_returns_the_release_before_deletion(
    api: Api, release: dict[str, Any]
) -> None:
    assert ok(await delete(api, release["id"]), "Release deleted") == release


async def test_delete_removes_release_metadata_links_and_file_row(
    api: Api, runtime: Runtime, product_id: str
) -> None:
    license_id = (await api.create_license([product_id]))["id"]
    restricted = await create(
        api,
        product_id,
        "2.0.0",
        file=CONTENT,
        metadata=[{"key": "k", "value": "v"}],
        license_ids=[license_id],
    )
    ok(await delete(api, restricted["id"]), "Release deleted")
    release_id = uuid.UUID(restricted["id"])
    assert await count(runtime, Release, Release.id == release_id) == 0
    assert await count(runtime, Metadata, Metadata.release_id == release_id) == 0
    assert await count(runtime, ReleaseLicense, ReleaseLicense.release_id == release_id) == 0
    assert await count(runtime, ReleaseFile, ReleaseFile.release_id == release_id) == 0
    assert await count(runtime, License, License.id == uuid.UUID(license_id)) == 1
    assert_error(await get_one(api, restricted["id"]), 404, "Release not found")


async def test_delete_subtracts_the_file_from_usage(
    api: Api, runtime: Runtime, release: dict[str, Any], product_id: str
) -> None:
    await create(api, product_id, "2.0.0", file=b"other bytes!")
    assert await used_bytes(runtime, api.team) == len(CONTENT) + len(b"other bytes!")
    ok(await delete(api, release["id"]), "Release deleted")
    assert await used_bytes(runtime, api.team) == len(b"other bytes!")


async def test_delete_removes_the_object_and_its_journal_entry(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    key = release["file"]["key"]
    assert await is_stored(runtime, key)
    ok(await delete(api, release["id"]), "Release deleted")
    assert not await is_stored(runtime, key)
    assert await journal(runtime) == []


@pytest.mark.parametrize("settings_overrides", [{"deleted_object_grace": 60}], indirect=True)
async def test_delete_with_grace_leaves_a_pending_delete_entry_and_the_object(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    key = release["file"]["key"]
    ok(await delete(api, release["id"]), "Release deleted")
    assert await journal(runtime) == [(key, "PENDING_DELETE")]
    assert await is_stored(runtime, key)


async def test_delete_of_a_release_without_file_touches_no_storage(
    api: Api, runtime: Runtime, product_id: str, release: dict[str, Any]
) -> None:
    bare = await create(api, product_id, "2.0.0")
    ok(await delete(api, bare["id"]), "Release deleted")
    assert await used_bytes(runtime, api.team) == len(CONTENT)
    assert await journal(runtime) == []
    assert await is_stored(runtime, release["file"]["key"])


async def test_delete_writes_one_audit_row_with_the_response(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    response = await delete(api, release["id"])
    ok(response, "Release deleted")
    rows = await audits(runtime, "DELETE_RELEASE")
    assert len(rows) == 1
    row = rows[0]
    assert (row.target_type, str(row.target_id), row.source) == (
        "RELEASE",
        release["id"],
        "API_KEY",
    )
    assert row.request_body is None
    assert row.response_body is not None
    assert json.loads(row.response_body) == response.json()


async def test_delete_of_the_latest_leaves_the_branch_without_latest(
    api: Api, runtime: Runtime, product_id: str, release: dict[str, Any]
) -> None:
    other = await create(api, product_id, "0.9.0")
    ok(await delete(api, release["id"]), "Release deleted")
    assert await latest_flags(runtime, other["id"]) == [False]


async def test_delete_frees_the_version(api: Api, product_id: str, release: dict[str, Any]) -> None:
    ok(await delete(api, release["id"]), "Release deleted")
    assert (await create(api, product_id, "1.0.0"))["version"] == "1.0.0"


async def test_delete_invalid_release_id(api: Api, runtime: Runtime) -> None:
    assert_error(await delete(api, "nope"), 400, "Invalid releaseId")
    assert await audits(runtime, "DELETE_RELEASE") == []


async def test_delete_unknown_release_changes_nothing(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    assert_error(await delete(api, random_id()), 404, "Release not found")
    assert await audits(runtime, "DELETE_RELEASE") == []
    assert await count(runtime, Release) == 1
    assert await journal(runtime) == []


async def test_delete_twice_is_not_found(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    ok(await delete(api, release["id"]), "Release deleted")
    assert_error(await delete(api, release["id"]), 404, "Release not found")
    assert len(await audits(runtime, "DELETE_RELEASE")) == 1


async def test_parallel_deletes_of_one_release_delete_it_once(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    responses = await asyncio.gather(*(delete(api, release["id"]) for _ in range(5)))
    assert sorted(r.status_code for r in responses) == [200, 404, 404, 404, 404]
    assert len(await audits(runtime, "DELETE_RELEASE")) == 1
    assert await used_bytes(runtime, api.team) == 0


# --- Set latest (§7) ----------------------------------------------------------------------------


async def test_set_latest_demotes_the_previous_latest(
    api: Api, runtime: Runtime, product_id: str, release: dict[str, Any]
) -> None:
    newer = await create(api, product_id, "2.0.0")
    data = ok(await set_latest(api, newer["id"]), "Release set as latest")
    assert data["latest"] is True
    assert data["updatedAt"] > newer["updatedAt"]
    assert {k: v for k, v in data.items() if k not in ("latest", "updatedAt")} == {
        k: v for k, v in newer.items() if k not in ("latest", "updatedAt")
    }
    assert await latest_flags(runtime, release["id"], newer["id"]) == [False, True]
    demoted = ok(await get_one(api, release["id"]), "Release found")
    assert demoted["updatedAt"] > release["updatedAt"]


async def test_set_latest_writes_one_audit_row_with_the_response(
    api: Api, runtime: Runtime, product_id: str, release: dict[str, Any]
) -> None:
    newer = await create(api, product_id, "2.0.0")
    response = await set_latest(api, newer["id"])
    ok(response, "Release set as latest")
    rows = await audits(runtime, "SET_LATEST_RELEASE")
    assert len(rows) == 1
    assert (rows[0].target_type, str(rows[0].target_id)) == ("RELEASE", newer["id"])
    assert rows[0].request_body is None
    assert rows[0].response_body is not None
    assert json.loads(rows[0].response_body) == response.json()


async def test_set_latest_on_the_latest_changes_nothing(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    data = ok(await set_latest(api, release["id"]), "Release set as latest")
    assert data == release
    assert await audits(runtime, "SET_LATEST_RELEASE") == []


async def test_set_latest_ignores_a_body(
    api: Api, runtime: Runtime, product_id: str, release: dict[str, Any]
) -> None:
    newer = await create(api, product_id, "2.0.0")
    response = await api.client.post(
        url(api, newer["id"], "/set-latest"), content=b"{not json", headers=api.team.headers
    )
    assert ok(response, "Release set as latest")["latest"] is True


async def test_set_latest_without_previous_latest(
    api: Api, runtime: Runtime, product_id: str
) -> None:
    first = await create(api, product_id, "1.0.0")
    assert ok(await set_latest(api, first["id"]), "Release set as latest")["latest"] is True
    assert await latest_flags(runtime, first["id"]) == [True]


async def test_set_latest_leaves_other_branches_alone(
    api: Api, runtime: Runtime, product_id: str, release: dict[str, Any]
) -> None:
    beta = await api.create_branch(product_id, "beta")
    on_beta = await create(api, product_id, "2.0.0-beta", branch_id=beta)
    ok(await set_latest(api, on_beta["id"]), "Release set as latest")
    assert await latest_flags(runtime, release["id"], on_beta["id"]) == [True, True]


@pytest.mark.parametrize("status", ["DRAFT", "DEPRECATED", "ARCHIVED"])
async def test_set_latest_refuses_a_release_not_published(
    api: Api, runtime: Runtime, product_id: str, release: dict[str, Any], status: str
) -> None:
    draft = await create(api, product_id, "2.0.0", status=status)
    assert_error(await set_latest(api, draft["id"]), 400, NOT_PUBLISHED)
    assert await latest_flags(runtime, release["id"], draft["id"]) == [True, False]
    assert await audits(runtime, "SET_LATEST_RELEASE") == []


async def test_set_latest_refuses_a_restricted_release(
    api: Api, runtime: Runtime, product_id: str, release: dict[str, Any]
) -> None:
    license_id = (await api.create_license([product_id]))["id"]
    restricted = await create(api, product_id, "2.0.0", license_ids=[license_id])
    assert_error(await set_latest(api, restricted["id"]), 400, RESTRICTED)
    assert await latest_flags(runtime, release["id"], restricted["id"]) == [True, False]
    assert await audits(runtime, "SET_LATEST_RELEASE") == []


async def test_set_latest_checks_status_before_licenses(api: Api, product_id: str) -> None:
    license_id = (await api.create_license([product_id]))["id"]
    both = await create(api, product_id, "2.0.0", status="DRAFT", license_ids=[license_id])
    assert_error(await set_latest(api, both["id"]), 400, NOT_PUBLISHED)


async def test_set_latest_invalid_release_id(api: Api) -> None:
    assert_error(await set_latest(api, "nope"), 400, "Invalid releaseId")


async def test_set_latest_unknown_release(api: Api, runtime: Runtime) -> None:
    assert_error(await set_latest(api, random_id()), 404, "Release not found")
    assert await audits(runtime, "SET_LATEST_RELEASE") == []


async def test_parallel_set_latest_leaves_exactly_one_latest(
    api: Api, runtime: Runtime, product_id: str
) -> None:
    beta = await api.create_branch(product_id, "beta")
    ids = [
        (await create(api, product_id, f"1.0.{n}", branch_id=beta))["id"] for n in range(PARALLEL)
    ]
    responses = await asyncio.gather(*(set_latest(api, release_id) for release_id in ids))
    for response in responses:
        assert ok(response, "Release set as latest")["latest"] is True
    flags = await latest_flags(runtime, *ids)
    assert flags.count(True) == 1
    rows = await audits(runtime, "SET_LATEST_RELEASE")
    assert sorted(str(row.target_id) for row in rows) == sorted(ids)


# --- A release that moves to another product while its product is being locked ---------------


def move_on_first_read(monkeypatch: pytest.MonkeyPatch, to_product: str, reads: int) -> None:
    """The first `reads` unlocked reads see the release in `to_product`, as if a concurrent
    update moved it between that read and the lock of its (new) product."""
    original = release_repo.get
    remaining = [reads]

    async def get_release(
        session: Any, team_id: uuid.UUID, release_id: uuid.UUID, *, lock: bool = False
    ) -> Any:
        found = await original(session, team_id, release_id, lock=lock)
        if found is None or lock or remaining[0] == 0:
            return found
        remaining[0] -= 1
        return SimpleNamespace(product_id=uuid.UUID(to_product))

    monkeypatch.setattr(release_repo, "get", get_release)


async def test_set_latest_retries_when_the_release_moved_before_the_lock(
    api: Api, runtime: Runtime, product_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await create(api, product_id, "1.0.0")
    move_on_first_read(monkeypatch, await api.create_product("Elsewhere"), reads=1)
    assert ok(await set_latest(api, first["id"]), "Release set as latest")["latest"] is True
    assert len(await audits(runtime, "SET_LATEST_RELEASE")) == 1


async def test_delete_gives_up_with_409_when_the_release_keeps_moving(
    api: Api, runtime: Runtime, release: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    move_on_first_read(monkeypatch, await api.create_product("Elsewhere"), reads=3)
    response = await delete(api, release["id"])
    assert_error(response, 409, "Conflicting concurrent update, please retry")
    assert await audits(runtime, "DELETE_RELEASE") == []
    assert ok(await get_one(api, release["id"]), "Release found") == release
    assert await is_stored(runtime, release["file"]["key"])


# --- Tenant isolation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix"), [("GET", ""), ("DELETE", ""), ("POST", "/set-latest")]
)
async def test_other_teams_key_is_an_invalid_api_key(
    api: Api,
    runtime: Runtime,
    release: dict[str, Any],
    other_team: TeamCredentials,
    method: str,
    suffix: str,
) -> None:
    response = await api.client.request(
        method, url(api, release["id"], suffix), headers=other_team.headers
    )
    assert_error(response, 401, "Invalid API key")
    assert ok(await get_one(api, release["id"]), "Release found") == release


@pytest.mark.parametrize(
    ("method", "suffix"), [("GET", ""), ("DELETE", ""), ("POST", "/set-latest")]
)
async def test_other_teams_release_is_not_found(
    api: Api,
    runtime: Runtime,
    release: dict[str, Any],
    other_team: TeamCredentials,
    method: str,
    suffix: str,
) -> None:
    other = Api(api.client, other_team)
    response = await api.client.request(
        method, url(other, release["id"], suffix), headers=other_team.headers
    )
    assert_error(response, 404, "Release not found")
    assert ok(await get_one(api, release["id"]), "Release found") == release
    assert await is_stored(runtime, release["file"]["key"])
