"""Branches (Extension, §9): get, rename and delete one branch."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from releasegate.audit.models import AuditLog
from releasegate.branches import repository as branch_repo
from releasegate.branches.models import Branch
from releasegate.branches.views import BranchView
from releasegate.releases import repository as release_repo
from releasegate.releases.models import Release
from releasegate.runtime import Runtime
from tests.fixtures.api import Api, TeamCredentials

NAME_TAKEN = "A branch with this name already exists for this product"
HAS_RELEASES = "Branch has releases and cannot be deleted"


@pytest.fixture
async def product_id(api: Api) -> str:
    return await api.create_product()


@pytest.fixture
async def branch_id(api: Api, product_id: str) -> str:
    return await api.create_branch(product_id, "beta")


def assert_envelope(response: httpx.Response, status: int, details: str, data: object) -> None:
    assert response.status_code == status, response.text
    payload = response.json()
    assert payload["result"]["details"] == details
    assert payload["result"]["valid"] is (200 <= status < 300)
    assert payload["data"] == data


async def get_branch(api: Api, branch_id: str) -> httpx.Response:
    return await api.client.get(f"{api.base}/branches/{branch_id}", headers=api.team.headers)


async def rename(api: Api, branch_id: str, body: Any) -> httpx.Response:
    return await api.client.put(
        f"{api.base}/branches/{branch_id}", content=json.dumps(body), headers=api.team.headers
    )


async def delete(api: Api, branch_id: str) -> httpx.Response:
    return await api.client.delete(f"{api.base}/branches/{branch_id}", headers=api.team.headers)


async def create_release_on(api: Api, product_id: str, branch_id: str, version: str) -> Any:
    return await api.create_release(
        {"version": version, "productId": product_id, "status": "DRAFT", "branchId": branch_id}
    )


async def stored_branch(runtime: Runtime, branch_id: str) -> Branch | None:
    async with runtime.database.read() as session:
        return await session.scalar(select(Branch).where(Branch.id == uuid.UUID(branch_id)))


async def stored_branch_json(runtime: Runtime, branch_id: str, release_count: int) -> Any:
    row = await stored_branch(runtime, branch_id)
    assert row is not None
    return BranchView(row, release_count).to_json()


async def audit_rows(runtime: Runtime, action: str) -> list[AuditLog]:
    async with runtime.database.read() as session:
        return list(await session.scalars(select(AuditLog).where(AuditLog.action == action)))


async def releases_on(runtime: Runtime, branch_id: str) -> int:
    async with runtime.database.read() as session:
        count = await session.scalar(
            select(func.count()).where(Release.branch_id == uuid.UUID(branch_id))
        )
        return int(count or 0)


# --- GET ---------------------------------------------------------------------------------------


async def test_get_branch_returns_branch_with_release_count(
    api: Api, runtime: Runtime, product_id: str, branch_id: str
) -> None:
    assert (await create_release_on(api, product_id, branch_id, "1.0.0")).status_code == 201
    response = await get_branch(api, branch_id)
    assert_envelope(response, 200, "Branch found", await stored_branch_json(runtime, branch_id, 1))
    assert response.json()["data"]["name"] == "beta"
    assert response.json()["data"]["productId"] == product_id


async def test_get_branch_with_malformed_id_is_400(api: Api) -> None:
    assert_envelope(await get_branch(api, "not-a-uuid"), 400, "Invalid branchId", None)


async def test_get_unknown_branch_is_404(api: Api) -> None:
    assert_envelope(await get_branch(api, str(uuid.uuid4())), 404, "Branch not found", None)


# --- PUT ---------------------------------------------------------------------------------------


async def test_rename_returns_the_renamed_branch(
    api: Api, runtime: Runtime, product_id: str, branch_id: str
) -> None:
    before = (await get_branch(api, branch_id)).json()["data"]
    response = await rename(api, branch_id, {"name": "release candidate"})
    expected = await stored_branch_json(runtime, branch_id, 0)
    assert_envelope(response, 200, "Branch updated", expected)
    assert expected["name"] == "release candidate"
    assert expected["createdAt"] == before["createdAt"]
    assert expected["updatedAt"] >= before["updatedAt"]


async def test_rename_writes_one_update_branch_audit_row(
    api: Api, runtime: Runtime, branch_id: str
) -> None:
    response = await rename(api, branch_id, {"name": "gamma"})
    assert response.status_code == 200
    (row,) = await audit_rows(runtime, "UPDATE_BRANCH")
    assert (row.team_id, row.target_type, row.target_id) == (
        uuid.UUID(api.team.team_id),
        "BRANCH",
        uuid.UUID(branch_id),
    )
    assert row.source == "API_KEY"
    assert json.loads(row.request_body or "") == {"name": "gamma"}
    assert json.loads(row.response_body or "") == response.json()


async def test_rename_to_a_sibling_name_is_409_and_changes_nothing(
    api: Api, runtime: Runtime, product_id: str, branch_id: str
) -> None:
    await api.create_branch(product_id, "gamma")
    before = await stored_branch_json(runtime, branch_id, 0)
    assert_envelope(await rename(api, branch_id, {"name": "gamma"}), 409, NAME_TAKEN, None)
    assert await stored_branch_json(runtime, branch_id, 0) == before
    assert await audit_rows(runtime, "UPDATE_BRANCH") == []


async def test_rename_to_a_name_used_in_another_product_is_allowed(
    api: Api, runtime: Runtime, branch_id: str
) -> None:
    other_product = await api.create_product("Other Product")
    await api.create_branch(other_product, "gamma")
    response = await rename(api, branch_id, {"name": "gamma"})
    assert_envelope(
        response, 200, "Branch updated", await stored_branch_json(runtime, branch_id, 0)
    )


async def test_rename_changing_only_case_is_allowed(
    api: Api, runtime: Runtime, branch_id: str
) -> None:
    response = await rename(api, branch_id, {"name": "Beta"})
    assert_envelope(
        response, 200, "Branch updated", await stored_branch_json(runtime, branch_id, 0)
    )
    assert response.json()["data"]["name"] == "Beta"


async def test_rename_to_the_current_name_is_a_no_op_without_audit_row(
    api: Api, runtime: Runtime, branch_id: str
) -> None:
    before = (await get_branch(api, branch_id)).json()["data"]
    response = await rename(api, branch_id, {"name": "beta"})
    assert_envelope(response, 200, "Branch updated", before)
    assert await stored_branch_json(runtime, branch_id, 0) == before
    assert await audit_rows(runtime, "UPDATE_BRANCH") == []


async def test_rename_unknown_branch_is_404(api: Api) -> None:
    response = await rename(api, str(uuid.uuid4()), {"name": "gamma"})
    assert_envelope(response, 404, "Branch not found", None)


async def test_rename_with_malformed_id_is_400_before_the_body(api: Api) -> None:
    response = await rename(api, "nope", {"name": 5})
    assert_envelope(response, 400, "Invalid branchId", None)


async def test_rename_body_issues_are_listed(api: Api, branch_id: str) -> None:
    response = await rename(api, branch_id, {"name": " x", "productId": str(uuid.uuid4())})
    assert_envelope(
        response,
        400,
        "Invalid request body",
        [
            {"message": "String must contain at least 3 character(s)", "path": ["name"]},
            {"message": "Invalid", "path": ["name"]},
            {"message": "Unrecognized key(s) in object: 'productId'", "path": []},
        ],
    )


async def test_rename_with_unparseable_body_is_400(api: Api, branch_id: str) -> None:
    response = await api.client.put(
        f"{api.base}/branches/{branch_id}", content=b"{", headers=api.team.headers
    )
    assert_envelope(response, 400, "Invalid JSON body", None)


async def test_name_index_violation_at_commit_is_409(
    api: Api,
    runtime: Runtime,
    product_id: str,
    branch_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await api.create_branch(product_id, "gamma")

    async def never_taken(*_args: object, **_kwargs: object) -> bool:
        return False

    monkeypatch.setattr(branch_repo, "name_taken", never_taken)
    assert_envelope(await rename(api, branch_id, {"name": "gamma"}), 409, NAME_TAKEN, None)
    row = await stored_branch(runtime, branch_id)
    assert row is not None and row.name == "beta"


# --- DELETE ------------------------------------------------------------------------------------


async def test_delete_returns_the_branch_before_deletion(
    api: Api, runtime: Runtime, branch_id: str
) -> None:
    before = (await get_branch(api, branch_id)).json()["data"]
    assert_envelope(await delete(api, branch_id), 200, "Branch deleted", before)
    assert await stored_branch(runtime, branch_id) is None


async def test_delete_writes_one_delete_branch_audit_row(
    api: Api, runtime: Runtime, branch_id: str
) -> None:
    response = await delete(api, branch_id)
    assert response.status_code == 200
    (row,) = await audit_rows(runtime, "DELETE_BRANCH")
    assert (row.team_id, row.target_type, row.target_id) == (
        uuid.UUID(api.team.team_id),
        "BRANCH",
        uuid.UUID(branch_id),
    )
    assert row.request_body is None
    assert json.loads(row.response_body or "") == response.json()


async def test_deleted_branch_is_not_found_afterwards(api: Api, branch_id: str) -> None:
    assert (await delete(api, branch_id)).status_code == 200
    assert_envelope(await get_branch(api, branch_id), 404, "Branch not found", None)


async def test_delete_branch_with_releases_is_409_and_keeps_it(
    api: Api, runtime: Runtime, product_id: str, branch_id: str
) -> None:
    assert (await create_release_on(api, product_id, branch_id, "1.0.0")).status_code == 201
    assert_envelope(await delete(api, branch_id), 409, HAS_RELEASES, None)
    assert await stored_branch(runtime, branch_id) is not None
    assert await releases_on(runtime, branch_id) == 1
    assert await audit_rows(runtime, "DELETE_BRANCH") == []


async def test_delete_unknown_branch_is_404(api: Api) -> None:
    assert_envelope(await delete(api, str(uuid.uuid4())), 404, "Branch not found", None)


async def test_release_reference_at_commit_is_409(
    api: Api,
    runtime: Runtime,
    product_id: str,
    branch_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert (await create_release_on(api, product_id, branch_id, "1.0.0")).status_code == 201

    async def no_releases(_session: object, _team_id: object, ids: list[uuid.UUID]) -> Any:
        return dict.fromkeys(ids, 0)

    monkeypatch.setattr(release_repo, "count_by_branch", no_releases)
    assert_envelope(await delete(api, branch_id), 409, HAS_RELEASES, None)
    assert await stored_branch(runtime, branch_id) is not None
    assert await audit_rows(runtime, "DELETE_BRANCH") == []


async def test_parallel_delete_and_creates_never_orphan_a_release(
    api: Api, runtime: Runtime, product_id: str, branch_id: str
) -> None:
    creates = [create_release_on(api, product_id, branch_id, f"1.0.{i}") for i in range(10)]
    deleted, *created = await asyncio.gather(delete(api, branch_id), *creates)
    statuses = sorted(response.status_code for response in created)
    if deleted.status_code == 200:
        assert statuses == [404] * 10
        assert await releases_on(runtime, branch_id) == 0
        assert await stored_branch(runtime, branch_id) is None
    else:
        assert_envelope(deleted, 409, HAS_RELEASES, None)
        assert await releases_on(runtime, branch_id) == statuses.count(201) > 0
        assert await stored_branch(runtime, branch_id) is not None


# --- Tenant isolation --------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_other_teams_key_on_this_teams_path_is_401(
    api: Api, other_team: TeamCredentials, branch_id: str, method: str
) -> None:
    response = await api.client.request(
        method,
        f"{api.base}/branches/{branch_id}",
        content=json.dumps({"name": "gamma"}),
        headers=other_team.headers,
    )
    assert_envelope(response, 401, "Invalid API key", None)
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_this_teams_branch_id_under_another_team_is_404(
    api: Api, runtime: Runtime, other_team: TeamCredentials, branch_id: str, method: str
) -> None:
    before = await stored_branch_json(runtime, branch_id, 0)
    other = Api(api.client, other_team)
    response = await other.client.request(
        method,
        f"{other.base}/branches/{branch_id}",
        content=json.dumps({"name": "gamma"}),
        headers=other_team.headers,
    )
    assert_envelope(response, 404, "Branch not found", None)
    assert await stored_branch_json(runtime, branch_id, 0) == before
