"""Products (Extension, §10): create and get."""

from __future__ import annotations

from typing import Any

import pytest

from releasegate.runtime import Runtime
from tests.fixtures.api import Api, TeamCredentials
from tests.fixtures.teams import set_limits


def details(response: Any) -> str:
    return str(response.json()["result"]["details"])


async def test_create_product_returns_product_with_metadata(api: Api) -> None:
    response = await api.post_json(
        "/products",
        {
            "name": "Spigot Plugin",
            "url": "https://example.com/p",
            "metadata": [{"key": "k", "value": "v"}],
        },
    )
    assert response.status_code == 201, response.text
    assert details(response) == "Product created"
    product = response.json()["data"]
    assert product["name"] == "Spigot Plugin"
    assert product["url"] == "https://example.com/p"
    assert product["teamId"] == api.team.team_id
    assert [(m["key"], m["value"], m["productId"]) for m in product["metadata"]] == [
        ("k", "v", product["id"])
    ]


async def test_empty_url_is_stored_as_null(api: Api) -> None:
    response = await api.post_json("/products", {"name": "abc", "url": ""})
    assert response.json()["data"]["url"] is None


@pytest.mark.parametrize(
    ("body", "issues"),
    [
        ({}, [{"message": "Required", "path": ["name"]}]),
        (
            {"name": " ab"},
            [{"message": "Invalid", "path": ["name"]}],
        ),
        (
            {"name": "ok name", "url": "ftp://x"},
            [{"message": "Invalid url", "path": ["url"]}],
        ),
        (
            {"name": "ok name", "url": "https://e.com/" + "a" * 2040},
            [{"message": "Invalid url", "path": ["url"]}],
        ),
        (
            {"name": "ok name", "extra": 1},
            [{"message": "Unrecognized key(s) in object: 'extra'", "path": []}],
        ),
    ],
)
async def test_invalid_product_body(api: Api, body: dict[str, Any], issues: list[Any]) -> None:
    response = await api.post_json("/products", body)
    assert response.status_code == 400
    assert details(response) == "Invalid request body"
    assert response.json()["data"] == issues


@pytest.mark.parametrize("raw", [b"", b"{", b"\xff", b"NaN"])
async def test_unparseable_json_body(api: Api, raw: bytes) -> None:
    response = await api.client.post(f"{api.base}/products", content=raw, headers=api.team.headers)
    assert response.status_code == 400
    assert details(response) == "Invalid JSON body"


async def test_json_body_over_one_mib_is_413(api: Api) -> None:
    response = await api.client.post(
        f"{api.base}/products", content=b" " * (1024 * 1024 + 1), headers=api.team.headers
    )
    assert response.status_code == 413
    assert details(response) == "Request body too large"


async def test_duplicate_name_case_insensitive_is_409(api: Api) -> None:
    await api.create_product("My Product")
    response = await api.post_json("/products", {"name": "MY PRODUCT"})
    assert response.status_code == 409
    assert details(response) == "A product with this name already exists"


async def test_same_name_in_another_team_is_allowed(api: Api, other_team: TeamCredentials) -> None:
    await api.create_product("Shared")
    assert await Api(api.client, other_team).create_product("Shared")


async def test_max_products(api: Api, runtime: Runtime) -> None:
    await set_limits(runtime, api.team.team_id, max_products=1)
    await api.create_product("One")
    response = await api.post_json("/products", {"name": "Two"})
    assert response.status_code == 403
    assert details(response) == "Max products reached"


async def test_get_product(api: Api) -> None:
    product_id = await api.create_product()
    response = await api.client.get(f"{api.base}/products/{product_id}", headers=api.team.headers)
    assert response.status_code == 200
    assert details(response) == "Product found"
    assert response.json()["data"]["id"] == product_id


async def test_get_product_of_another_team_is_404(api: Api, other_team: TeamCredentials) -> None:
    product_id = await api.create_product()
    response = await api.client.get(f"{api.base}/products/{product_id}", headers=other_team.headers)
    assert response.status_code == 401
    other = Api(api.client, other_team)
    response = await api.client.get(
        f"{other.base}/products/{product_id}", headers=other_team.headers
    )
    assert response.status_code == 404
    assert details(response) == "Product not found"
