"""POST …/verification/heartbeat (client-api.md §3): the verify checks with the hardware
identifier required and its own schema order and success message."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from releasegate.kit.clock import utcnow
from releasegate.runtime import Runtime
from tests.fixtures.api import Api, TeamCredentials
from tests.fixtures.client_api import (
    CHALLENGE,
    DEFAULT_PEER,
    HWID,
    OTHER_HWID,
    UNKNOWN_KEY,
    ClientApi,
    PeerFactory,
    assert_client_error,
    assert_valid,
    create_license,
    create_release,
    get_license,
    get_release,
    hwids,
    ip_addresses,
    parse_time,
    set_team_settings,
    verify_challenge,
)

SUCCESS = "License heartbeat successful"
FORMAT = "License key must be in the format of XXXXX-XXXXX-XXXXX-XXXXX-XXXXX"
HWID_MISSING = "Hardware identifier must be a string"


def beat(license_: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"licenseKey": license_["licenseKey"], "hardwareIdentifier": HWID, **fields}


# --- Schema -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({}, id="missing"),
        pytest.param({"hardwareIdentifier": None}, id="null"),
        pytest.param({"hardwareIdentifier": False}, id="false"),
        pytest.param({"hardwareIdentifier": 0}, id="zero"),
        pytest.param({"hardwareIdentifier": ""}, id="empty"),
        pytest.param({"hardwareIdentifier": 1234567890}, id="number"),
    ],
)
async def test_hardware_identifier_is_required(
    client_api: ClientApi, fields: dict[str, Any]
) -> None:
    response = await client_api.heartbeat({"licenseKey": UNKNOWN_KEY, **fields})
    assert_client_error(response, 400, "BAD_REQUEST", HWID_MISSING)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("short", "Hardware identifier must be at least 10 characters"),
        ("h" * 1001, "Hardware identifier must be less than 1000 characters"),
        ("hwid 0123456", "Hardware identifier must not contain spaces"),
    ],
    ids=["short", "long", "space"],
)
async def test_hardware_identifier_rules_are_those_of_verify(
    client_api: ClientApi, value: str, message: str
) -> None:
    response = await client_api.heartbeat({"licenseKey": UNKNOWN_KEY, "hardwareIdentifier": value})
    assert_client_error(response, 400, "BAD_REQUEST", message)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param(
            {"hardwareIdentifier": "short", "licenseKey": "bad"},
            FORMAT,
            id="licenseKey-before-hardwareIdentifier",
        ),
        pytest.param(
            {"customerId": "bad", "licenseKey": UNKNOWN_KEY},
            HWID_MISSING,
            id="missing-hardwareIdentifier-before-customerId",
        ),
        pytest.param(
            {"branch": "b", "hardwareIdentifier": "short", "licenseKey": UNKNOWN_KEY},
            "Hardware identifier must be at least 10 characters",
            id="hardwareIdentifier-before-branch",
        ),
        pytest.param(
            {"productId": "bad", "customerId": "bad", "hardwareIdentifier": HWID},
            "License key must be a string",
            id="missing-licenseKey-first",
        ),
        pytest.param(
            {
                "challenge": "short",
                "productId": "bad",
                "licenseKey": UNKNOWN_KEY,
                "hardwareIdentifier": HWID,
            },
            "Product UUID must be a valid UUID",
            id="productId-before-challenge",
        ),
        pytest.param(
            {"branch": "b", "version": "1", "licenseKey": UNKNOWN_KEY, "hardwareIdentifier": HWID},
            "Version must be at least 3 characters",
            id="version-before-branch",
        ),
    ],
)
async def test_heartbeat_schema_order(
    client_api: ClientApi, fields: dict[str, Any], message: str
) -> None:
    assert_client_error(await client_api.heartbeat(fields), 400, "BAD_REQUEST", message)


async def test_unknown_key_is_invalid_payload_after_every_field_issue(
    client_api: ClientApi,
) -> None:
    body = {"licenseKey": UNKNOWN_KEY, "hardwareIdentifier": HWID, "extra": 1}
    assert_client_error(await client_api.heartbeat(body), 400, "BAD_REQUEST", "Invalid payload")
    assert_client_error(
        await client_api.heartbeat({"licenseKey": UNKNOWN_KEY, "extra": 1}),
        400,
        "BAD_REQUEST",
        HWID_MISSING,
    )


@pytest.mark.parametrize("value", [None, False, 0, ""], ids=["null", "false", "0", "empty"])
async def test_device_identifier_satisfies_the_required_hardware_identifier(
    client_api: ClientApi, api: Api, license_: dict[str, Any], value: Any
) -> None:
    body = {
        "licenseKey": license_["licenseKey"],
        "hardwareIdentifier": value,
        "deviceIdentifier": OTHER_HWID,
    }
    assert_valid(await client_api.heartbeat(body), SUCCESS)
    assert [record["hwid"] for record in await hwids(api, license_["id"])] == [OTHER_HWID]


async def test_device_identifier_alone_satisfies_the_required_hardware_identifier(
    client_api: ClientApi, api: Api, license_: dict[str, Any]
) -> None:
    body = {"licenseKey": license_["licenseKey"], "deviceIdentifier": OTHER_HWID}
    assert_valid(await client_api.heartbeat(body), SUCCESS)
    assert [record["hwid"] for record in await hwids(api, license_["id"])] == [OTHER_HWID]


async def test_hardware_identifier_wins_over_device_identifier(
    client_api: ClientApi, api: Api, license_: dict[str, Any]
) -> None:
    assert_valid(await client_api.heartbeat(beat(license_, deviceIdentifier=OTHER_HWID)), SUCCESS)
    assert [record["hwid"] for record in await hwids(api, license_["id"])] == [HWID]


# --- Ordered checks -----------------------------------------------------------------------------


async def test_body_over_64_kib_is_413(client_api: ClientApi) -> None:
    raw = json.dumps({"licenseKey": UNKNOWN_KEY, "hardwareIdentifier": HWID}).encode()
    response = await client_api.heartbeat(content=raw + b" " * (64 * 1024 + 1 - len(raw)))
    assert_client_error(response, 413, "BAD_REQUEST", "Request body too large")


@pytest.mark.parametrize(
    ("content", "details"),
    [(b"", "Invalid JSON payload"), (b"{", "Invalid JSON payload"), (b"[]", "Invalid payload")],
    ids=["empty", "broken", "array"],
)
async def test_body_errors_come_before_the_team_id(
    client_api: ClientApi, content: bytes, details: str
) -> None:
    response = await client_api.heartbeat(content=content, team_id="not-a-uuid")
    assert_client_error(response, 400, "BAD_REQUEST", details)


async def test_malformed_team_id_is_400(client_api: ClientApi) -> None:
    response = await client_api.heartbeat({"licenseKey": 1}, team_id="not-a-uuid")
    assert_client_error(response, 400, "BAD_REQUEST", "Invalid team UUID")


async def test_unknown_team_is_404(client_api: ClientApi) -> None:
    response = await client_api.heartbeat(
        {"licenseKey": UNKNOWN_KEY, "hardwareIdentifier": HWID},
        team_id="00000000-0000-4000-8000-000000000000",
    )
    assert_client_error(response, 404, "TEAM_NOT_FOUND", "Team not found")


async def test_unknown_license_is_404(client_api: ClientApi) -> None:
    response = await client_api.heartbeat({"licenseKey": UNKNOWN_KEY, "hardwareIdentifier": HWID})
    assert_client_error(response, 404, "LICENSE_NOT_FOUND", "License not found")


async def test_suspended_license_is_403(client_api: ClientApi, api: Api) -> None:
    license_ = await create_license(api, suspended=True)
    response = await client_api.heartbeat(beat(license_, challenge=CHALLENGE))
    assert_client_error(response, 403, "LICENSE_SUSPENDED", "License suspended")


async def test_product_not_linked_is_404(
    client_api: ClientApi, api: Api, license_: dict[str, Any]
) -> None:
    other = await api.create_product("Other Product")
    response = await client_api.heartbeat(beat(license_, productId=other))
    assert_client_error(response, 404, "PRODUCT_NOT_FOUND", "Product not found")


async def test_hwid_limit_applies(client_api: ClientApi, api: Api) -> None:
    license_ = await create_license(api, hwidLimit=1)
    assert_valid(await client_api.heartbeat(beat(license_)), SUCCESS)
    response = await client_api.heartbeat(beat(license_, hardwareIdentifier=OTHER_HWID))
    assert_client_error(response, 403, "HWID_LIMIT_REACHED", "HWID limit reached")


async def test_ip_limit_applies(client_api: ClientApi, api: Api, peer: PeerFactory) -> None:
    license_ = await create_license(api, ipLimit=1)
    assert_valid(await client_api.heartbeat(beat(license_)), SUCCESS)
    response = await (await peer("203.0.113.20")).heartbeat(beat(license_))
    assert_client_error(response, 403, "IP_LIMIT_REACHED", "IP limit reached")


async def test_suspended_license_asking_for_an_unknown_branch_is_told_suspended(
    client_api: ClientApi, api: Api, product_id: str
) -> None:
    license_ = await create_license(api, productIds=[product_id], suspended=True)
    await create_release(api, product_id, "1.0.0", latest=True)
    response = await client_api.heartbeat(beat(license_, productId=product_id, branch="nope"))
    assert_client_error(response, 403, "LICENSE_SUSPENDED", "License suspended")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({"branch": "nope"}, "Branch not found", id="branch"),
        pytest.param(
            {"version": "9.9.9"}, "Release not found with specified version", id="version"
        ),
        pytest.param(
            {"version": "0.9.0"}, "Release not found with specified version", id="deprecated"
        ),
    ],
)
async def test_release_checks_are_those_of_verify(
    client_api: ClientApi,
    api: Api,
    product_id: str,
    license_: dict[str, Any],
    fields: dict[str, str],
    expected: str,
) -> None:
    await create_release(api, product_id, "1.0.0", latest=True)
    await create_release(api, product_id, "0.9.0", status="DEPRECATED")
    response = await client_api.heartbeat(beat(license_, productId=product_id, **fields))
    assert_client_error(response, 404, "RELEASE_NOT_FOUND", expected)


async def test_strict_releases_applies(
    client_api: ClientApi,
    api: Api,
    runtime: Runtime,
    team: TeamCredentials,
    product_id: str,
    license_: dict[str, Any],
) -> None:
    await create_release(api, product_id, "1.0.0", latest=True)
    await set_team_settings(runtime, team.team_id, strict_releases=True)
    response = await client_api.heartbeat(beat(license_, productId=product_id))
    assert_client_error(
        response, 404, "RELEASE_NOT_FOUND", "Release not found with specified version"
    )
    assert_valid(
        await client_api.heartbeat(beat(license_, productId=product_id, version="1.0.0")), SUCCESS
    )


# --- Success ------------------------------------------------------------------------------------


async def test_success_details_are_heartbeat_successful(
    client_api: ClientApi, license_: dict[str, Any]
) -> None:
    assert_valid(await client_api.heartbeat(beat(license_)), SUCCESS)


async def test_challenge_is_signed_with_the_team_key(
    client_api: ClientApi, license_: dict[str, Any]
) -> None:
    response = await client_api.heartbeat(beat(license_, challenge=CHALLENGE))
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert set(result) == {"timestamp", "valid", "details", "code", "challengeResponse"}
    assert (result["valid"], result["code"], result["details"]) == (True, "VALID", SUCCESS)
    verify_challenge(client_api.public_key, CHALLENGE, result["challengeResponse"])


async def test_success_records_the_hwid_and_the_ip(
    client_api: ClientApi, api: Api, license_: dict[str, Any]
) -> None:
    assert_valid(await client_api.heartbeat(beat(license_)), SUCCESS)
    assert [record["hwid"] for record in await hwids(api, license_["id"])] == [HWID]
    assert [record["ip"] for record in await ip_addresses(api, license_["id"])] == [DEFAULT_PEER]


async def test_success_starts_a_duration_clock_and_marks_the_release_seen(
    client_api: ClientApi, api: Api, product_id: str
) -> None:
    license_ = await create_license(
        api,
        productIds=[product_id],
        expirationType="DURATION",
        expirationStart="ACTIVATION",
        expirationDays=2,
    )
    release = await create_release(api, product_id, "1.0.0", latest=True)
    before = utcnow()
    assert_valid(await client_api.heartbeat(beat(license_, productId=product_id)), SUCCESS)
    stored = await get_license(api, license_["id"])
    assert stored["expirationDate"] is not None
    assert stored["status"] != "UPCOMING"
    seen = (await get_release(api, release["id"]))["lastSeenAt"]
    assert parse_time(seen) >= before - timedelta(milliseconds=1)


async def test_failure_writes_nothing(client_api: ClientApi, api: Api, product_id: str) -> None:
    license_ = await create_license(
        api,
        productIds=[product_id],
        expirationType="DURATION",
        expirationStart="ACTIVATION",
        expirationDays=2,
    )
    release = await create_release(api, product_id, "1.0.0", latest=True)
    response = await client_api.heartbeat(beat(license_, productId=product_id, version="9.9.9"))
    assert response.status_code == 404
    assert (await get_license(api, license_["id"]))["expirationDate"] is None
    assert await hwids(api, license_["id"]) == []
    assert await ip_addresses(api, license_["id"]) == []
    assert (await get_release(api, release["id"]))["lastSeenAt"] is None
