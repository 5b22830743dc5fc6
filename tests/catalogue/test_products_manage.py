"""Products (Extension, §10): list, update and delete (with and without cascade), with the
committed state (rows, usage, journal, objects, audit) and tenant isolation."""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from releasegate.audit.models import AuditLog
from releasegate.branches.models import Branch
from releasegate.files.models import ReleaseFile
from releasegate.licenses.models import License, LicenseProduct
from releasegate.metadata.models import Metadata
from releasegate.products.models import Product
from releasegate.releases.models import Release, ReleaseLicense
from releasegate.runtime import Runtime
from tests.fixtures.api import Api, TeamCredentials
from tests.fixtures.state import count, is_stored, journal, used_bytes

NAME_TAKEN = "A product with this name already exists"
HAS_RELEASES = "Product has releases and cannot be deleted"
START = datetime(2030, 1, 1, tzinfo=UTC)
PARALLEL = 10


# --- Fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, object]:
    return dict(getattr(request, "param", {}))


@pytest.fixture
def ticking_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every product write gets a time one second after the previous one."""
    ticks = (START + timedelta(seconds=n) for n in itertools.count())
    monkeypatch.setattr("releasegate.products.service.utcnow", lambda: next(ticks))


async def create_product(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post_json("/products", body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()["data"]
    return created


@pytest.fixture
async def product(api: Api) -> dict[str, Any]:
    return await create_product(
        api,
        {
            "name": "My Product",
            "url": "https://example.com",
            "metadata": [{"key": "k", "value": "v"}],
        },
    )


async def create_release(
    api: Api,
    product_id: str,
    version: str,
    *,
    file: bytes | None = None,
    branch_id: str | None = None,
    license_ids: list[str] | None = None,
) -> dict[str, Any]:
    data = {
        "version": version,
        "productId": product_id,
        "status": "PUBLISHED",
        "branchId": branch_id,
        "metadata": [{"key": "mc", "value": "1.21"}],
        "licenseIds": license_ids or [],
    }
    response = await api.create_release(data, file)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()["data"]
    return created


async def list_products(
    api: Api, params: dict[str, str] | None = None, team: TeamCredentials | None = None
) -> httpx.Response:
    headers = (team or api.team).headers
    return await api.client.get(f"{api.base}/products", params=params or {}, headers=headers)


async def listed(api: Api, params: dict[str, str] | None = None) -> dict[str, Any]:
    response = await list_products(api, params)
    assert response.status_code == 200, response.text
    payload = response.json()
    assert payload["result"]["details"] == "Products found"
    assert payload["result"]["valid"] is True
    data: dict[str, Any] = payload["data"]
    return data


async def names(api: Api, params: dict[str, str] | None = None) -> list[str]:
    return [p["name"] for p in (await listed(api, params))["products"]]


async def put(api: Api, product_id: str, body: Any) -> httpx.Response:
    return await api.client.put(
        f"{api.base}/products/{product_id}", content=json.dumps(body), headers=api.team.headers
    )


async def delete(api: Api, product_id: str, query: str = "") -> httpx.Response:
    return await api.client.delete(
        f"{api.base}/products/{product_id}{query}", headers=api.team.headers
    )


async def get_product(api: Api, product_id: str) -> httpx.Response:
    return await api.client.get(f"{api.base}/products/{product_id}", headers=api.team.headers)


def ok(response: httpx.Response, details: str) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    payload = response.json()
    assert payload["result"]["details"] == details
    assert payload["result"]["valid"] is True
    data: dict[str, Any] = payload["data"]
    return data


def assert_error(response: httpx.Response, status: int, details: str, data: object = None) -> None:
    assert response.status_code == status, response.text
    payload = response.json()
    assert payload["result"]["details"] == details
    assert payload["result"]["valid"] is False
    assert payload["data"] == data


async def audits(runtime: Runtime, action: str) -> list[AuditLog]:
    async with runtime.database.read() as session:
        rows = await session.scalars(
            select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.created_at)
        )
        return list(rows)


async def all_audit_actions(runtime: Runtime) -> list[str]:
    async with runtime.database.read() as session:
        return sorted(await session.scalars(select(AuditLog.action)))


def update_body(**changes: Any) -> dict[str, Any]:
    return {"name": "Renamed", "url": None, "metadata": [], **changes}


def random_id() -> str:
    return str(uuid.uuid4())


# --- List ---------------------------------------------------------------------------------------


async def test_list_returns_product_objects_with_metadata(
    api: Api, product: dict[str, Any]
) -> None:
    assert await listed(api) == {"products": [product], "hasNextPage": False, "totalResults": 1}


async def test_list_of_a_team_without_products_is_empty(api: Api) -> None:
    assert await listed(api) == {"products": [], "hasNextPage": False, "totalResults": 0}


async def test_list_default_order_is_created_at_descending(api: Api, ticking_clock: None) -> None:
    for name in ("bbb", "aaa", "ccc"):
        await api.create_product(name)
    assert await names(api) == ["ccc", "aaa", "bbb"]
    assert await names(api, {"sortDirection": "asc"}) == ["bbb", "aaa", "ccc"]


async def test_list_by_name_ignores_ascii_case(api: Api) -> None:
    for name in ("beta", "Alpha", "gamma", "Delta"):
        await api.create_product(name)
    params = {"sortColumn": "name", "sortDirection": "asc"}
    assert await names(api, params) == ["Alpha", "beta", "Delta", "gamma"]
    assert await names(api, {**params, "sortDirection": "desc"}) == [
        "gamma",
        "Delta",
        "beta",
        "Alpha",
    ]


async def test_list_by_updated_at(api: Api, ticking_clock: None) -> None:
    first = await api.create_product("first")
    await api.create_product("second")
    ok(await put(api, first, update_body(name="first")), "Product updated")
    assert await names(api, {"sortColumn": "updatedAt"}) == ["first", "second"]
    params = {"sortColumn": "updatedAt", "sortDirection": "asc"}
    assert await names(api, params) == ["second", "first"]


async def test_list_invalid_sort_falls_back_to_created_at_descending(
    api: Api, ticking_clock: None
) -> None:
    for name in ("bbb", "aaa", "ccc"):
        await api.create_product(name)
    assert await names(api, {"sortColumn": "version", "sortDirection": "up"}) == [
        "ccc",
        "aaa",
        "bbb",
    ]


async def test_list_search_is_a_case_insensitive_literal_substring(api: Api) -> None:
    for name in ("Plugin_One", "PluginXOne", "Other"):
        await api.create_product(name)
    data = await listed(api, {"search": "N_o"})
    assert [p["name"] for p in data["products"]] == ["Plugin_One"]
    assert data["totalResults"] == 1


async def test_list_search_over_255_characters_is_ignored(api: Api) -> None:
    await api.create_product("Plugin")
    assert await names(api, {"search": "x" * 256}) == ["Plugin"]
    assert await names(api, {"search": "x" * 255}) == []


async def test_list_pages(api: Api, ticking_clock: None) -> None:
    created = [await api.create_product(f"product-{n:02d}") for n in range(12)]
    first = await listed(api, {"pageSize": "10", "sortDirection": "asc"})
    assert [p["id"] for p in first["products"]] == created[:10]
    assert (first["hasNextPage"], first["totalResults"]) == (True, 12)
    second = await listed(api, {"pageSize": "10", "page": "2", "sortDirection": "asc"})
    assert [p["id"] for p in second["products"]] == created[10:]
    assert (second["hasNextPage"], second["totalResults"]) == (False, 12)
    beyond = await listed(api, {"pageSize": "10", "page": "3"})
    assert beyond == {"products": [], "hasNextPage": False, "totalResults": 12}


async def test_list_shows_only_the_teams_products(
    api: Api, product: dict[str, Any], other_team: TeamCredentials
) -> None:
    other = Api(api.client, other_team)
    await other.create_product("Theirs")
    assert await listed(api) == {"products": [product], "hasNextPage": False, "totalResults": 1}


async def test_list_with_another_teams_key_is_an_invalid_api_key(
    api: Api, product: dict[str, Any], other_team: TeamCredentials
) -> None:
    assert_error(await list_products(api, team=other_team), 401, "Invalid API key")


# --- Update -------------------------------------------------------------------------------------


async def test_update_replaces_name_url_and_metadata(
    api: Api, runtime: Runtime, product: dict[str, Any]
) -> None:
    body = update_body(
        name="New Name",
        url="https://example.org/new",
        metadata=[{"key": "a", "value": "1", "locked": True}, {"key": "b", "value": "2"}],
    )
    data = ok(await put(api, product["id"], body), "Product updated")
    assert data["id"] == product["id"]
    assert (data["name"], data["url"], data["teamId"]) == (
        "New Name",
        "https://example.org/new",
        api.team.team_id,
    )
    assert data["createdAt"] == product["createdAt"]
    assert data["updatedAt"] > product["updatedAt"]
    assert [(m["key"], m["value"], m["locked"], m["productId"]) for m in data["metadata"]] == [
        ("a", "1", True, product["id"]),
        ("b", "2", False, product["id"]),
    ]
    assert not {m["id"] for m in data["metadata"]} & {m["id"] for m in product["metadata"]}
    assert ok(await get_product(api, product["id"]), "Product found") == data
    assert await count(runtime, Metadata, Metadata.product_id == uuid.UUID(product["id"])) == 2


async def test_update_writes_one_audit_row(
    api: Api, runtime: Runtime, product: dict[str, Any]
) -> None:
    body = update_body()
    response = await put(api, product["id"], body)
    ok(response, "Product updated")
    rows = await audits(runtime, "UPDATE_PRODUCT")
    assert len(rows) == 1
    assert (rows[0].target_type, str(rows[0].target_id)) == ("PRODUCT", product["id"])
    assert rows[0].request_body is not None and rows[0].response_body is not None
    assert json.loads(rows[0].request_body) == body
    assert json.loads(rows[0].response_body) == response.json()


async def test_update_with_empty_url_stores_null(api: Api, product: dict[str, Any]) -> None:
    data = ok(await put(api, product["id"], update_body(url="")), "Product updated")
    assert data["url"] is None


async def test_update_may_change_the_case_of_its_own_name(
    api: Api, product: dict[str, Any]
) -> None:
    data = ok(await put(api, product["id"], update_body(name="MY PRODUCT")), "Product updated")
    assert data["name"] == "MY PRODUCT"


async def test_update_to_another_products_name_is_409(
    api: Api, runtime: Runtime, product: dict[str, Any]
) -> None:
    await api.create_product("Taken Name")
    response = await put(api, product["id"], update_body(name="taken name"))
    assert_error(response, 409, NAME_TAKEN)
    assert ok(await get_product(api, product["id"]), "Product found") == product
    assert await audits(runtime, "UPDATE_PRODUCT") == []


async def test_parallel_renames_to_one_name_succeed_once(api: Api, runtime: Runtime) -> None:
    ids = [await api.create_product(f"product-{n}") for n in range(PARALLEL)]
    responses = await asyncio.gather(
        *(
            put(api, product_id, update_body(name=f"Same Name {'X' if n % 2 else 'x'}"))
            for n, product_id in enumerate(ids)
        )
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [409] * (PARALLEL - 1)
    for response in responses:
        if response.status_code == 409:
            assert_error(response, 409, NAME_TAKEN)
    winner = next(ids[n] for n, r in enumerate(responses) if r.status_code == 200)
    stored = {p["id"]: p["name"] for p in (await listed(api, {"pageSize": "25"}))["products"]}
    assert stored == {
        product_id: stored[winner] if product_id == winner else f"product-{n}"
        for n, product_id in enumerate(ids)
    }
    assert stored[winner].lower() == "same name x"
    assert len(await audits(runtime, "UPDATE_PRODUCT")) == 1


async def test_update_to_a_name_used_in_another_team_is_allowed(
    api: Api, product: dict[str, Any], other_team: TeamCredentials
) -> None:
    await Api(api.client, other_team).create_product("Shared")
    data = ok(await put(api, product["id"], update_body(name="Shared")), "Product updated")
    assert data["name"] == "Shared"


async def test_update_requires_every_field(api: Api, product: dict[str, Any]) -> None:
    response = await put(api, product["id"], {})
    assert_error(
        response,
        400,
        "Invalid request body",
        [
            {"message": "Required", "path": ["name"]},
            {"message": "Required", "path": ["url"]},
            {"message": "Required", "path": ["metadata"]},
        ],
    )


async def test_update_invalid_json_body(api: Api, product: dict[str, Any]) -> None:
    response = await api.client.put(
        f"{api.base}/products/{product['id']}", content=b"{", headers=api.team.headers
    )
    assert_error(response, 400, "Invalid JSON body")


async def test_update_invalid_product_id(api: Api) -> None:
    assert_error(await put(api, "nope", update_body()), 400, "Invalid productId")


async def test_update_unknown_product(api: Api, runtime: Runtime) -> None:
    assert_error(await put(api, random_id(), update_body()), 404, "Product not found")
    assert await audits(runtime, "UPDATE_PRODUCT") == []


async def test_update_body_is_validated_before_the_product_is_looked_up(api: Api) -> None:
    response = await put(api, random_id(), {"name": "x", "url": "x", "metadata": []})
    assert_error(
        response,
        400,
        "Invalid request body",
        [
            {"message": "String must contain at least 3 character(s)", "path": ["name"]},
            {"message": "Invalid url", "path": ["url"]},
        ],
    )


# --- Delete -------------------------------------------------------------------------------------


async def test_delete_returns_the_product_and_what_went_with_it(
    api: Api, product: dict[str, Any]
) -> None:
    branch_ids = sorted(
        [await api.create_branch(product["id"], name) for name in ("beta", "gamma")]
    )
    data = ok(await delete(api, product["id"]), "Product deleted")
    assert data == {**product, "deletedReleaseIds": [], "deletedBranchIds": branch_ids}


async def test_delete_removes_branches_links_and_metadata_but_keeps_licenses(
    api: Api, runtime: Runtime, product: dict[str, Any]
) -> None:
    await api.create_branch(product["id"], "beta")
    license_id = uuid.UUID((await api.create_license([product["id"]]))["id"])
    ok(await delete(api, product["id"]), "Product deleted")
    product_id = uuid.UUID(product["id"])
    assert await count(runtime, Product, Product.id == product_id) == 0
    assert await count(runtime, Branch, Branch.product_id == product_id) == 0
    assert await count(runtime, LicenseProduct, LicenseProduct.product_id == product_id) == 0
    assert await count(runtime, Metadata, Metadata.product_id == product_id) == 0
    assert await count(runtime, License, License.id == license_id) == 1
    assert_error(await get_product(api, product["id"]), 404, "Product not found")


async def test_delete_writes_one_audit_row_with_the_response(
    api: Api, runtime: Runtime, product: dict[str, Any]
) -> None:
    response = await delete(api, product["id"])
    ok(response, "Product deleted")
    rows = await audits(runtime, "DELETE_PRODUCT")
    assert len(rows) == 1
    assert (rows[0].target_type, str(rows[0].target_id)) == ("PRODUCT", product["id"])
    assert rows[0].request_body is None
    assert rows[0].response_body is not None
    assert json.loads(rows[0].response_body) == response.json()


async def test_delete_with_releases_without_cascade_is_409_and_changes_nothing(
    api: Api, runtime: Runtime, product: dict[str, Any]
) -> None:
    release = await create_release(api, product["id"], "1.0.0", file=b"bytes")
    for query in ("", "?cascade=false", "?cascade=TRUE", "?cascade=1"):
        assert_error(await delete(api, product["id"], query), 409, HAS_RELEASES)
    assert ok(await get_product(api, product["id"]), "Product found") == product
    assert await count(runtime, Release, Release.id == uuid.UUID(release["id"])) == 1
    assert await is_stored(runtime, release["file"]["key"])
    assert await audits(runtime, "DELETE_PRODUCT") == []


@pytest.fixture
async def populated(api: Api, product: dict[str, Any]) -> dict[str, Any]:
    """Two releases with files (one restricted, on a branch), one without, two branches."""
    beta = await api.create_branch(product["id"], "beta")
    gamma = await api.create_branch(product["id"], "gamma")
    license_id = (await api.create_license([product["id"]]))["id"]
    releases = [
        await create_release(api, product["id"], "1.0.0", file=b"first file"),
        await create_release(
            api, product["id"], "2.0.0", file=b"second", branch_id=beta, license_ids=[license_id]
        ),
        await create_release(api, product["id"], "3.0.0"),
    ]
    return {"branches": sorted([beta, gamma]), "license": license_id, "releases": releases}


async def test_cascade_returns_the_deleted_release_and_branch_ids(
    api: Api, product: dict[str, Any], populated: dict[str, Any]
) -> None:
    data = ok(await delete(api, product["id"], "?cascade=true"), "Product deleted")
    assert data == {
        **product,
        "deletedReleaseIds": sorted(r["id"] for r in populated["releases"]),
        "deletedBranchIds": populated["branches"],
    }


async def test_cascade_removes_releases_with_their_rows(
    api: Api, runtime: Runtime, product: dict[str, Any], populated: dict[str, Any]
) -> None:
    ok(await delete(api, product["id"], "?cascade=true"), "Product deleted")
    release_ids = [uuid.UUID(r["id"]) for r in populated["releases"]]
    assert await count(runtime, Release) == 0
    assert await count(runtime, ReleaseFile) == 0
    assert await count(runtime, ReleaseLicense) == 0
    assert await count(runtime, Metadata, Metadata.release_id.in_(release_ids)) == 0
    assert await count(runtime, Branch) == 0
    assert await count(runtime, License, License.id == uuid.UUID(populated["license"])) == 1


async def test_cascade_frees_storage_and_deletes_objects(
    api: Api, runtime: Runtime, product: dict[str, Any], populated: dict[str, Any]
) -> None:
    keys = [r["file"]["key"] for r in populated["releases"] if r["file"] is not None]
    assert await used_bytes(runtime, api.team) == len(b"first file") + len(b"second")
    ok(await delete(api, product["id"], "?cascade=true"), "Product deleted")
    assert await used_bytes(runtime, api.team) == 0
    assert [await is_stored(runtime, key) for key in keys] == [False, False]
    assert await journal(runtime) == []


@pytest.mark.parametrize("settings_overrides", [{"deleted_object_grace": 60}], indirect=True)
async def test_cascade_journals_every_file_as_pending_delete(
    api: Api, runtime: Runtime, product: dict[str, Any], populated: dict[str, Any]
) -> None:
    keys = [r["file"]["key"] for r in populated["releases"] if r["file"] is not None]
    ok(await delete(api, product["id"], "?cascade=true"), "Product deleted")
    assert await journal(runtime) == sorted((key, "PENDING_DELETE") for key in keys)
    assert [await is_stored(runtime, key) for key in keys] == [True, True]


async def test_cascade_writes_only_the_delete_product_audit_row(
    api: Api, runtime: Runtime, product: dict[str, Any], populated: dict[str, Any]
) -> None:
    before = await all_audit_actions(runtime)
    response = await delete(api, product["id"], "?cascade=true")
    ok(response, "Product deleted")
    assert await all_audit_actions(runtime) == sorted([*before, "DELETE_PRODUCT"])
    (row,) = await audits(runtime, "DELETE_PRODUCT")
    assert row.response_body is not None
    assert json.loads(row.response_body) == response.json()


async def test_cascade_leaves_other_products_alone(
    api: Api, runtime: Runtime, product: dict[str, Any], populated: dict[str, Any]
) -> None:
    other_id = await api.create_product("Other Product")
    other_branch = await api.create_branch(other_id, "beta")
    kept = await create_release(api, other_id, "1.0.0", file=b"kept", branch_id=other_branch)
    ok(await delete(api, product["id"], "?cascade=true"), "Product deleted")
    assert ok(await get_product(api, other_id), "Product found")["id"] == other_id
    response = await api.client.get(f"{api.base}/releases/{kept['id']}", headers=api.team.headers)
    assert ok(response, "Release found") == kept
    assert await is_stored(runtime, kept["file"]["key"])
    assert await used_bytes(runtime, api.team) == len(b"kept")


async def test_delete_invalid_product_id(api: Api) -> None:
    assert_error(await delete(api, "nope"), 400, "Invalid productId")


async def test_delete_unknown_product(api: Api, runtime: Runtime) -> None:
    assert_error(await delete(api, random_id(), "?cascade=true"), 404, "Product not found")
    assert await audits(runtime, "DELETE_PRODUCT") == []


async def test_delete_twice_is_not_found(api: Api, product: dict[str, Any]) -> None:
    ok(await delete(api, product["id"]), "Product deleted")
    assert_error(await delete(api, product["id"]), 404, "Product not found")


# --- Tenant isolation ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_other_teams_key_is_an_invalid_api_key(
    api: Api, product: dict[str, Any], other_team: TeamCredentials, method: str
) -> None:
    response = await api.client.request(
        method,
        f"{api.base}/products/{product['id']}?cascade=true",
        content=json.dumps(update_body()),
        headers=other_team.headers,
    )
    assert_error(response, 401, "Invalid API key")
    assert ok(await get_product(api, product["id"]), "Product found") == product


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_other_teams_product_is_not_found(
    api: Api, runtime: Runtime, product: dict[str, Any], other_team: TeamCredentials, method: str
) -> None:
    release = await create_release(api, product["id"], "1.0.0", file=b"bytes")
    other = Api(api.client, other_team)
    response = await api.client.request(
        method,
        f"{other.base}/products/{product['id']}?cascade=true",
        content=json.dumps(update_body()),
        headers=other_team.headers,
    )
    assert_error(response, 404, "Product not found")
    assert ok(await get_product(api, product["id"]), "Product found") == product
    assert await count(runtime, Release, Release.id == uuid.UUID(release["id"])) == 1
    assert await is_stored(runtime, release["file"]["key"])
