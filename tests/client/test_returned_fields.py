"""The `data` object of a successful verify/heartbeat (client-api.md §3.4 "data")."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from releasegate.client.returned_fields import returned_data
from releasegate.customers.service import create_customer
from releasegate.licenses.models import License
from releasegate.metadata import repository as metadata_rows
from releasegate.metadata.schemas import MetadataItem
from releasegate.runtime import Runtime
from releasegate.teams.models import Team
from tests.fixtures.api import Api, TeamCredentials
from tests.fixtures.teams import set_settings


async def select_fields(runtime: Runtime, team: TeamCredentials, selection: dict[str, Any]) -> None:
    await set_settings(runtime, team.team_id, returned_fields=json.dumps(selection))


async def data_for(runtime: Runtime, license_id: str, branch: str | None = None) -> Any:
    async with runtime.database.read() as session:
        row = await session.get(License, uuid.UUID(license_id))
        assert row is not None
        team = await session.get(Team, row.team_id)
        assert team is not None
        return await returned_data(session, team, row, branch)


async def customer(
    runtime: Runtime,
    team: TeamCredentials,
    email: str | None = None,
    full_name: str | None = None,
    username: str | None = None,
    metadata: list[dict[str, str]] | None = None,
) -> str:
    team_id = uuid.UUID(team.team_id)
    customer_id = await create_customer(runtime, team_id, email, full_name, username)
    if metadata:
        async with runtime.database.write() as session:
            items = [MetadataItem(item["key"], item["value"]) for item in metadata]
            await metadata_rows.replace(session, team_id, "customer_id", customer_id, items)
    return str(customer_id)


async def product(api: Api, name: str, **fields: Any) -> str:
    response = await api.post_json("/products", {"name": name, **fields})
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


async def latest_release(
    api: Api, product_id: str, version: str, branch_id: str | None = None
) -> dict[str, Any]:
    response = await api.create_release(
        {
            "version": version,
            "productId": product_id,
            "status": "PUBLISHED",
            "setAsLatest": True,
            "branchId": branch_id,
        }
    )
    assert response.status_code in (200, 201), response.text
    release: dict[str, Any] = response.json()["data"]
    return release


async def license_with(api: Api, **changes: Any) -> str:
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
        **changes,
    }
    response = await api.post_json("/licenses", body)
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["id"])


@pytest.fixture
async def rich(api: Api, runtime: Runtime, team: TeamCredentials) -> dict[str, Any]:
    """A license with every selectable field set: one customer, one product, a default-branch
    latest release, and metadata on all three."""
    product_id = await product(
        api, "Plugin", url="https://example.com", metadata=[{"key": "channel", "value": "stable"}]
    )
    release = await latest_release(api, product_id, "1.0.0")
    customer_id = await customer(
        runtime,
        team,
        "a@example.com",
        "Ada Lovelace",
        "ada",
        [{"key": "plan", "value": "pro"}],
    )
    response = await api.post_json(
        "/licenses",
        {
            "expirationType": "DURATION",
            "expirationStart": "CREATION",
            "expirationDate": None,
            "expirationDays": 100,
            "suspended": False,
            "productIds": [product_id],
            "customerIds": [customer_id],
            "hwidLimit": 2,
            "ipLimit": 3,
            "metadata": [{"key": "tier", "value": "gold"}],
        },
    )
    assert response.status_code == 200, response.text
    license = response.json()["data"]
    return {"license": license, "release": release}


async def test_nothing_selected_gives_none(runtime: Runtime, rich: dict[str, Any]) -> None:
    assert await data_for(runtime, rich["license"]["id"]) is None


async def test_selection_with_nothing_present_gives_none(
    api: Api, runtime: Runtime, team: TeamCredentials
) -> None:
    license_id = await license_with(api, metadata=[{"key": "tier", "value": "gold"}])
    await select_fields(
        runtime,
        team,
        {
            "customerEmail": True,
            "productName": True,
            "licenseExpirationDate": True,
            "licenseMetadataKeys": ["other"],
        },
    )
    assert await data_for(runtime, license_id) is None


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("licenseIpLimit", {"license": {"ipLimit": 3}}),
        ("licenseSeats", {"license": {"hwidLimit": 2, "seats": 2}}),
        ("licenseExpirationType", {"license": {"expirationType": "DURATION"}}),
        ("licenseExpirationStart", {"license": {"expirationStart": "CREATION"}}),
        ("licenseExpirationDays", {"license": {"expirationDays": 100}}),
        ("customerEmail", {"customers": [{"email": "a@example.com"}]}),
        ("customerFullName", {"customers": [{"fullName": "Ada Lovelace"}]}),
        ("customerUsername", {"customers": [{"username": "ada"}]}),
        ("productName", {"products": [{"name": "Plugin"}]}),
        ("productUrl", {"products": [{"url": "https://example.com"}]}),
    ],
)
async def test_each_flag_switches_on_exactly_its_field(
    runtime: Runtime,
    team: TeamCredentials,
    rich: dict[str, Any],
    entry: str,
    expected: dict[str, Any],
) -> None:
    await select_fields(runtime, team, {entry: True})
    assert await data_for(runtime, rich["license"]["id"]) == expected


async def test_expiration_date_is_the_stored_date(
    runtime: Runtime, team: TeamCredentials, rich: dict[str, Any]
) -> None:
    await select_fields(runtime, team, {"licenseExpirationDate": True})
    data = await data_for(runtime, rich["license"]["id"])
    assert data == {"license": {"expirationDate": rich["license"]["expirationDate"]}}


async def test_latest_release_switches_on_version_and_created_at(
    runtime: Runtime, team: TeamCredentials, rich: dict[str, Any]
) -> None:
    await select_fields(runtime, team, {"productLatestRelease": True})
    release = rich["release"]
    assert await data_for(runtime, rich["license"]["id"]) == {
        "products": [
            {"latestRelease": {"version": release["version"], "createdAt": release["createdAt"]}}
        ]
    }


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("licenseMetadataKeys", {"license": {"metadata": [{"key": "tier", "value": "gold"}]}}),
        ("customerMetadataKeys", {"customers": [{"metadata": [{"key": "plan", "value": "pro"}]}]}),
        (
            "productMetadataKeys",
            {"products": [{"metadata": [{"key": "channel", "value": "stable"}]}]},
        ),
    ],
)
async def test_each_metadata_list_switches_on_its_metadata(
    runtime: Runtime,
    team: TeamCredentials,
    rich: dict[str, Any],
    entry: str,
    expected: dict[str, Any],
) -> None:
    await select_fields(runtime, team, {entry: ["tier", "plan", "channel"]})
    assert await data_for(runtime, rich["license"]["id"]) == expected


async def test_unset_limits_are_returned_as_null(
    api: Api, runtime: Runtime, team: TeamCredentials
) -> None:
    license_id = await license_with(api)
    await select_fields(runtime, team, {"licenseIpLimit": True, "licenseSeats": True})
    assert await data_for(runtime, license_id) == {
        "license": {"ipLimit": None, "hwidLimit": None, "seats": None}
    }


async def test_unset_expiration_date_and_days_are_omitted(
    api: Api, runtime: Runtime, team: TeamCredentials
) -> None:
    license_id = await license_with(api)
    await select_fields(
        runtime,
        team,
        {
            "licenseExpirationType": True,
            "licenseExpirationDate": True,
            "licenseExpirationDays": True,
        },
    )
    assert await data_for(runtime, license_id) == {"license": {"expirationType": "NEVER"}}


async def test_license_metadata_keeps_only_selected_keys_in_stored_order(
    api: Api, runtime: Runtime, team: TeamCredentials
) -> None:
    license_id = await license_with(
        api,
        metadata=[
            {"key": "region", "value": "eu"},
            {"key": "secret", "value": "x"},
            {"key": "tier", "value": "gold"},
            {"key": "Tier", "value": "other case"},
            {"key": "region", "value": "us"},
        ],
    )
    await select_fields(runtime, team, {"licenseMetadataKeys": ["tier", "region"]})
    assert await data_for(runtime, license_id) == {
        "license": {
            "metadata": [
                {"key": "region", "value": "eu"},
                {"key": "tier", "value": "gold"},
                {"key": "region", "value": "us"},
            ]
        }
    }


async def test_customer_metadata_is_restricted_to_selected_keys(
    api: Api, runtime: Runtime, team: TeamCredentials
) -> None:
    customer_id = await customer(
        runtime,
        team,
        metadata=[{"key": "plan", "value": "pro"}, {"key": "notes", "value": "private"}],
    )
    license_id = await license_with(api, customerIds=[customer_id])
    await select_fields(runtime, team, {"customerMetadataKeys": ["plan"]})
    assert await data_for(runtime, license_id) == {
        "customers": [{"metadata": [{"key": "plan", "value": "pro"}]}]
    }


async def test_empty_customer_fields_are_omitted_and_empty_customers_dropped(
    api: Api, runtime: Runtime, team: TeamCredentials
) -> None:
    named = await customer(runtime, team, email="", full_name="Bob", username=None)
    blank = await customer(runtime, team, email="", full_name="", username="")
    license_id = await license_with(api, customerIds=[blank, named])
    await select_fields(
        runtime, team, {"customerEmail": True, "customerFullName": True, "customerUsername": True}
    )
    assert await data_for(runtime, license_id) == {"customers": [{"fullName": "Bob"}]}


async def test_customers_and_products_come_in_creation_order(
    api: Api, runtime: Runtime, team: TeamCredentials
) -> None:
    first_customer = await customer(runtime, team, username="first")
    second_customer = await customer(runtime, team, username="second")
    first_product = await product(api, "First")
    second_product = await product(api, "Second")
    license_id = await license_with(
        api,
        customerIds=[second_customer, first_customer],
        productIds=[second_product, first_product],
    )
    await select_fields(runtime, team, {"customerUsername": True, "productName": True})
    assert await data_for(runtime, license_id) == {
        "customers": [{"username": "first"}, {"username": "second"}],
        "products": [{"name": "First"}, {"name": "Second"}],
    }


async def test_product_without_url_is_dropped_when_only_url_is_selected(
    api: Api, runtime: Runtime, team: TeamCredentials
) -> None:
    with_url = await product(api, "Linked", url="https://example.com/a")
    without_url = await product(api, "Bare")
    license_id = await license_with(api, productIds=[with_url, without_url])
    await select_fields(runtime, team, {"productUrl": True})
    assert await data_for(runtime, license_id) == {"products": [{"url": "https://example.com/a"}]}


@pytest.fixture
async def branched(api: Api, runtime: Runtime, team: TeamCredentials) -> dict[str, Any]:
    """Two products, each with a `beta` branch; only the first has a default-branch latest."""
    first = await product(api, "First")
    second = await product(api, "Second")
    first_beta = await api.create_branch(first, "beta")
    second_beta = await api.create_branch(second, "beta")
    releases = {
        "first-default": await latest_release(api, first, "1.0.0"),
        "first-beta": await latest_release(api, first, "2.0.0-beta", first_beta),
        "second-beta": await latest_release(api, second, "3.0.0-beta", second_beta),
    }
    license_id = await license_with(api, productIds=[first, second])
    await select_fields(runtime, team, {"productName": True, "productLatestRelease": True})
    return {"license_id": license_id, "releases": releases}


def latest(release: dict[str, Any]) -> dict[str, str]:
    return {"version": release["version"], "createdAt": release["createdAt"]}


async def test_latest_release_without_branch_uses_the_default_branch(
    runtime: Runtime, branched: dict[str, Any]
) -> None:
    releases = branched["releases"]
    assert await data_for(runtime, branched["license_id"]) == {
        "products": [
            {"name": "First", "latestRelease": latest(releases["first-default"])},
            {"name": "Second"},
        ]
    }


async def test_latest_release_resolves_the_branch_name_per_product(
    runtime: Runtime, branched: dict[str, Any]
) -> None:
    releases = branched["releases"]
    assert await data_for(runtime, branched["license_id"], "beta") == {
        "products": [
            {"name": "First", "latestRelease": latest(releases["first-beta"])},
            {"name": "Second", "latestRelease": latest(releases["second-beta"])},
        ]
    }


async def test_latest_release_is_omitted_for_an_unknown_branch(
    runtime: Runtime, branched: dict[str, Any]
) -> None:
    assert await data_for(runtime, branched["license_id"], "Beta") == {
        "products": [{"name": "First"}, {"name": "Second"}]
    }
