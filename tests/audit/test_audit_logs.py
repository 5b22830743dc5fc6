"""GET /audit-logs (Extension, webhooks-and-audit.md §6.1)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from releasegate import __version__
from releasegate.apikeys.models import ApiKey
from releasegate.audit import service as audit_service
from releasegate.runtime import Runtime
from tests.fixtures.api import Api, TeamCredentials

# Audit rows written during a test get these times, one second apart, in write order.
CLOCK_START = datetime(2040, 1, 1, tzinfo=UTC)


@pytest.fixture
def audit_clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    issued: list[datetime] = []

    def tick() -> datetime:
        issued.append(CLOCK_START + timedelta(seconds=len(issued)))
        return issued[-1]

    monkeypatch.setattr(audit_service, "utcnow", tick)
    return issued


def stamp(seconds: int) -> str:
    return (CLOCK_START + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


async def list_logs(api: Api, **params: str) -> httpx.Response:
    return await api.client.get(f"{api.base}/audit-logs", params=params, headers=api.team.headers)


def assert_found(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    payload = response.json()
    assert payload["result"]["details"] == "Audit logs found"
    assert payload["result"]["valid"] is True
    data: dict[str, Any] = payload["data"]
    return data


def assert_error(response: httpx.Response, status: int, details: str) -> None:
    assert response.status_code == status, response.text
    payload = response.json()
    assert payload["result"]["details"] == details
    assert payload["result"]["valid"] is False
    assert payload["data"] is None


def actions_of(data: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(row["action"], row["targetId"]) for row in data["auditLogs"]]


async def api_key_of(runtime: Runtime, team: TeamCredentials) -> ApiKey:
    async with runtime.database.read() as session:
        key = await session.scalar(select(ApiKey).where(ApiKey.team_id == uuid.UUID(team.team_id)))
        assert key is not None
        return key


async def api_key_id(runtime: Runtime, team: TeamCredentials) -> str:
    return str((await api_key_of(runtime, team)).id)


@pytest.fixture
async def catalogue(api: Api, audit_clock: list[datetime]) -> dict[str, str]:
    """A product (audit time +0 s), a branch (+1 s) and a second product (+2 s)."""
    first = await api.create_product("First Product")
    branch = await api.create_branch(first, "beta")
    second = await api.create_product("Second Product")
    return {"first": first, "branch": branch, "second": second}


async def test_rows_show_every_field_with_parsed_bodies(
    api: Api, runtime: Runtime, audit_clock: list[datetime]
) -> None:
    created = await api.post_json("/products", {"name": "My Product"})
    assert created.status_code == 201
    product_id = created.json()["data"]["id"]
    data = assert_found(await list_logs(api, action="CREATE_PRODUCT"))
    (row,) = data["auditLogs"]
    assert uuid.UUID(row.pop("id"))
    assert row == {
        "teamId": api.team.team_id,
        "createdAt": stamp(0),
        "action": "CREATE_PRODUCT",
        "targetType": "PRODUCT",
        "targetId": product_id,
        "source": "API_KEY",
        "apiKeyId": await api_key_id(runtime, api.team),
        "ipAddress": "127.0.0.1",
        "userAgent": f"python-httpx/{httpx.__version__}",
        "country": None,
        "requestBody": {"name": "My Product", "url": None, "metadata": []},
        "responseBody": created.json(),
        "version": __version__,
    }
    assert (data["hasNextPage"], data["totalResults"]) == (False, 1)


async def test_cli_rows_have_null_api_key_and_request_body(api: Api, runtime: Runtime) -> None:
    data = assert_found(await list_logs(api))
    (row,) = data["auditLogs"]
    key = await api_key_of(runtime, api.team)
    key_id = str(key.id)
    assert {name: row[name] for name in row if name not in ("id", "createdAt")} == {
        "teamId": api.team.team_id,
        "action": "CREATE_API_KEY",
        "targetType": "API_KEY",
        "targetId": key_id,
        "source": "CLI",
        "apiKeyId": None,
        "ipAddress": None,
        "userAgent": None,
        "country": None,
        "requestBody": None,
        "responseBody": {"id": key_id, "hint": key.hint, "expiresAt": None},
        "version": __version__,
    }
    assert (data["hasNextPage"], data["totalResults"]) == (False, 1)


async def test_rows_come_newest_first(
    api: Api, runtime: Runtime, catalogue: dict[str, str]
) -> None:
    data = assert_found(await list_logs(api))
    assert actions_of(data) == [
        ("CREATE_PRODUCT", catalogue["second"]),
        ("CREATE_BRANCH", catalogue["branch"]),
        ("CREATE_PRODUCT", catalogue["first"]),
        ("CREATE_API_KEY", await api_key_id(runtime, api.team)),
    ]
    assert [row["createdAt"] for row in data["auditLogs"][:3]] == [stamp(2), stamp(1), stamp(0)]
    assert (data["hasNextPage"], data["totalResults"]) == (False, 4)


async def test_reading_the_log_writes_no_row(api: Api) -> None:
    assert assert_found(await list_logs(api))["totalResults"] == 1
    assert assert_found(await list_logs(api))["totalResults"] == 1


async def test_pages_split_rows_and_report_the_next_page(
    api: Api, audit_clock: list[datetime]
) -> None:
    products = [await api.create_product(f"Product {i:02d}") for i in range(11)]
    newest_first = [("CREATE_PRODUCT", product) for product in reversed(products)]
    first = assert_found(await list_logs(api, pageSize="10"))
    assert actions_of(first) == newest_first[:10]
    assert (first["hasNextPage"], first["totalResults"]) == (True, 12)
    second = assert_found(await list_logs(api, pageSize="10", page="2"))
    assert actions_of(second)[:1] == newest_first[10:]
    assert [row["action"] for row in second["auditLogs"]] == ["CREATE_PRODUCT", "CREATE_API_KEY"]
    assert (second["hasNextPage"], second["totalResults"]) == (False, 12)


async def test_page_beyond_the_end_is_empty(api: Api) -> None:
    data = assert_found(await list_logs(api, page="3"))
    assert data == {"auditLogs": [], "hasNextPage": False, "totalResults": 1}


@pytest.mark.parametrize("page_size", ["7", "abc", "0"])
async def test_invalid_page_size_falls_back_to_25(
    api: Api, audit_clock: list[datetime], page_size: str
) -> None:
    for i in range(25):
        await api.create_product(f"Product {i:02d}")
    data = assert_found(await list_logs(api, pageSize=page_size))
    assert len(data["auditLogs"]) == 25
    assert (data["hasNextPage"], data["totalResults"]) == (True, 26)


async def test_action_filter(api: Api, catalogue: dict[str, str]) -> None:
    data = assert_found(await list_logs(api, action="CREATE_PRODUCT"))
    assert actions_of(data) == [
        ("CREATE_PRODUCT", catalogue["second"]),
        ("CREATE_PRODUCT", catalogue["first"]),
    ]
    assert (data["hasNextPage"], data["totalResults"]) == (False, 2)


async def test_target_type_filter(api: Api, catalogue: dict[str, str]) -> None:
    data = assert_found(await list_logs(api, targetType="BRANCH"))
    assert actions_of(data) == [("CREATE_BRANCH", catalogue["branch"])]
    assert (data["hasNextPage"], data["totalResults"]) == (False, 1)


async def test_target_id_filter_in_any_case(api: Api, catalogue: dict[str, str]) -> None:
    data = assert_found(await list_logs(api, targetId=catalogue["first"].upper()))
    assert actions_of(data) == [("CREATE_PRODUCT", catalogue["first"])]
    assert (data["hasNextPage"], data["totalResults"]) == (False, 1)


async def test_since_filter_includes_rows_at_that_instant(
    api: Api, catalogue: dict[str, str]
) -> None:
    data = assert_found(await list_logs(api, since=stamp(1)))
    assert actions_of(data) == [
        ("CREATE_PRODUCT", catalogue["second"]),
        ("CREATE_BRANCH", catalogue["branch"]),
    ]
    assert (data["hasNextPage"], data["totalResults"]) == (False, 2)


async def test_since_filter_accepts_an_offset(api: Api, catalogue: dict[str, str]) -> None:
    data = assert_found(await list_logs(api, since="2040-01-01T01:00:02+01:00"))
    assert actions_of(data) == [("CREATE_PRODUCT", catalogue["second"])]


async def test_filters_combine(api: Api, catalogue: dict[str, str]) -> None:
    data = assert_found(
        await list_logs(api, action="CREATE_PRODUCT", targetType="PRODUCT", since=stamp(1))
    )
    assert actions_of(data) == [("CREATE_PRODUCT", catalogue["second"])]
    assert (data["hasNextPage"], data["totalResults"]) == (False, 1)


@pytest.mark.parametrize(
    "params",
    [
        {"action": "MAKE_COFFEE"},
        {"action": "create_product"},
        {"targetType": "SPACESHIP"},
        {"targetId": "not-a-uuid"},
        {"since": "yesterday"},
        {"since": "2040-13-01T00:00:00Z"},
    ],
)
async def test_invalid_filter_values_are_ignored(
    api: Api, catalogue: dict[str, str], params: dict[str, str]
) -> None:
    data = assert_found(await list_logs(api, **params))
    assert (data["hasNextPage"], data["totalResults"]) == (False, 4)
    assert len(data["auditLogs"]) == 4


async def test_unknown_target_id_gives_an_empty_page(api: Api, catalogue: dict[str, str]) -> None:
    data = assert_found(await list_logs(api, targetId=str(uuid.uuid4())))
    assert data == {"auditLogs": [], "hasNextPage": False, "totalResults": 0}


async def test_invalid_team_id_is_400(api: Api) -> None:
    response = await api.client.get("/api/v1/dev/teams/nope/audit-logs", headers=api.team.headers)
    assert_error(response, 400, "Invalid teamId")


# --- Tenant isolation --------------------------------------------------------------------------


async def test_other_teams_key_on_this_teams_path_is_401(
    api: Api, other_team: TeamCredentials
) -> None:
    response = await api.client.get(f"{api.base}/audit-logs", headers=other_team.headers)
    assert_error(response, 401, "Invalid API key")


async def test_log_never_shows_another_teams_rows(
    api: Api, runtime: Runtime, other_team: TeamCredentials
) -> None:
    other = Api(api.client, other_team)
    await other.create_product("Their Product")
    mine = await api.create_product("My Product")
    data = assert_found(await list_logs(api))
    assert actions_of(data) == [
        ("CREATE_PRODUCT", mine),
        ("CREATE_API_KEY", await api_key_id(runtime, api.team)),
    ]
    assert {row["teamId"] for row in data["auditLogs"]} == {api.team.team_id}
    assert data["totalResults"] == 2


async def test_another_teams_target_id_gives_an_empty_page(
    api: Api, other_team: TeamCredentials
) -> None:
    theirs = await Api(api.client, other_team).create_product("Their Product")
    data = assert_found(await list_logs(api, targetId=theirs))
    assert data == {"auditLogs": [], "hasNextPage": False, "totalResults": 0}
