"""Licenses (Extension, §11.3): list, update, delete (and its guard), suspend and unsuspend."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from releasegate.audit.models import AuditLog
from releasegate.customers.service import create_customer
from releasegate.kit.clock import iso, utcnow
from releasegate.licenses.models import License, LicenseCustomer, LicenseProduct
from releasegate.metadata.models import Metadata
from releasegate.releases.models import ReleaseLicense
from releasegate.runtime import Runtime
from tests.fixtures.api import Api, TeamCredentials

OTHER_KEY = "ZZZZZ-11111-YYYYY-22222-XXXXX"
LAST_ALLOWED = "License is the last allowed license of one or more releases"


def license_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "expirationType": "NEVER",
        "expirationStart": None,
        "expirationDate": None,
        "expirationDays": None,
        "suspended": False,
        "productIds": [],
        "customerIds": [],
        "hwidLimit": None,
        "ipLimit": None,
        "metadata": [],
    }
    body.update(changes)
    return body


def put_body(license_key: str, **changes: Any) -> dict[str, Any]:
    return license_body(licenseKey=license_key, **changes)


def hint(key: str) -> str:
    return "*****-*****-*****-*****-" + key[-5:]


def assert_error(response: httpx.Response, status: int, details: str, data: object = None) -> None:
    assert response.status_code == status, response.text
    payload = response.json()
    assert payload["result"]["details"] == details
    assert payload["result"]["valid"] is False
    assert payload["data"] == data


def assert_ok(response: httpx.Response, details: str) -> Any:
    assert response.status_code == 200, response.text
    payload = response.json()
    assert payload["result"]["details"] == details
    assert payload["result"]["valid"] is True
    return payload["data"]


async def create(api: Api, **changes: Any) -> dict[str, Any]:
    response = await api.post_json("/licenses", license_body(**changes))
    data: dict[str, Any] = assert_ok(response, "License created")
    return data


async def fetch(api: Api, license_id: str) -> dict[str, Any]:
    response = await api.client.get(
        f"{api.base}/licenses/id/{license_id}", headers=api.team.headers
    )
    data: dict[str, Any] = assert_ok(response, "License found")
    return data


async def list_licenses(api: Api, query: str = "") -> httpx.Response:
    return await api.client.get(f"{api.base}/licenses{query}", headers=api.team.headers)


async def listed_ids(api: Api, query: str) -> list[str]:
    data = assert_ok(await list_licenses(api, query), "Licenses found")
    return [item["id"] for item in data["licenses"]]


async def put(api: Api, license_id: str, body: Any) -> httpx.Response:
    return await api.client.put(
        f"{api.base}/licenses/id/{license_id}", content=json.dumps(body), headers=api.team.headers
    )


async def post_action(
    api: Api, license_id: str, action: str, content: bytes = b""
) -> httpx.Response:
    return await api.client.post(
        f"{api.base}/licenses/id/{license_id}/{action}", content=content, headers=api.team.headers
    )


async def delete_by_id(api: Api, license_id: str) -> httpx.Response:
    return await api.client.delete(f"{api.base}/licenses/id/{license_id}", headers=api.team.headers)


async def delete_by_key(api: Api, key: str) -> httpx.Response:
    return await api.client.delete(f"{api.base}/licenses/{key}", headers=api.team.headers)


async def set_columns(runtime: Runtime, license_id: str, **values: Any) -> None:
    # Setup only: no API can move a license's clock (backdate activity or an expiry date).
    async with runtime.database.write() as session:
        await session.execute(
            update(License).where(License.id == uuid.UUID(license_id)).values(**values)
        )


async def stored(runtime: Runtime, license_id: str) -> License | None:
    async with runtime.database.read() as session:
        row: License | None = await session.scalar(
            select(License).where(License.id == uuid.UUID(license_id))
        )
        return row


async def audit_rows(runtime: Runtime, action: str) -> list[AuditLog]:
    async with runtime.database.read() as session:
        return list(
            await session.scalars(
                select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.created_at)
            )
        )


async def create_restricted_release(api: Api, product_id: str, license_ids: list[str]) -> str:
    body = {
        "version": f"1.0.{uuid.uuid4().int % 10000}",
        "productId": product_id,
        "status": "PUBLISHED",
        "licenseIds": license_ids,
    }
    response = await api.create_release(body)
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


async def allow_list(runtime: Runtime, release_id: str) -> set[str]:
    async with runtime.database.read() as session:
        rows = await session.scalars(
            select(ReleaseLicense.license_id).where(
                ReleaseLicense.release_id == uuid.UUID(release_id)
            )
        )
        return {str(row) for row in rows}


# --- GET /licenses ----------------------------------------------------------------------------


async def test_list_returns_license_objects_newest_first(api: Api) -> None:
    first = await create(api)
    second = await create(api, hwidLimit=2)
    response = await list_licenses(api)
    data = assert_ok(response, "Licenses found")
    assert data == {
        "licenses": [await fetch(api, second["id"]), await fetch(api, first["id"])],
        "hasNextPage": False,
        "totalResults": 2,
    }


async def test_list_of_empty_team_is_empty(api: Api) -> None:
    data = assert_ok(await list_licenses(api), "Licenses found")
    assert data == {"licenses": [], "hasNextPage": False, "totalResults": 0}


async def test_list_pages_report_next_page_and_total(api: Api) -> None:
    created = [(await create(api))["id"] for _ in range(11)]
    first = assert_ok(await list_licenses(api, "?pageSize=10&sortDirection=asc"), "Licenses found")
    second = assert_ok(
        await list_licenses(api, "?pageSize=10&sortDirection=asc&page=2"), "Licenses found"
    )
    assert [item["id"] for item in first["licenses"]] == created[:10]
    assert (first["hasNextPage"], first["totalResults"]) == (True, 11)
    assert [item["id"] for item in second["licenses"]] == created[10:]
    assert (second["hasNextPage"], second["totalResults"]) == (False, 11)


async def test_list_page_beyond_the_end_is_empty(api: Api) -> None:
    await create(api)
    data = assert_ok(await list_licenses(api, "?page=3"), "Licenses found")
    assert data == {"licenses": [], "hasNextPage": False, "totalResults": 1}


async def test_list_sorts_by_updated_at(api: Api, runtime: Runtime) -> None:
    older = await create(api)
    newer = await create(api)
    await set_columns(runtime, newer["id"], updated_at=utcnow() - timedelta(days=1))
    assert await listed_ids(api, "?sortColumn=updatedAt") == [older["id"], newer["id"]]
    assert await listed_ids(api, "?sortColumn=updatedAt&sortDirection=asc") == [
        newer["id"],
        older["id"],
    ]


async def test_list_search_with_complete_key_finds_that_license(api: Api) -> None:
    wanted = await create(api)
    await create(api)
    assert await listed_ids(api, f"?search={wanted['licenseKey']}") == [wanted["id"]]


@pytest.mark.parametrize("search", ["ABCDE", "abcde-12345-fghij-67890-klmno", ""])
async def test_list_search_that_is_not_a_complete_key_is_ignored(api: Api, search: str) -> None:
    first = await create(api, licenseKey="ABCDE-12345-FGHIJ-67890-KLMNO")
    second = await create(api)
    assert await listed_ids(api, f"?search={search}") == [second["id"], first["id"]]


async def test_list_filters_by_product_ids_and_drops_invalid_entries(api: Api) -> None:
    one, two, three = [await api.create_product(name) for name in ("One", "Two", "Three")]
    first = await create(api, productIds=[one])
    await create(api, productIds=[two])
    third = await create(api, productIds=[three])
    query = f"?productIds={one},junk,{three}"
    assert await listed_ids(api, query) == [third["id"], first["id"]]


async def test_list_with_only_invalid_product_ids_is_unfiltered(api: Api) -> None:
    product_id = await api.create_product()
    linked = await create(api, productIds=[product_id])
    unlinked = await create(api)
    assert await listed_ids(api, "?productIds=junk,,x") == [unlinked["id"], linked["id"]]


async def test_list_filters_by_customer_ids(api: Api, runtime: Runtime) -> None:
    team_id = uuid.UUID(api.team.team_id)
    customer = str(await create_customer(runtime, team_id, "a@example.com", None, None))
    other = str(await create_customer(runtime, team_id, "b@example.com", None, None))
    wanted = await create(api, customerIds=[customer])
    await create(api, customerIds=[other])
    await create(api)
    assert await listed_ids(api, f"?customerIds={customer}") == [wanted["id"]]


async def test_list_product_filter_is_first_occurrence_and_combines_with_customer_filter(
    api: Api, runtime: Runtime
) -> None:
    product_id = await api.create_product()
    customer = str(
        await create_customer(runtime, uuid.UUID(api.team.team_id), "a@example.com", None, None)
    )
    both = await create(api, productIds=[product_id], customerIds=[customer])
    await create(api, productIds=[product_id])
    query = f"?productIds={product_id}&productIds={uuid.uuid4()}&customerIds={customer}"
    assert await listed_ids(api, query) == [both["id"]]


async def test_list_metadata_filter_matches_exact_key_and_case_insensitive_substring(
    api: Api,
) -> None:
    wanted = await create(api, metadata=[{"key": "tier", "value": "Premium-Gold"}])
    await create(api, metadata=[{"key": "Tier", "value": "Premium-Gold"}])
    await create(api, metadata=[{"key": "tier", "value": "Basic"}])
    assert await listed_ids(api, "?metadataKey=tier&metadataValue=UM-gO") == [wanted["id"]]


async def test_list_metadata_value_wildcards_are_literal(api: Api) -> None:
    wanted = await create(api, metadata=[{"key": "deal", "value": "50%_off"}])
    await create(api, metadata=[{"key": "deal", "value": "500xoff"}])
    assert await listed_ids(api, "?metadataKey=deal&metadataValue=0%25_o") == [wanted["id"]]


async def test_list_metadata_value_folds_ascii_letters_only(api: Api) -> None:
    await create(api, metadata=[{"key": "name", "value": "ÄRGER"}])
    assert await listed_ids(api, "?metadataKey=name&metadataValue=ärger") == []


@pytest.mark.parametrize(
    "query",
    ["?metadataValue=gold", "?metadataKey=tier", "?metadataKey=tier&metadataValue="],
)
async def test_list_metadata_filter_needs_both_key_and_value(api: Api, query: str) -> None:
    tagged = await create(api, metadata=[{"key": "tier", "value": "gold"}])
    untagged = await create(api)
    assert await listed_ids(api, query) == [untagged["id"], tagged["id"]]


async def test_list_metadata_value_over_255_characters_is_ignored(api: Api) -> None:
    tagged = await create(api, metadata=[{"key": "tier", "value": "gold"}])
    untagged = await create(api)
    query = f"?metadataKey=tier&metadataValue={'g' * 256}"
    assert await listed_ids(api, query) == [untagged["id"], tagged["id"]]


async def licenses_in_every_status(api: Api, runtime: Runtime) -> dict[str, set[str]]:
    """One or two licenses per status; the date-based ones through each §11.2 branch."""
    now = utcnow()
    old = now - timedelta(days=31)
    active = await create(api)
    inactive = await create(api)
    await set_columns(runtime, inactive["id"], last_active_at=old)
    far = await create(api, expirationType="DATE", expirationDate=iso(now + timedelta(days=60)))
    far_inactive = await create(
        api, expirationType="DATE", expirationDate=iso(now + timedelta(days=60))
    )
    await set_columns(runtime, far_inactive["id"], last_active_at=old)
    expiring = await create(api, expirationType="DATE", expirationDate=iso(now + timedelta(days=3)))
    await set_columns(runtime, expiring["id"], last_active_at=old)
    expired = await create(
        api, expirationType="DURATION", expirationStart="CREATION", expirationDays=5
    )
    await set_columns(runtime, expired["id"], expiration_date=now - timedelta(minutes=1))
    upcoming = await create(
        api, expirationType="DURATION", expirationStart="ACTIVATION", expirationDays=5
    )
    suspended = await create(
        api, suspended=True, expirationType="DATE", expirationDate=iso(now + timedelta(days=1))
    )
    return {
        "ACTIVE": {active["id"], far["id"]},
        "INACTIVE": {inactive["id"], far_inactive["id"]},
        "EXPIRING": {expiring["id"]},
        "EXPIRED": {expired["id"]},
        "UPCOMING": {upcoming["id"]},
        "SUSPENDED": {suspended["id"]},
    }


@pytest.mark.parametrize(
    "status", ["ACTIVE", "INACTIVE", "EXPIRING", "EXPIRED", "UPCOMING", "SUSPENDED"]
)
async def test_list_status_filter_matches_the_computed_status(
    api: Api, runtime: Runtime, status: str
) -> None:
    expected = (await licenses_in_every_status(api, runtime))[status]
    data = assert_ok(await list_licenses(api, f"?status={status}"), "Licenses found")
    assert {item["id"] for item in data["licenses"]} == expected
    assert {item["status"] for item in data["licenses"]} == {status}
    assert data["totalResults"] == len(expected)


async def test_list_unknown_status_is_ignored(api: Api) -> None:
    first = await create(api)
    second = await create(api, suspended=True)
    assert await listed_ids(api, "?status=active") == [second["id"], first["id"]]


async def test_list_shows_only_the_path_teams_licenses(
    api: Api, other_team: TeamCredentials
) -> None:
    own = await create(api)
    await Api(api.client, other_team).create_license()
    assert await listed_ids(api, "") == [own["id"]]


async def test_list_with_another_teams_key_finds_nothing(
    api: Api, other_team: TeamCredentials
) -> None:
    await create(api)
    foreign = await Api(api.client, other_team).create_license()
    assert await listed_ids(api, f"?search={foreign['licenseKey']}") == []


async def test_list_with_another_teams_product_finds_nothing(
    api: Api, other_team: TeamCredentials
) -> None:
    other = Api(api.client, other_team)
    foreign_product = await other.create_product()
    await other.create_license([foreign_product])
    await create(api)
    assert await listed_ids(api, f"?productIds={foreign_product}") == []


async def test_list_with_another_teams_api_key_is_401(
    api: Api, other_team: TeamCredentials
) -> None:
    response = await api.client.get(f"{api.base}/licenses", headers=other_team.headers)
    assert_error(response, 401, "Invalid API key")


async def test_list_with_invalid_team_id_is_400(api: Api) -> None:
    response = await api.client.get("/api/v1/dev/teams/nope/licenses", headers=api.team.headers)
    assert_error(response, 400, "Invalid teamId")


# --- PUT /licenses/id/{licenseId} -------------------------------------------------------------


async def test_update_replaces_every_field(api: Api, runtime: Runtime) -> None:
    product_id = await api.create_product()
    customer = str(
        await create_customer(runtime, uuid.UUID(api.team.team_id), "a@example.com", "A", "a")
    )
    created = await create(api, productIds=[await api.create_product("Old")])
    body = put_body(
        created["licenseKey"],
        suspended=True,
        productIds=[product_id],
        customerIds=[customer],
        hwidLimit=4,
        ipLimit=7,
        metadata=[{"key": "tier", "value": "gold"}],
    )
    data = assert_ok(await put(api, created["id"], body), "License updated")
    assert data == await fetch(api, created["id"])
    assert (data["suspended"], data["status"]) == (True, "SUSPENDED")
    assert (data["hwidLimit"], data["seats"], data["ipLimit"]) == (4, 4, 7)
    assert [p["id"] for p in data["products"]] == [product_id]
    assert [c["id"] for c in data["customers"]] == [customer]
    assert [(m["key"], m["value"]) for m in data["metadata"]] == [("tier", "gold")]
    assert data["createdAt"] == created["createdAt"]
    assert data["updatedAt"] >= created["updatedAt"]
    async with runtime.database.read() as session:
        products = list(await session.scalars(select(LicenseProduct.product_id)))
        customers = list(await session.scalars(select(LicenseCustomer.customer_id)))
        metadata = list(await session.scalars(select(Metadata.value)))
    assert (products, customers, metadata) == (
        [uuid.UUID(product_id)],
        [uuid.UUID(customer)],
        ["gold"],
    )


async def test_update_with_unchanged_expiry_keeps_the_stored_date(
    api: Api, runtime: Runtime
) -> None:
    terms = {"expirationType": "DURATION", "expirationStart": "CREATION", "expirationDays": 10}
    created = await create(api, **terms)
    running = utcnow() + timedelta(days=2)
    await set_columns(runtime, created["id"], expiration_date=running)
    data = assert_ok(
        await put(api, created["id"], put_body(created["licenseKey"], **terms)), "License updated"
    )
    assert data["expirationDate"] == iso(running)


async def test_update_with_changed_days_restarts_the_duration(api: Api, runtime: Runtime) -> None:
    created = await create(
        api, expirationType="DURATION", expirationStart="CREATION", expirationDays=10
    )
    before = utcnow()
    body = put_body(
        created["licenseKey"],
        expirationType="DURATION",
        expirationStart="CREATION",
        expirationDays=20,
    )
    data = assert_ok(await put(api, created["id"], body), "License updated")
    row = await stored(runtime, created["id"])
    assert row is not None and row.expiration_date is not None
    assert before + timedelta(days=20) <= row.expiration_date <= utcnow() + timedelta(days=20)
    assert (data["expirationDays"], data["expirationDate"]) == (20, iso(row.expiration_date))


async def test_update_to_activation_start_clears_the_date(api: Api) -> None:
    created = await create(
        api, expirationType="DURATION", expirationStart="CREATION", expirationDays=10
    )
    body = put_body(
        created["licenseKey"],
        expirationType="DURATION",
        expirationStart="ACTIVATION",
        expirationDays=10,
    )
    data = assert_ok(await put(api, created["id"], body), "License updated")
    assert (data["expirationDate"], data["status"]) == (None, "UPCOMING")


async def test_update_to_never_clears_the_expiry(api: Api) -> None:
    created = await create(
        api, expirationType="DATE", expirationDate=iso(utcnow() + timedelta(days=3))
    )
    data = assert_ok(
        await put(api, created["id"], put_body(created["licenseKey"])), "License updated"
    )
    assert (data["expirationType"], data["expirationDate"], data["status"]) == (
        "NEVER",
        None,
        "ACTIVE",
    )


async def test_update_with_new_key_rederives_lookup_and_ciphertext(
    api: Api, runtime: Runtime
) -> None:
    created = await create(api)
    before = await stored(runtime, created["id"])
    data = assert_ok(await put(api, created["id"], put_body(OTHER_KEY)), "License updated")
    assert data["licenseKey"] == OTHER_KEY
    after = await stored(runtime, created["id"])
    assert before is not None and after is not None
    assert after.key_lookup == runtime.keyring.license_lookup(OTHER_KEY, api.team.team_id)
    assert after.key_ciphertext != before.key_ciphertext
    assert after.key_hint == hint(OTHER_KEY)
    by_new = await api.client.get(f"{api.base}/licenses/{OTHER_KEY}", headers=api.team.headers)
    assert assert_ok(by_new, "License found")["id"] == created["id"]
    by_old = await api.client.get(
        f"{api.base}/licenses/{created['licenseKey']}", headers=api.team.headers
    )
    assert_error(by_old, 404, "License not found")


async def test_update_keeping_its_own_key_keeps_the_ciphertext(api: Api, runtime: Runtime) -> None:
    created = await create(api)
    before = await stored(runtime, created["id"])
    data = assert_ok(
        await put(api, created["id"], put_body(created["licenseKey"], ipLimit=3)),
        "License updated",
    )
    after = await stored(runtime, created["id"])
    assert before is not None and after is not None
    assert (data["licenseKey"], data["ipLimit"]) == (created["licenseKey"], 3)
    assert after.key_ciphertext == before.key_ciphertext


async def test_update_with_key_of_another_license_is_400_and_changes_nothing(
    api: Api, runtime: Runtime
) -> None:
    taken = await create(api, licenseKey=OTHER_KEY)
    created = await create(api)
    response = await put(api, created["id"], put_body(OTHER_KEY, ipLimit=3))
    assert_error(response, 400, "License key already exists")
    assert await fetch(api, created["id"]) == created
    assert (await fetch(api, taken["id"]))["licenseKey"] == OTHER_KEY
    assert await audit_rows(runtime, "UPDATE_LICENSE") == []


async def test_update_with_key_used_in_another_team_is_allowed(
    api: Api, other_team: TeamCredentials
) -> None:
    await Api(api.client, other_team).post_json("/licenses", license_body(licenseKey=OTHER_KEY))
    created = await create(api)
    data = assert_ok(await put(api, created["id"], put_body(OTHER_KEY)), "License updated")
    assert data["licenseKey"] == OTHER_KEY


async def test_update_writes_audit_row_with_key_hints(api: Api, runtime: Runtime) -> None:
    created = await create(api)
    body = put_body(OTHER_KEY, hwidLimit=2)
    response = await put(api, created["id"], body)
    (row,) = await audit_rows(runtime, "UPDATE_LICENSE")
    assert (row.target_type, str(row.target_id), row.source) == (
        "LICENSE",
        created["id"],
        "API_KEY",
    )
    assert json.loads(row.request_body or "") == {**body, "licenseKey": hint(OTHER_KEY)}
    expected = response.json()
    expected["data"]["licenseKey"] = hint(OTHER_KEY)
    assert json.loads(row.response_body or "") == expected
    assert OTHER_KEY not in (row.request_body or "") + (row.response_body or "")


async def test_update_of_unknown_license_is_404(api: Api) -> None:
    response = await put(api, str(uuid.uuid4()), put_body(OTHER_KEY))
    assert_error(response, 404, "License not found")


async def test_update_of_another_teams_license_is_404_and_changes_nothing(
    api: Api, other_team: TeamCredentials
) -> None:
    other = Api(api.client, other_team)
    foreign = await other.create_license()
    response = await put(api, foreign["id"], put_body(OTHER_KEY))
    assert_error(response, 404, "License not found")
    assert (await fetch(other, foreign["id"]))["licenseKey"] == foreign["licenseKey"]


async def test_update_with_another_teams_product_is_invalid_product_ids(
    api: Api, other_team: TeamCredentials
) -> None:
    foreign = await Api(api.client, other_team).create_product()
    created = await create(api)
    response = await put(api, created["id"], put_body(created["licenseKey"], productIds=[foreign]))
    assert_error(response, 400, "Invalid productIds")


async def test_update_with_duplicate_product_ids_is_invalid_product_ids(api: Api) -> None:
    product_id = await api.create_product()
    created = await create(api)
    body = put_body(created["licenseKey"], productIds=[product_id, product_id])
    assert_error(await put(api, created["id"], body), 400, "Invalid productIds")


async def test_update_with_another_teams_customer_is_invalid_customer_ids(
    api: Api, runtime: Runtime, other_team: TeamCredentials
) -> None:
    foreign = str(
        await create_customer(runtime, uuid.UUID(other_team.team_id), "x@example.com", None, None)
    )
    created = await create(api)
    response = await put(api, created["id"], put_body(created["licenseKey"], customerIds=[foreign]))
    assert_error(response, 400, "Invalid customerIds")


async def test_update_checks_product_ids_before_customer_ids(api: Api) -> None:
    created = await create(api)
    body = put_body(
        created["licenseKey"], productIds=[str(uuid.uuid4())], customerIds=[str(uuid.uuid4())]
    )
    assert_error(await put(api, created["id"], body), 400, "Invalid productIds")


async def test_update_requires_the_license_key(api: Api) -> None:
    created = await create(api)
    response = await put(api, created["id"], license_body())
    assert_error(
        response, 400, "Invalid request body", [{"message": "Required", "path": ["licenseKey"]}]
    )


async def test_update_does_not_accept_send_email_delivery(api: Api) -> None:
    created = await create(api)
    response = await put(
        api, created["id"], put_body(created["licenseKey"], sendEmailDelivery=False)
    )
    assert_error(
        response,
        400,
        "Invalid request body",
        [{"message": "Unrecognized key(s) in object: 'sendEmailDelivery'", "path": []}],
    )


async def test_update_with_unparseable_body_is_invalid_json(api: Api) -> None:
    created = await create(api)
    response = await api.client.put(
        f"{api.base}/licenses/id/{created['id']}", content=b"{", headers=api.team.headers
    )
    assert_error(response, 400, "Invalid JSON body")


async def test_update_with_invalid_license_id_is_400(api: Api) -> None:
    assert_error(await put(api, "nope", put_body(OTHER_KEY)), 400, "Invalid licenseId")


async def test_update_with_another_teams_api_key_is_401(
    api: Api, other_team: TeamCredentials
) -> None:
    created = await create(api)
    response = await api.client.put(
        f"{api.base}/licenses/id/{created['id']}",
        content=json.dumps(put_body(OTHER_KEY)),
        headers=other_team.headers,
    )
    assert_error(response, 401, "Invalid API key")


# --- DELETE /licenses/{licenseKey} and /licenses/id/{licenseId} ------------------------------


async def test_delete_by_key_returns_the_license_and_removes_it(api: Api, runtime: Runtime) -> None:
    product_id = await api.create_product()
    created = await create(api, productIds=[product_id], metadata=[{"key": "k", "value": "v"}])
    before = await fetch(api, created["id"])
    data = assert_ok(
        await delete_by_key(api, created["licenseKey"]), "License deleted successfully"
    )
    assert data == before
    assert await stored(runtime, created["id"]) is None
    async with runtime.database.read() as session:
        assert list(await session.scalars(select(LicenseProduct))) == []
        assert list(await session.scalars(select(Metadata))) == []


async def test_delete_by_id_returns_the_license_and_removes_it(api: Api, runtime: Runtime) -> None:
    created = await create(api)
    before = await fetch(api, created["id"])
    data = assert_ok(await delete_by_id(api, created["id"]), "License deleted successfully")
    assert data == before
    assert await stored(runtime, created["id"]) is None


async def test_delete_writes_audit_row_with_key_hint(api: Api, runtime: Runtime) -> None:
    created = await create(api)
    response = await delete_by_id(api, created["id"])
    (row,) = await audit_rows(runtime, "DELETE_LICENSE")
    assert (row.target_type, str(row.target_id), row.request_body) == (
        "LICENSE",
        created["id"],
        None,
    )
    expected = response.json()
    expected["data"]["licenseKey"] = hint(created["licenseKey"])
    assert json.loads(row.response_body or "") == expected


async def test_delete_only_allowed_license_of_a_release_is_409_and_keeps_everything(
    api: Api, runtime: Runtime
) -> None:
    product_id = await api.create_product()
    created = await create(api, productIds=[product_id])
    release_id = await create_restricted_release(api, product_id, [created["id"]])
    assert_error(await delete_by_id(api, created["id"]), 409, LAST_ALLOWED)
    assert await stored(runtime, created["id"]) is not None
    assert await allow_list(runtime, release_id) == {created["id"]}
    assert await audit_rows(runtime, "DELETE_LICENSE") == []


async def test_delete_by_key_of_only_allowed_license_is_409(api: Api, runtime: Runtime) -> None:
    product_id = await api.create_product()
    created = await create(api, productIds=[product_id])
    await create_restricted_release(api, product_id, [created["id"]])
    assert_error(await delete_by_key(api, created["licenseKey"]), 409, LAST_ALLOWED)
    assert await stored(runtime, created["id"]) is not None


async def test_delete_one_of_two_allowed_licenses_removes_only_its_link(
    api: Api, runtime: Runtime
) -> None:
    product_id = await api.create_product()
    doomed = await create(api, productIds=[product_id])
    kept = await create(api, productIds=[product_id])
    release_id = await create_restricted_release(api, product_id, [doomed["id"], kept["id"]])
    assert_ok(await delete_by_id(api, doomed["id"]), "License deleted successfully")
    assert await allow_list(runtime, release_id) == {kept["id"]}
    assert await stored(runtime, kept["id"]) is not None


async def test_concurrent_deletes_of_a_releases_two_allowed_licenses_delete_one(
    api: Api, runtime: Runtime
) -> None:
    product_id = await api.create_product()
    first = await create(api, productIds=[product_id])
    second = await create(api, productIds=[product_id])
    release_id = await create_restricted_release(api, product_id, [first["id"], second["id"]])
    responses = await asyncio.gather(
        delete_by_id(api, first["id"]), delete_by_id(api, second["id"])
    )
    assert sorted(response.status_code for response in responses) == [200, 409]
    (refused,) = (response for response in responses if response.status_code == 409)
    assert_error(refused, 409, LAST_ALLOWED)
    remaining = await allow_list(runtime, release_id)
    assert len(remaining) == 1
    assert len(await audit_rows(runtime, "DELETE_LICENSE")) == 1


async def test_delete_of_unknown_key_is_404(api: Api) -> None:
    assert_error(await delete_by_key(api, OTHER_KEY), 404, "License not found")


async def test_delete_of_unknown_id_is_404(api: Api) -> None:
    assert_error(await delete_by_id(api, str(uuid.uuid4())), 404, "License not found")


async def test_delete_with_malformed_key_is_400(api: Api) -> None:
    assert_error(await delete_by_key(api, "abcde-12345"), 400, "Invalid licenseKey")


async def test_delete_with_invalid_license_id_is_400(api: Api) -> None:
    assert_error(await delete_by_id(api, "nope"), 400, "Invalid licenseId")


async def test_delete_of_another_teams_key_is_404_and_keeps_it(
    api: Api, runtime: Runtime, other_team: TeamCredentials
) -> None:
    foreign = await Api(api.client, other_team).create_license()
    assert_error(await delete_by_key(api, foreign["licenseKey"]), 404, "License not found")
    assert await stored(runtime, foreign["id"]) is not None


async def test_delete_of_another_teams_id_is_404_and_keeps_it(
    api: Api, runtime: Runtime, other_team: TeamCredentials
) -> None:
    foreign = await Api(api.client, other_team).create_license()
    assert_error(await delete_by_id(api, foreign["id"]), 404, "License not found")
    assert await stored(runtime, foreign["id"]) is not None


async def test_delete_with_another_teams_api_key_is_401(
    api: Api, runtime: Runtime, other_team: TeamCredentials
) -> None:
    created = await create(api)
    by_id = await api.client.delete(
        f"{api.base}/licenses/id/{created['id']}", headers=other_team.headers
    )
    by_key = await api.client.delete(
        f"{api.base}/licenses/{created['licenseKey']}", headers=other_team.headers
    )
    assert_error(by_id, 401, "Invalid API key")
    assert_error(by_key, 401, "Invalid API key")
    assert await stored(runtime, created["id"]) is not None


# --- POST /licenses/id/{licenseId}/suspend and /unsuspend -----------------------------------


async def test_suspend_suspends_and_writes_audit_row(api: Api, runtime: Runtime) -> None:
    created = await create(api)
    response = await post_action(api, created["id"], "suspend")
    data = assert_ok(response, "License suspended")
    assert data == await fetch(api, created["id"])
    assert (data["suspended"], data["status"]) == (True, "SUSPENDED")
    (row,) = await audit_rows(runtime, "SUSPEND_LICENSE")
    assert (row.target_type, str(row.target_id), row.request_body) == (
        "LICENSE",
        created["id"],
        None,
    )
    expected = response.json()
    expected["data"]["licenseKey"] = hint(created["licenseKey"])
    assert json.loads(row.response_body or "") == expected


async def test_suspend_of_suspended_license_changes_nothing_and_writes_no_audit_row(
    api: Api, runtime: Runtime
) -> None:
    created = await create(api, suspended=True)
    data = assert_ok(await post_action(api, created["id"], "suspend"), "License suspended")
    assert data == created
    assert await audit_rows(runtime, "SUSPEND_LICENSE") == []


async def test_concurrent_suspends_write_one_audit_row(api: Api, runtime: Runtime) -> None:
    created = await create(api)
    responses = await asyncio.gather(
        *(post_action(api, created["id"], "suspend") for _ in range(10))
    )
    assert {response.status_code for response in responses} == {200}
    assert len(await audit_rows(runtime, "SUSPEND_LICENSE")) == 1


async def test_unsuspend_unsuspends_and_writes_audit_row(api: Api, runtime: Runtime) -> None:
    created = await create(api, suspended=True)
    data = assert_ok(await post_action(api, created["id"], "unsuspend"), "License unsuspended")
    assert (data["suspended"], data["status"]) == (False, "ACTIVE")
    row = await stored(runtime, created["id"])
    assert row is not None and row.suspended is False
    (audit,) = await audit_rows(runtime, "UNSUSPEND_LICENSE")
    assert str(audit.target_id) == created["id"]


async def test_unsuspend_of_active_license_changes_nothing_and_writes_no_audit_row(
    api: Api, runtime: Runtime
) -> None:
    created = await create(api)
    data = assert_ok(await post_action(api, created["id"], "unsuspend"), "License unsuspended")
    assert data == created
    assert await audit_rows(runtime, "UNSUSPEND_LICENSE") == []


async def test_suspend_ignores_any_body(api: Api) -> None:
    created = await create(api)
    data = assert_ok(
        await post_action(api, created["id"], "suspend", b"{not json"), "License suspended"
    )
    assert data["suspended"] is True


@pytest.mark.parametrize("action", ["suspend", "unsuspend"])
async def test_suspension_of_unknown_license_is_404(api: Api, action: str) -> None:
    assert_error(await post_action(api, str(uuid.uuid4()), action), 404, "License not found")


@pytest.mark.parametrize("action", ["suspend", "unsuspend"])
async def test_suspension_of_another_teams_license_is_404_and_keeps_it(
    api: Api, other_team: TeamCredentials, action: str
) -> None:
    other = Api(api.client, other_team)
    foreign = await other.create_license()
    assert_error(await post_action(api, foreign["id"], action), 404, "License not found")
    assert (await fetch(other, foreign["id"]))["suspended"] is False


@pytest.mark.parametrize("action", ["suspend", "unsuspend"])
async def test_suspension_with_invalid_license_id_is_400(api: Api, action: str) -> None:
    assert_error(await post_action(api, "nope", action), 400, "Invalid licenseId")


@pytest.mark.parametrize("action", ["suspend", "unsuspend"])
async def test_suspension_with_another_teams_api_key_is_401(
    api: Api, other_team: TeamCredentials, action: str
) -> None:
    created = await create(api)
    response = await api.client.post(
        f"{api.base}/licenses/id/{created['id']}/{action}", headers=other_team.headers
    )
    assert_error(response, 401, "Invalid API key")
