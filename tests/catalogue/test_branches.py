"""Branches (Extension, §9): create and list."""

from __future__ import annotations

import uuid
from typing import Any

from releasegate.runtime import Runtime
from tests.fixtures.api import Api, TeamCredentials
from tests.fixtures.teams import set_limits


def details(response: Any) -> str:
    return str(response.json()["result"]["details"])


async def test_create_branch(api: Api) -> None:
    product_id = await api.create_product()
    response = await api.post_json("/branches", {"name": "beta", "productId": product_id})
    assert response.status_code == 201
    assert details(response) == "Branch created"
    branch = response.json()["data"]
    assert branch["name"] == "beta" and branch["productId"] == product_id
    assert branch["releaseCount"] == 0


async def test_branch_of_unknown_product(api: Api, other_team: TeamCredentials) -> None:
    foreign = await Api(api.client, other_team).create_product()
    response = await api.post_json("/branches", {"name": "beta", "productId": foreign})
    assert response.status_code == 404
    assert details(response) == "Product not found"


async def test_duplicate_branch_name_is_409_but_case_matters(api: Api) -> None:
    product_id = await api.create_product()
    await api.create_branch(product_id, "beta")
    duplicate = await api.post_json("/branches", {"name": "beta", "productId": product_id})
    assert duplicate.status_code == 409
    assert details(duplicate) == "A branch with this name already exists for this product"
    other_case = await api.post_json("/branches", {"name": "Beta", "productId": product_id})
    assert other_case.status_code == 201


async def test_max_branches_per_product(api: Api, runtime: Runtime) -> None:
    await set_limits(runtime, api.team.team_id, max_branches_per_product=1)
    product_id = await api.create_product()
    await api.create_branch(product_id, "one")
    response = await api.post_json("/branches", {"name": "two", "productId": product_id})
    assert response.status_code == 403
    assert details(response) == "Max branches per product reached"


async def test_branch_name_rules(api: Api) -> None:
    product_id = await api.create_product()
    response = await api.post_json("/branches", {"name": "b!", "productId": product_id})
    assert response.status_code == 400
    assert response.json()["data"] == [
        {"message": "String must contain at least 3 character(s)", "path": ["name"]},
        {"message": "Invalid", "path": ["name"]},
    ]


async def test_list_branches_pages_and_counts_releases(api: Api, runtime: Runtime) -> None:
    await set_limits(runtime, api.team.team_id, max_branches_per_product=0)
    product_id = await api.create_product()
    ids = [await api.create_branch(product_id, f"branch-{i:02d}") for i in range(12)]
    release = await api.create_release(
        {"version": "1.0.0", "productId": product_id, "status": "DRAFT", "branchId": ids[0]}
    )
    assert release.status_code == 201
    first = await api.client.get(
        f"{api.base}/branches",
        params={
            "productId": product_id,
            "pageSize": "10",
            "sortColumn": "name",
            "sortDirection": "asc",
        },
        headers=api.team.headers,
    )
    assert first.status_code == 200
    assert details(first) == "Branches found"
    data = first.json()["data"]
    assert data["totalResults"] == 12 and data["hasNextPage"] is True
    assert [b["name"] for b in data["branches"]] == [f"branch-{i:02d}" for i in range(10)]
    assert data["branches"][0]["releaseCount"] == 1
    second = await api.client.get(
        f"{api.base}/branches",
        params={
            "productId": product_id,
            "pageSize": "10",
            "page": "2",
            "sortColumn": "name",
            "sortDirection": "asc",
        },
        headers=api.team.headers,
    )
    assert [b["name"] for b in second.json()["data"]["branches"]] == ["branch-10", "branch-11"]
    assert second.json()["data"]["hasNextPage"] is False


async def test_list_branches_search_is_literal_substring(api: Api) -> None:
    product_id = await api.create_product()
    await api.create_branch(product_id, "beta_1")
    await api.create_branch(product_id, "betax1")
    response = await api.client.get(
        f"{api.base}/branches",
        params={"productId": product_id, "search": "A_1"},
        headers=api.team.headers,
    )
    assert [b["name"] for b in response.json()["data"]["branches"]] == ["beta_1"]


async def test_list_branches_requires_product_id(api: Api) -> None:
    response = await api.client.get(f"{api.base}/branches", headers=api.team.headers)
    assert response.status_code == 400
    assert details(response) == "Invalid or missing productId"


async def test_list_branches_unknown_product(api: Api) -> None:
    response = await api.client.get(
        f"{api.base}/branches", params={"productId": str(uuid.uuid4())}, headers=api.team.headers
    )
    assert response.status_code == 404
    assert details(response) == "Product not found"
