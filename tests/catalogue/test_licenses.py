"""Licenses (Extension, §11): create and get."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from releasegate.kit.clock import iso, utcnow
from releasegate.licenses.models import License
from releasegate.runtime import Runtime
from tests.fixtures.api import Api, TeamCredentials

KEY = re.compile(r"^[A-Z0-9]{5}(-[A-Z0-9]{5}){4}$")


def details(response: Any) -> str:
    return str(response.json()["result"]["details"])


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


async def test_create_license_generates_key_and_returns_license(api: Api) -> None:
    product_id = await api.create_product()
    response = await api.post_json(
        "/licenses", license_body(productIds=[product_id], hwidLimit=3, ipLimit=2)
    )
    assert response.status_code == 200, response.text
    assert details(response) == "License created"
    data = response.json()["data"]
    assert KEY.match(data["licenseKey"])
    assert data["hwidLimit"] == 3 and data["seats"] == 3 and data["ipLimit"] == 2
    assert data["status"] == "ACTIVE"
    assert data["lastActiveAt"] == data["createdAt"]
    assert [p["id"] for p in data["products"]] == [product_id]
    assert data["customers"] == [] and data["metadata"] == []


async def test_license_key_is_not_stored_in_plaintext(api: Api, runtime: Runtime) -> None:
    created = (await api.post_json("/licenses", license_body())).json()["data"]
    async with runtime.database.read() as session:
        row = (await session.scalars(select(License))).one()
    assert created["licenseKey"] not in (row.key_ciphertext + row.key_lookup)
    assert row.key_ciphertext.startswith("v1:")


async def test_imported_key_and_duplicate_key(api: Api) -> None:
    key = "ABCDE-12345-FGHIJ-67890-KLMNO"
    first = await api.post_json("/licenses", license_body(licenseKey=key))
    assert first.json()["data"]["licenseKey"] == key
    second = await api.post_json("/licenses", license_body(licenseKey=key))
    assert second.status_code == 400
    assert details(second) == "License key already exists"


async def test_same_key_in_two_teams_is_two_licenses(api: Api, other_team: TeamCredentials) -> None:
    key = "ABCDE-12345-FGHIJ-67890-KLMNO"
    assert (await api.post_json("/licenses", license_body(licenseKey=key))).status_code == 200
    other = Api(api.client, other_team)
    assert (await other.post_json("/licenses", license_body(licenseKey=key))).status_code == 200


async def test_product_of_another_team_is_invalid(api: Api, other_team: TeamCredentials) -> None:
    foreign = await Api(api.client, other_team).create_product()
    response = await api.post_json("/licenses", license_body(productIds=[foreign]))
    assert response.status_code == 400
    assert details(response) == "Invalid productIds"


async def test_unknown_customer_is_invalid(api: Api) -> None:
    response = await api.post_json("/licenses", license_body(customerIds=[str(uuid.uuid4())]))
    assert details(response) == "Invalid customerIds"


async def test_email_delivery_is_refused(api: Api) -> None:
    response = await api.post_json("/licenses", license_body(sendEmailDelivery=True))
    assert response.status_code == 400
    assert details(response) == "Email delivery is not supported"


@pytest.mark.parametrize(
    ("changes", "issue"),
    [
        (
            {"expirationType": "DURATION"},
            {
                "message": "expirationStart and expirationDays are required when "
                "expirationType is DURATION",
                "path": ["expirationDays"],
            },
        ),
        (
            {"expirationType": "DATE", "expirationDate": "2001-01-01"},
            {
                "message": "expirationDate must be a future date when expirationType is DATE",
                "path": ["expirationDate"],
            },
        ),
        (
            {"expirationDays": 5},
            {
                "message": "expirationStart, expirationDate and expirationDays must be null "
                "when expirationType is NEVER",
                "path": [],
            },
        ),
    ],
)
async def test_cross_field_rules(api: Api, changes: dict[str, Any], issue: Any) -> None:
    response = await api.post_json("/licenses", license_body(**changes))
    assert response.status_code == 400
    assert response.json()["data"] == [issue]


async def test_duration_from_creation_stores_a_date(api: Api) -> None:
    response = await api.post_json(
        "/licenses",
        license_body(expirationType="DURATION", expirationStart="CREATION", expirationDays=100),
    )
    data = response.json()["data"]
    assert data["expirationDate"] is not None
    assert data["status"] == "ACTIVE"


async def test_duration_from_activation_is_upcoming(api: Api) -> None:
    response = await api.post_json(
        "/licenses",
        license_body(expirationType="DURATION", expirationStart="ACTIVATION", expirationDays=10),
    )
    data = response.json()["data"]
    assert data["expirationDate"] is None and data["status"] == "UPCOMING"


async def test_date_within_thirty_days_is_expiring(api: Api) -> None:
    soon = iso(utcnow() + timedelta(days=3))
    response = await api.post_json(
        "/licenses", license_body(expirationType="DATE", expirationDate=soon)
    )
    assert response.json()["data"]["status"] == "EXPIRING"


async def test_get_license_by_key_and_by_id(api: Api) -> None:
    created = await api.create_license()
    by_key = await api.client.get(
        f"{api.base}/licenses/{created['licenseKey']}", headers=api.team.headers
    )
    assert by_key.status_code == 200 and details(by_key) == "License found"
    assert by_key.json()["data"]["id"] == created["id"]
    by_id = await api.client.get(
        f"{api.base}/licenses/id/{created['id']}", headers=api.team.headers
    )
    assert by_id.json()["data"]["licenseKey"] == created["licenseKey"]


async def test_get_license_errors(api: Api, other_team: TeamCredentials) -> None:
    bad = await api.client.get(f"{api.base}/licenses/not-a-key", headers=api.team.headers)
    assert bad.status_code == 400 and details(bad) == "Invalid licenseKey"
    bad_id = await api.client.get(f"{api.base}/licenses/id/nope", headers=api.team.headers)
    assert bad_id.status_code == 400 and details(bad_id) == "Invalid licenseId"
    foreign = await Api(api.client, other_team).create_license()
    missing = await api.client.get(
        f"{api.base}/licenses/{foreign['licenseKey']}", headers=api.team.headers
    )
    assert missing.status_code == 404 and details(missing) == "License not found"
