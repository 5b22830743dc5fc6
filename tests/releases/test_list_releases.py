"""List releases (dev-api-releases.md §4): the ordered checks, every query parameter with its
silent fallback, ordering with its tie-breaks, pagination and tenant isolation.

Version precedence ordering is tested in test_version_order.py.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from releasegate.audit.models import AuditLog
from releasegate.runtime import Runtime
from tests.fixtures.api import Api, TeamCredentials, update_body
from tests.fixtures.teams import set_limits

START = datetime(2030, 1, 1, tzinfo=UTC)


# --- Fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture
def ticking_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every release write gets a time one second after the previous one (no equal stamps)."""
    ticks = (START + timedelta(seconds=n) for n in itertools.count())

    def now() -> datetime:
        return next(ticks)

    monkeypatch.setattr("releasegate.releases.service.utcnow", now)
    monkeypatch.setattr("releasegate.releases.repository.utcnow", now)


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every release write gets the same time, so only the id can break ties."""
    monkeypatch.setattr("releasegate.releases.service.utcnow", lambda: START)
    monkeypatch.setattr("releasegate.releases.repository.utcnow", lambda: START)


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
) -> dict[str, Any]:
    response = await api.create_release(
        {
            "version": version,
            "productId": product_id,
            "status": status,
            "setAsLatest": latest,
            "branchId": branch_id,
        }
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()["data"]
    return created


async def get(
    api: Api, params: dict[str, str] | list[tuple[str, str]], *, team: TeamCredentials | None = None
) -> httpx.Response:
    headers = (team or api.team).headers
    return await api.client.get(f"{api.base}/releases", params=params, headers=headers)


async def listed(api: Api, params: dict[str, str] | list[tuple[str, str]]) -> dict[str, Any]:
    response = await get(api, params)
    assert response.status_code == 200, response.text
    payload = response.json()
    assert payload["result"]["details"] == "Releases found"
    assert payload["result"]["valid"] is True
    data: dict[str, Any] = payload["data"]
    return data


async def versions(api: Api, params: dict[str, str] | list[tuple[str, str]]) -> list[str]:
    return [release["version"] for release in (await listed(api, params))["releases"]]


def assert_error(response: httpx.Response, status: int, details: str) -> None:
    assert response.status_code == status, response.text
    payload = response.json()
    assert payload["result"]["details"] == details
    assert payload["result"]["valid"] is False
    assert payload["data"] is None


# --- Checks, in order ---------------------------------------------------------------------------


async def test_row_1_invalid_team_id(api: Api, product_id: str) -> None:
    response = await api.client.get(
        "/api/v1/dev/teams/nope/releases",
        params={"productId": product_id},
        headers=api.team.headers,
    )
    assert_error(response, 400, "Invalid teamId")


async def test_authentication_comes_before_the_product_id_check(api: Api) -> None:
    response = await api.client.get(f"{api.base}/releases", params={"productId": "nope"})
    assert_error(response, 401, "Invalid API key")


@pytest.mark.parametrize("params", [{}, {"productId": "nope"}, {"productId": ""}])
async def test_row_6_missing_or_invalid_product_id(api: Api, params: dict[str, str]) -> None:
    assert_error(await get(api, params), 400, "Invalid or missing productId")


@pytest.mark.parametrize("branch", ["nope", "DEFAULT", "", "null"])
async def test_row_7_branch_id_neither_uuid_nor_default(
    api: Api, product_id: str, branch: str
) -> None:
    response = await get(api, {"productId": product_id, "branchId": branch})
    assert_error(response, 400, "Invalid branchId")


async def test_row_7_invalid_branch_id_comes_before_unknown_product(api: Api) -> None:
    response = await get(api, {"productId": str(uuid.uuid4()), "branchId": "nope"})
    assert_error(response, 400, "Invalid branchId")


async def test_row_8_unknown_product(api: Api) -> None:
    assert_error(await get(api, {"productId": str(uuid.uuid4())}), 404, "Product not found")


async def test_row_9_branch_of_another_product(api: Api, product_id: str) -> None:
    other_product = await api.create_product("Other Product")
    branch_id = await api.create_branch(other_product, "beta")
    response = await get(api, {"productId": product_id, "branchId": branch_id})
    assert_error(response, 404, "Branch not found")


async def test_row_9_unknown_branch(api: Api, product_id: str) -> None:
    response = await get(api, {"productId": product_id, "branchId": str(uuid.uuid4())})
    assert_error(response, 404, "Branch not found")


async def audit_ids(runtime: Runtime) -> list[uuid.UUID]:
    async with runtime.database.read() as session:
        return sorted(await session.scalars(select(AuditLog.id)))


async def test_listing_writes_no_audit_row(api: Api, runtime: Runtime, product_id: str) -> None:
    before = await audit_ids(runtime)
    await listed(api, {"productId": product_id})
    assert await audit_ids(runtime) == before


# --- Response -----------------------------------------------------------------------------------


async def test_empty_product_lists_nothing(api: Api, product_id: str) -> None:
    assert await listed(api, {"productId": product_id}) == {
        "releases": [],
        "hasNextPage": False,
        "totalResults": 0,
    }


async def test_listed_release_is_the_release_object(api: Api, product_id: str) -> None:
    created = await create(api, product_id, "1.0.0", latest=True)
    data = await listed(api, {"productId": product_id})
    assert data == {"releases": [created], "hasNextPage": False, "totalResults": 1}


async def test_releases_of_other_products_are_not_listed(api: Api, product_id: str) -> None:
    other_product = await api.create_product("Other Product")
    await create(api, other_product, "9.9.9")
    mine = await create(api, product_id, "1.0.0")
    data = await listed(api, {"productId": product_id})
    assert [release["id"] for release in data["releases"]] == [mine["id"]]
    assert data["totalResults"] == 1


# --- Filters ------------------------------------------------------------------------------------


@pytest.fixture
async def on_branches(api: Api, product_id: str) -> dict[str, Any]:
    """1.0.0 on the default branch, 2.0.0 on beta, 3.0.0 on gamma."""
    beta = await api.create_branch(product_id, "beta")
    gamma = await api.create_branch(product_id, "gamma")
    return {
        "beta": beta,
        "default": await create(api, product_id, "1.0.0"),
        "on_beta": await create(api, product_id, "2.0.0", branch_id=beta),
        "on_gamma": await create(api, product_id, "3.0.0", branch_id=gamma),
    }


async def test_without_branch_id_every_branch_is_listed(
    api: Api, product_id: str, on_branches: dict[str, Any]
) -> None:
    params = {"productId": product_id, "sortColumn": "version", "sortDirection": "asc"}
    assert await versions(api, params) == ["1.0.0", "2.0.0", "3.0.0"]


async def test_branch_id_default_lists_the_default_branch(
    api: Api, product_id: str, on_branches: dict[str, Any]
) -> None:
    data = await listed(api, {"productId": product_id, "branchId": "default"})
    assert data == {"releases": [on_branches["default"]], "hasNextPage": False, "totalResults": 1}


async def test_branch_id_lists_that_branch(
    api: Api, product_id: str, on_branches: dict[str, Any]
) -> None:
    data = await listed(api, {"productId": product_id, "branchId": on_branches["beta"].upper()})
    assert data == {"releases": [on_branches["on_beta"]], "hasNextPage": False, "totalResults": 1}


async def test_status_filters(api: Api, product_id: str) -> None:
    await create(api, product_id, "1.0.0")
    await create(api, product_id, "2.0.0", status="DRAFT")
    await create(api, product_id, "3.0.0", status="DEPRECATED")
    data = await listed(api, {"productId": product_id, "status": "DRAFT"})
    assert [r["version"] for r in data["releases"]] == ["2.0.0"]
    assert data["totalResults"] == 1


@pytest.mark.parametrize("status", ["draft", "LIVE", ""])
async def test_unknown_status_is_ignored(
    api: Api, product_id: str, ticking_clock: None, status: str
) -> None:
    await create(api, product_id, "1.0.0")
    await create(api, product_id, "2.0.0", status="DRAFT")
    assert await versions(api, {"productId": product_id, "status": status}) == ["2.0.0", "1.0.0"]


async def test_search_is_an_ascii_case_insensitive_substring(
    api: Api, product_id: str, ticking_clock: None
) -> None:
    for version in ("1.0.0-BETA", "1.0.0-beta.2", "2.0.0-alpha", "Beta-1"):
        await create(api, product_id, version)
    data = await listed(api, {"productId": product_id, "search": "bEtA"})
    assert [r["version"] for r in data["releases"]] == ["Beta-1", "1.0.0-beta.2", "1.0.0-BETA"]
    assert data["totalResults"] == 3


async def test_search_folds_only_ascii_letters(
    api: Api, product_id: str, ticking_clock: None
) -> None:
    await create(api, product_id, "ÉTÉ-1")
    await create(api, product_id, "été-2")
    assert await versions(api, {"productId": product_id, "search": "été"}) == ["été-2"]
    assert await versions(api, {"productId": product_id, "search": "ÉtÉ"}) == ["ÉTÉ-1"]


@pytest.mark.parametrize(("search", "expected"), [("%", ["1%0"]), ("_", ["1_0"]), ("\\", ["1\\0"])])
async def test_search_wildcards_are_literal(
    api: Api, product_id: str, search: str, expected: list[str]
) -> None:
    for version in ("1%0", "1_0", "1\\0", "100"):
        await create(api, product_id, version)
    assert await versions(api, {"productId": product_id, "search": search}) == expected


async def test_search_of_255_characters_applies(api: Api, product_id: str) -> None:
    await create(api, product_id, "1.0.0")
    data = await listed(api, {"productId": product_id, "search": "x" * 255})
    assert data == {"releases": [], "hasNextPage": False, "totalResults": 0}


async def test_search_over_255_characters_is_ignored(api: Api, product_id: str) -> None:
    await create(api, product_id, "1.0.0")
    data = await listed(api, {"productId": product_id, "search": "x" * 256})
    assert [r["version"] for r in data["releases"]] == ["1.0.0"]
    assert data["totalResults"] == 1


async def test_search_length_counts_utf16_code_units(api: Api, product_id: str) -> None:
    await create(api, product_id, "1.0.0")
    data = await listed(api, {"productId": product_id, "search": "😀" * 128})
    assert [r["version"] for r in data["releases"]] == ["1.0.0"]
    assert data["totalResults"] == 1


async def test_filters_combine(api: Api, product_id: str, on_branches: dict[str, Any]) -> None:
    await create(api, product_id, "2.0.1", status="DRAFT", branch_id=on_branches["beta"])
    await create(api, product_id, "2.1.0", status="DRAFT", branch_id=on_branches["beta"])
    params = {
        "productId": product_id,
        "branchId": on_branches["beta"],
        "status": "DRAFT",
        "search": "2.0",
    }
    assert await versions(api, params) == ["2.0.1"]


# --- Repeated parameters: the first occurrence wins ---------------------------------------------


async def test_first_product_id_wins(api: Api, product_id: str) -> None:
    await create(api, product_id, "1.0.0")
    assert await versions(api, [("productId", product_id), ("productId", "nope")]) == ["1.0.0"]
    response = await get(api, [("productId", "nope"), ("productId", product_id)])
    assert_error(response, 400, "Invalid or missing productId")


async def test_first_branch_id_wins(api: Api, product_id: str, on_branches: dict[str, Any]) -> None:
    params = [("productId", product_id), ("branchId", "default"), ("branchId", "nope")]
    assert await versions(api, params) == ["1.0.0"]


async def test_first_status_wins(api: Api, product_id: str) -> None:
    await create(api, product_id, "1.0.0")
    await create(api, product_id, "2.0.0", status="DRAFT")
    params = [("productId", product_id), ("status", "DRAFT"), ("status", "PUBLISHED")]
    assert await versions(api, params) == ["2.0.0"]


async def test_first_sort_parameters_win(api: Api, product_id: str, ticking_clock: None) -> None:
    for version in ("2.0.0", "1.0.0", "3.0.0"):
        await create(api, product_id, version)
    params = [
        ("productId", product_id),
        ("sortColumn", "version"),
        ("sortColumn", "createdAt"),
        ("sortDirection", "asc"),
        ("sortDirection", "desc"),
    ]
    assert await versions(api, params) == ["1.0.0", "2.0.0", "3.0.0"]


# --- Ordering -----------------------------------------------------------------------------------


async def test_default_order_is_created_at_descending(
    api: Api, product_id: str, ticking_clock: None
) -> None:
    for version in ("2.0.0", "1.0.0", "3.0.0"):
        await create(api, product_id, version)
    assert await versions(api, {"productId": product_id}) == ["3.0.0", "1.0.0", "2.0.0"]


async def test_created_at_ascending(api: Api, product_id: str, ticking_clock: None) -> None:
    for version in ("2.0.0", "1.0.0", "3.0.0"):
        await create(api, product_id, version)
    params = {"productId": product_id, "sortColumn": "createdAt", "sortDirection": "asc"}
    assert await versions(api, params) == ["2.0.0", "1.0.0", "3.0.0"]


@pytest.mark.parametrize(("column", "direction"), [("name", "ASC"), ("VERSION", "up"), ("", "")])
async def test_invalid_sort_falls_back_to_created_at_descending(
    api: Api, product_id: str, ticking_clock: None, column: str, direction: str
) -> None:
    for version in ("2.0.0", "1.0.0", "3.0.0"):
        await create(api, product_id, version)
    params = {"productId": product_id, "sortColumn": column, "sortDirection": direction}
    assert await versions(api, params) == ["3.0.0", "1.0.0", "2.0.0"]


async def test_updated_at_order(api: Api, product_id: str, ticking_clock: None) -> None:
    first = await create(api, product_id, "1.0.0")
    await create(api, product_id, "2.0.0")
    response = await api.update_release(first["id"], update_body(first, status="DEPRECATED"))
    assert response.status_code == 200, response.text
    params = {"productId": product_id, "sortColumn": "updatedAt"}
    assert await versions(api, params) == ["1.0.0", "2.0.0"]
    assert await versions(api, {**params, "sortDirection": "asc"}) == ["2.0.0", "1.0.0"]


async def test_latest_order_puts_latest_first_then_newest(
    api: Api, product_id: str, ticking_clock: None
) -> None:
    await create(api, product_id, "1.0.0", latest=True)
    await create(api, product_id, "2.0.0")
    await create(api, product_id, "3.0.0")
    params = {"productId": product_id, "sortColumn": "latest"}
    assert await versions(api, params) == ["1.0.0", "3.0.0", "2.0.0"]
    # Ties are broken by createdAt descending whatever the direction.
    assert await versions(api, {**params, "sortDirection": "asc"}) == ["3.0.0", "2.0.0", "1.0.0"]


async def test_equal_versions_on_two_branches_tie_break_by_created_at_descending(
    api: Api, product_id: str, ticking_clock: None
) -> None:
    beta = await api.create_branch(product_id, "beta")
    older = await create(api, product_id, "1.0.0")
    newer = await create(api, product_id, "1.0.0", branch_id=beta)
    for direction in ("asc", "desc"):
        params = {"productId": product_id, "sortColumn": "version", "sortDirection": direction}
        data = await listed(api, params)
        assert [r["id"] for r in data["releases"]] == [newer["id"], older["id"]]


async def test_equal_timestamps_tie_break_by_id_ascending(
    api: Api, product_id: str, frozen_clock: None
) -> None:
    created = [await create(api, product_id, f"1.0.{n}") for n in range(5)]
    expected = sorted(release["id"] for release in created)
    for direction in ("asc", "desc"):
        params = {"productId": product_id, "sortDirection": direction}
        data = await listed(api, params)
        assert [r["id"] for r in data["releases"]] == expected


# --- Pagination ---------------------------------------------------------------------------------


@pytest.fixture
async def twelve(api: Api, product_id: str, ticking_clock: None) -> list[str]:
    """Versions 1.0.0 … 1.0.11, created in that order."""
    return [(await create(api, product_id, f"1.0.{n}"))["version"] for n in range(12)]


async def test_first_page_has_a_next_page(api: Api, product_id: str, twelve: list[str]) -> None:
    data = await listed(api, {"productId": product_id, "pageSize": "10"})
    assert [r["version"] for r in data["releases"]] == twelve[::-1][:10]
    assert data["hasNextPage"] is True
    assert data["totalResults"] == 12


async def test_last_page_has_no_next_page(api: Api, product_id: str, twelve: list[str]) -> None:
    data = await listed(api, {"productId": product_id, "pageSize": "10", "page": "2"})
    assert [r["version"] for r in data["releases"]] == twelve[::-1][10:]
    assert data["hasNextPage"] is False
    assert data["totalResults"] == 12


async def test_page_beyond_the_end_is_empty(api: Api, product_id: str, twelve: list[str]) -> None:
    data = await listed(api, {"productId": product_id, "pageSize": "10", "page": "3"})
    assert data == {"releases": [], "hasNextPage": False, "totalResults": 12}


async def test_page_exactly_full_has_no_next_page(
    api: Api, product_id: str, ticking_clock: None
) -> None:
    for n in range(10):
        await create(api, product_id, f"1.0.{n}")
    data = await listed(api, {"productId": product_id, "pageSize": "10"})
    assert len(data["releases"]) == 10
    assert data["hasNextPage"] is False


@pytest.mark.parametrize(
    "params",
    [
        {"page": "0", "pageSize": "7"},
        {"page": "-1", "pageSize": "x"},
        {"page": "one", "pageSize": "1000"},
    ],
)
async def test_invalid_page_values_fall_back_to_page_1_of_25(
    api: Api, runtime: Runtime, product_id: str, ticking_clock: None, params: dict[str, str]
) -> None:
    await set_limits(runtime, api.team.team_id, max_releases_per_product=0)
    for n in range(27):
        await create(api, product_id, f"1.0.{n}")
    data = await listed(api, {"productId": product_id, **params})
    assert [r["version"] for r in data["releases"]] == [f"1.0.{n}" for n in range(26, 1, -1)]
    assert data["hasNextPage"] is True
    assert data["totalResults"] == 27


# --- Tenant isolation ---------------------------------------------------------------------------


async def test_other_teams_key_is_an_invalid_api_key(
    api: Api, product_id: str, other_team: TeamCredentials
) -> None:
    await create(api, product_id, "1.0.0")
    response = await get(api, {"productId": product_id}, team=other_team)
    assert_error(response, 401, "Invalid API key")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_other_teams_product_is_not_found(
    api: Api, product_id: str, other_team: TeamCredentials
) -> None:
    await create(api, product_id, "1.0.0")
    other = Api(api.client, other_team)
    response = await get(other, {"productId": product_id})
    assert_error(response, 404, "Product not found")


async def test_other_teams_branch_is_not_found(
    api: Api, product_id: str, other_team: TeamCredentials
) -> None:
    branch_id = await api.create_branch(product_id, "beta")
    await create(api, product_id, "1.0.0", branch_id=branch_id)
    other = Api(api.client, other_team)
    own_product = await other.create_product()
    response = await get(other, {"productId": own_product, "branchId": branch_id})
    assert_error(response, 404, "Branch not found")
