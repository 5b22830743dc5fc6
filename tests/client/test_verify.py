"""POST …/verification/verify (client-api.md §1, §3, §5): schema, ordered checks, success and
its side effects."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature

from releasegate.customers.service import create_customer
from releasegate.kit.clock import utcnow
from releasegate.licenses.models import HardwareIdentifier, IpAddress
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
    age_devices,
    assert_client_error,
    assert_valid,
    create_license,
    create_release,
    delete_team,
    forget_device,
    get_license,
    get_release,
    hwids,
    ip_addresses,
    parse_time,
    set_license_dates,
    set_team_settings,
    suspend_license,
    team_public_key,
    verify_challenge,
)

FORMAT = "License key must be in the format of XXXXX-XXXXX-XXXXX-XXXXX-XXXXX"
SPACES = ["\t", "\n", "\u000b", "\u000c", "\r", " ", "\u00a0", "\u2000", "\u3000", "\ufeff"]
EMOJI = "\U0001f600"  # two UTF-16 code units


def key_of(license_: dict[str, Any]) -> str:
    return str(license_["licenseKey"])


async def customer(runtime: Runtime, team: TeamCredentials, email: str = "c@example.com") -> str:
    return str(await create_customer(runtime, uuid.UUID(team.team_id), email, None, None))


# --- Schema (§3.1) -----------------------------------------------------------------------------

SCHEMA_ISSUES = [
    pytest.param({}, "License key must be a string", id="licenseKey-missing"),
    pytest.param({"licenseKey": None}, "License key must be a string", id="licenseKey-null"),
    pytest.param({"licenseKey": 12345}, "License key must be a string", id="licenseKey-number"),
    pytest.param(
        {"licenseKey": [UNKNOWN_KEY]}, "License key must be a string", id="licenseKey-array"
    ),
    pytest.param({"licenseKey": "AAAAA-BBBBB-CCCCC-DDDDD"}, FORMAT, id="licenseKey-4-groups"),
    pytest.param({"licenseKey": UNKNOWN_KEY.lower()}, FORMAT, id="licenseKey-lowercase"),
    pytest.param({"licenseKey": UNKNOWN_KEY + " "}, FORMAT, id="licenseKey-trailing-space"),
    pytest.param(
        {"licenseKey": "AAAAA_BBBBB-CCCCC-DDDDD-EEEEE"}, FORMAT, id="licenseKey-underscore"
    ),
    pytest.param({"licenseKey": ""}, FORMAT, id="licenseKey-empty"),
    pytest.param({"customerId": 7}, "Customer UUID must be a string", id="customerId-number"),
    pytest.param(
        {"customerId": "not-a-uuid"}, "Customer UUID must be a valid UUID", id="customerId-format"
    ),
    pytest.param(
        {"customerId": "00000000000040008000000000000000"},
        "Customer UUID must be a valid UUID",
        id="customerId-no-dashes",
    ),
    pytest.param({"productId": False}, "Product UUID must be a string", id="productId-boolean"),
    pytest.param({"productId": "1234"}, "Product UUID must be a valid UUID", id="productId-format"),
    pytest.param({"challenge": 1234567890}, "Challenge must be a string", id="challenge-number"),
    pytest.param(
        {"challenge": "123456789"}, "Challenge must be at least 10 characters", id="challenge-9"
    ),
    pytest.param(
        {"challenge": "a" * 1001},
        "Challenge must be less than 1000 characters",
        id="challenge-1001",
    ),
    pytest.param(
        {"challenge": EMOJI * 500 + "a"},
        "Challenge must be less than 1000 characters",
        id="challenge-1001-utf16-units",
    ),
    pytest.param(
        {"challenge": "abcde fghij"}, "Challenge must not contain spaces", id="challenge-space"
    ),
    pytest.param(
        {"challenge": "a b"},
        "Challenge must be at least 10 characters",
        id="challenge-length-first",
    ),
    pytest.param({"version": 1.0}, "Version must be a string", id="version-number"),
    pytest.param({"version": "1."}, "Version must be at least 3 characters", id="version-2"),
    pytest.param(
        {"version": "1" * 256}, "Version must be less than 255 characters", id="version-256"
    ),
    pytest.param({"version": "1.0 beta"}, "Version must not contain spaces", id="version-space"),
    pytest.param({"branch": ["beta"]}, "Branch name must be a string", id="branch-array"),
    pytest.param({"branch": "b"}, "Branch name must be at least 2 characters", id="branch-1"),
    pytest.param(
        {"branch": "b" * 256}, "Branch name must be less than 255 characters", id="branch-256"
    ),
    pytest.param(
        {"branch": "ab"},
        "Branch name must contain only letters, numbers, dashes, and underscores",
        id="branch-2-fails-the-3-character-pattern",
    ),
    pytest.param(
        {"branch": "be.ta"},
        "Branch name must contain only letters, numbers, dashes, and underscores",
        id="branch-dot",
    ),
    pytest.param(
        {"branch": "bêta"},
        "Branch name must contain only letters, numbers, dashes, and underscores",
        id="branch-non-ascii-letter",
    ),
    pytest.param(
        {"hardwareIdentifier": 1234567890},
        "Hardware identifier must be a string",
        id="hardwareIdentifier-number",
    ),
    pytest.param(
        {"hardwareIdentifier": "short"},
        "Hardware identifier must be at least 10 characters",
        id="hardwareIdentifier-5",
    ),
    pytest.param(
        {"hardwareIdentifier": "h" * 1001},
        "Hardware identifier must be less than 1000 characters",
        id="hardwareIdentifier-1001",
    ),
    pytest.param(
        {"hardwareIdentifier": "hwid 0123456"},
        "Hardware identifier must not contain spaces",
        id="hardwareIdentifier-space",
    ),
]


@pytest.mark.parametrize(("fields", "message"), SCHEMA_ISSUES)
async def test_schema_issue_is_reported_with_its_message(
    client_api: ClientApi, fields: dict[str, Any], message: str
) -> None:
    body = {"licenseKey": UNKNOWN_KEY, **fields} if fields else {}
    assert_client_error(await client_api.verify(body), 400, "BAD_REQUEST", message)


@pytest.mark.parametrize("space", SPACES, ids=[f"U+{ord(s):04X}" for s in SPACES])
@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("challenge", "Challenge must not contain spaces"),
        ("version", "Version must not contain spaces"),
        ("hardwareIdentifier", "Hardware identifier must not contain spaces"),
    ],
)
async def test_every_javascript_whitespace_counts_as_a_space(
    client_api: ClientApi, field: str, message: str, space: str
) -> None:
    body = {"licenseKey": UNKNOWN_KEY, field: "abcde" + space + "fghij"}
    assert_client_error(await client_api.verify(body), 400, "BAD_REQUEST", message)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param(
            {"customerId": "bad", "licenseKey": "bad"}, FORMAT, id="licenseKey-before-customerId"
        ),
        pytest.param(
            {"productId": "bad", "customerId": "bad", "licenseKey": UNKNOWN_KEY},
            "Customer UUID must be a valid UUID",
            id="customerId-before-productId",
        ),
        pytest.param(
            {"challenge": "short", "productId": "bad", "licenseKey": UNKNOWN_KEY},
            "Product UUID must be a valid UUID",
            id="productId-before-challenge",
        ),
        pytest.param(
            {"version": "1", "challenge": "short", "licenseKey": UNKNOWN_KEY},
            "Challenge must be at least 10 characters",
            id="challenge-before-version",
        ),
        pytest.param(
            {"branch": "b", "version": "1", "licenseKey": UNKNOWN_KEY},
            "Version must be at least 3 characters",
            id="version-before-branch",
        ),
        pytest.param(
            {"hardwareIdentifier": "short", "branch": "b", "licenseKey": UNKNOWN_KEY},
            "Branch name must be at least 2 characters",
            id="branch-before-hardwareIdentifier",
        ),
        pytest.param(
            {"hardwareIdentifier": "short"},
            "License key must be a string",
            id="missing-licenseKey-before-hardwareIdentifier",
        ),
    ],
)
async def test_only_the_first_issue_in_schema_order_is_reported(
    client_api: ClientApi, fields: dict[str, Any], message: str
) -> None:
    # Keys are sent in reverse schema order: the schema order decides, not the input order.
    assert_client_error(await client_api.verify(fields), 400, "BAD_REQUEST", message)


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"challenge": "a" * 10}, id="challenge-10"),
        pytest.param({"challenge": "a" * 1000}, id="challenge-1000"),
        pytest.param({"challenge": EMOJI * 5}, id="challenge-10-utf16-units"),
        pytest.param({"challenge": EMOJI * 500}, id="challenge-1000-utf16-units"),
        pytest.param({"version": "1.0"}, id="version-3"),
        pytest.param({"version": "1" * 255}, id="version-255"),
        pytest.param({"version": EMOJI + "a"}, id="version-3-utf16-units"),
        pytest.param({"branch": "abc"}, id="branch-3"),
        pytest.param({"branch": "b" * 255}, id="branch-255"),
        pytest.param({"branch": "be ta_-9"}, id="branch-space-dash-underscore"),
        pytest.param({"branch": "be\u00a0ta"}, id="branch-nbsp-is-whitespace"),
        pytest.param({"hardwareIdentifier": "h" * 10}, id="hardwareIdentifier-10"),
        pytest.param({"hardwareIdentifier": "h" * 1000}, id="hardwareIdentifier-1000"),
        pytest.param({"hardwareIdentifier": EMOJI * 5}, id="hardwareIdentifier-10-utf16-units"),
        pytest.param({"customerId": "00000000-0000-0000-0000-000000000000"}, id="customerId"),
        pytest.param({"productId": "ABCDEF00-0000-1000-8000-000000000000"}, id="productId-upper"),
    ],
)
async def test_values_on_the_boundaries_are_accepted(
    client_api: ClientApi, api: Api, fields: dict[str, Any]
) -> None:
    # A license with no products and no customers: every productId/customerId passes (§3.3).
    license_ = await create_license(api)
    response = await client_api.verify({"licenseKey": key_of(license_), **fields})
    if "challenge" in fields:
        assert response.status_code == 200, response.text
        verify_challenge(
            client_api.public_key,
            fields["challenge"],
            response.json()["result"]["challengeResponse"],
        )
    else:
        assert_valid(response)


async def test_unknown_key_is_invalid_payload(client_api: ClientApi) -> None:
    body = {"licenseKey": UNKNOWN_KEY, "licenceKey": UNKNOWN_KEY}
    assert_client_error(await client_api.verify(body), 400, "BAD_REQUEST", "Invalid payload")


async def test_unknown_key_is_reported_for_an_existing_license_too(
    client_api: ClientApi, license_: dict[str, Any]
) -> None:
    body = {"licenseKey": key_of(license_), "extra": True}
    assert_client_error(await client_api.verify(body), 400, "BAD_REQUEST", "Invalid payload")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param({"extra": 1}, "License key must be a string", id="missing-licenseKey"),
        pytest.param(
            {"extra": 1, "licenseKey": UNKNOWN_KEY, "hardwareIdentifier": "short"},
            "Hardware identifier must be at least 10 characters",
            id="last-field",
        ),
    ],
)
async def test_unknown_key_comes_after_every_field_issue(
    client_api: ClientApi, fields: dict[str, Any], message: str
) -> None:
    assert_client_error(await client_api.verify(fields), 400, "BAD_REQUEST", message)


async def test_content_type_header_is_not_required(
    client_api: ClientApi, license_: dict[str, Any]
) -> None:
    content = json.dumps({"licenseKey": key_of(license_)}).encode()
    assert_valid(await client_api.verify(content=content, headers={"content-type": "text/plain"}))
    assert_valid(await client_api.verify(content=content, headers={"content-type": ""}))


# --- Legacy deviceIdentifier (§3.1) ------------------------------------------------------------


async def test_device_identifier_stands_in_for_a_missing_hardware_identifier(
    client_api: ClientApi, api: Api, license_: dict[str, Any]
) -> None:
    body = {"licenseKey": key_of(license_), "deviceIdentifier": HWID}
    assert_valid(await client_api.verify(body))
    assert [record["hwid"] for record in await hwids(api, license_["id"])] == [HWID]


@pytest.mark.parametrize("value", [None, False, 0, ""], ids=["null", "false", "0", "empty"])
async def test_device_identifier_replaces_a_falsy_hardware_identifier(
    client_api: ClientApi, api: Api, license_: dict[str, Any], value: Any
) -> None:
    body = {"licenseKey": key_of(license_), "hardwareIdentifier": value, "deviceIdentifier": HWID}
    assert_valid(await client_api.verify(body))
    assert [record["hwid"] for record in await hwids(api, license_["id"])] == [HWID]


@pytest.mark.parametrize("value", [None, False, 0, ""], ids=["null", "false", "0", "empty"])
async def test_falsy_hardware_identifier_without_device_identifier_counts_as_absent(
    client_api: ClientApi, api: Api, license_: dict[str, Any], value: Any
) -> None:
    body = {"licenseKey": key_of(license_), "hardwareIdentifier": value}
    assert_valid(await client_api.verify(body))
    assert await hwids(api, license_["id"]) == []


async def test_hardware_identifier_wins_over_device_identifier(
    client_api: ClientApi, api: Api, license_: dict[str, Any]
) -> None:
    body = {
        "licenseKey": key_of(license_),
        "deviceIdentifier": OTHER_HWID,
        "hardwareIdentifier": HWID,
    }
    assert_valid(await client_api.verify(body))
    assert [record["hwid"] for record in await hwids(api, license_["id"])] == [HWID]


async def test_ignored_device_identifier_is_neither_validated_nor_an_unknown_key(
    client_api: ClientApi, license_: dict[str, Any]
) -> None:
    body = {"licenseKey": key_of(license_), "hardwareIdentifier": HWID, "deviceIdentifier": 5}
    assert_valid(await client_api.verify(body))


async def test_device_identifier_used_in_place_is_validated_as_hardware_identifier(
    client_api: ClientApi,
) -> None:
    body = {"licenseKey": UNKNOWN_KEY, "hardwareIdentifier": "", "deviceIdentifier": "short"}
    assert_client_error(
        await client_api.verify(body),
        400,
        "BAD_REQUEST",
        "Hardware identifier must be at least 10 characters",
    )


async def test_device_identifier_of_the_wrong_type_is_reported_as_hardware_identifier(
    client_api: ClientApi,
) -> None:
    body = {"licenseKey": UNKNOWN_KEY, "deviceIdentifier": ["x" * 12]}
    assert_client_error(
        await client_api.verify(body), 400, "BAD_REQUEST", "Hardware identifier must be a string"
    )


# --- Ordered checks, rows 1–9 (§3.2) -----------------------------------------------------------


def padded(body: dict[str, Any], size: int) -> bytes:
    """`body` as JSON followed by spaces up to exactly `size` bytes (still valid JSON)."""
    raw = json.dumps(body).encode()
    assert len(raw) <= size
    return raw + b" " * (size - len(raw))


async def test_body_of_exactly_64_kib_is_read(client_api: ClientApi) -> None:
    content = padded({"licenseKey": UNKNOWN_KEY}, 64 * 1024)
    response = await client_api.verify(content=content)
    assert_client_error(response, 404, "LICENSE_NOT_FOUND", "License not found")


async def test_body_over_64_kib_is_413(client_api: ClientApi) -> None:
    content = padded({"licenseKey": UNKNOWN_KEY}, 64 * 1024 + 1)
    response = await client_api.verify(content=content)
    assert_client_error(response, 413, "BAD_REQUEST", "Request body too large")


@pytest.mark.parametrize(
    "content",
    [b"{" + b" " * (64 * 1024), b"[" * (64 * 1024 + 1)],
    ids=["invalid-json", "not-an-object"],
)
async def test_size_is_checked_before_parsing_and_before_the_team_id(
    client_api: ClientApi, content: bytes
) -> None:
    response = await client_api.verify(content=content, team_id="not-a-uuid")
    assert_client_error(response, 413, "BAD_REQUEST", "Request body too large")


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{",
        b"not json",
        b'{"licenseKey": "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE",}',
        b"{'licenseKey': 'x'}",
        b"NaN",
        b"\xff\xfe{}",
    ],
    ids=["empty", "unclosed", "text", "trailing-comma", "single-quotes", "nan", "not-utf8"],
)
async def test_invalid_json_is_400(client_api: ClientApi, content: bytes) -> None:
    response = await client_api.verify(content=content)
    assert_client_error(response, 400, "BAD_REQUEST", "Invalid JSON payload")


async def test_invalid_json_is_reported_before_the_team_id(client_api: ClientApi) -> None:
    response = await client_api.verify(content=b"{", team_id="not-a-uuid")
    assert_client_error(response, 400, "BAD_REQUEST", "Invalid JSON payload")


@pytest.mark.parametrize(
    "content",
    [b"null", b"[]", b'[{"licenseKey": "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE"}]', b'"x"', b"42", b"true"],
    ids=["null", "empty-array", "array-of-object", "string", "number", "boolean"],
)
async def test_json_that_is_not_an_object_is_invalid_payload(
    client_api: ClientApi, content: bytes
) -> None:
    response = await client_api.verify(content=content)
    assert_client_error(response, 400, "BAD_REQUEST", "Invalid payload")


async def test_non_object_is_reported_before_the_team_id(client_api: ClientApi) -> None:
    response = await client_api.verify(content=b"[]", team_id="not-a-uuid")
    assert_client_error(response, 400, "BAD_REQUEST", "Invalid payload")


@pytest.mark.parametrize(
    "team_id",
    ["not-a-uuid", "00000000000040008000000000000000", "00000000-0000-4000-8000-00000000000g"],
)
async def test_malformed_team_id_is_400(client_api: ClientApi, team_id: str) -> None:
    response = await client_api.verify({"licenseKey": UNKNOWN_KEY}, team_id=team_id)
    assert_client_error(response, 400, "BAD_REQUEST", "Invalid team UUID")


async def test_team_id_is_checked_before_the_schema(client_api: ClientApi) -> None:
    response = await client_api.verify({"licenseKey": 5}, team_id="not-a-uuid")
    assert_client_error(response, 400, "BAD_REQUEST", "Invalid team UUID")


async def test_unknown_team_is_404(client_api: ClientApi) -> None:
    response = await client_api.verify(
        {"licenseKey": UNKNOWN_KEY}, team_id="00000000-0000-4000-8000-000000000000"
    )
    assert_client_error(response, 404, "TEAM_NOT_FOUND", "Team not found")


async def test_schema_is_checked_before_the_team_exists(client_api: ClientApi) -> None:
    response = await client_api.verify(
        {"licenseKey": "bad"}, team_id="00000000-0000-4000-8000-000000000000"
    )
    assert_client_error(response, 400, "BAD_REQUEST", FORMAT)


async def test_deleted_team_is_404(
    client_api: ClientApi, runtime: Runtime, team: TeamCredentials, license_: dict[str, Any]
) -> None:
    await delete_team(runtime, team.team_id)
    response = await client_api.verify({"licenseKey": key_of(license_)})
    assert_client_error(response, 404, "TEAM_NOT_FOUND", "Team not found")


async def test_team_id_is_compared_case_insensitively(
    client_api: ClientApi, team: TeamCredentials, license_: dict[str, Any]
) -> None:
    response = await client_api.verify(
        {"licenseKey": key_of(license_)}, team_id=team.team_id.upper()
    )
    assert_valid(response)


async def test_unknown_license_is_404(client_api: ClientApi) -> None:
    response = await client_api.verify({"licenseKey": UNKNOWN_KEY})
    assert_client_error(response, 404, "LICENSE_NOT_FOUND", "License not found")


async def test_license_of_another_team_is_not_found(
    client_api: ClientApi, app_client: Any, other_team: TeamCredentials
) -> None:
    other = await create_license(Api(app_client, other_team))
    response = await client_api.verify({"licenseKey": key_of(other)})
    assert_client_error(response, 404, "LICENSE_NOT_FOUND", "License not found")


async def test_same_key_in_two_teams_answers_for_the_path_team(
    client_api: ClientApi, api: Api, app_client: Any, other_team: TeamCredentials, runtime: Runtime
) -> None:
    mine = await create_license(api, suspended=True)
    await create_license(Api(app_client, other_team), licenseKey=key_of(mine))
    other_client = ClientApi(
        app_client, other_team.team_id, await team_public_key(runtime, other_team.team_id)
    )
    assert_valid(await other_client.verify({"licenseKey": key_of(mine)}))
    assert_client_error(
        await client_api.verify({"licenseKey": key_of(mine)}),
        403,
        "LICENSE_SUSPENDED",
        "License suspended",
    )


# --- Customer and product (rows 13–14, §3.3) ---------------------------------------------------


async def test_customer_id_not_among_the_license_customers_is_404(
    client_api: ClientApi, api: Api, runtime: Runtime, team: TeamCredentials
) -> None:
    mine = await customer(runtime, team, "a@example.com")
    other = await customer(runtime, team, "b@example.com")
    license_ = await create_license(api, customerIds=[mine])
    response = await client_api.verify({"licenseKey": key_of(license_), "customerId": other})
    assert_client_error(response, 404, "CUSTOMER_NOT_FOUND", "Customer not found")


async def test_customer_id_of_the_license_passes_in_any_case(
    client_api: ClientApi, api: Api, runtime: Runtime, team: TeamCredentials
) -> None:
    mine = await customer(runtime, team)
    license_ = await create_license(api, customerIds=[mine])
    assert_valid(await client_api.verify({"licenseKey": key_of(license_), "customerId": mine}))
    assert_valid(
        await client_api.verify({"licenseKey": key_of(license_), "customerId": mine.upper()})
    )


async def test_customer_id_for_a_license_without_customers_passes(
    client_api: ClientApi, api: Api, runtime: Runtime, team: TeamCredentials
) -> None:
    await set_team_settings(runtime, team.team_id, strict_customers=True)
    license_ = await create_license(api)
    unrelated = await customer(runtime, team)
    assert_valid(await client_api.verify({"licenseKey": key_of(license_), "customerId": unrelated}))
    assert_valid(await client_api.verify({"licenseKey": key_of(license_)}))


async def test_strict_customers_requires_a_customer_id_when_the_license_has_customers(
    client_api: ClientApi, api: Api, runtime: Runtime, team: TeamCredentials
) -> None:
    license_ = await create_license(api, customerIds=[await customer(runtime, team)])
    assert_valid(await client_api.verify({"licenseKey": key_of(license_)}))
    await set_team_settings(runtime, team.team_id, strict_customers=True)
    assert_client_error(
        await client_api.verify({"licenseKey": key_of(license_)}),
        404,
        "CUSTOMER_NOT_FOUND",
        "Customer not found",
    )


async def test_product_id_not_linked_to_the_license_is_404(
    client_api: ClientApi, api: Api, license_: dict[str, Any]
) -> None:
    other = await api.create_product("Other Product")
    response = await client_api.verify({"licenseKey": key_of(license_), "productId": other})
    assert_client_error(response, 404, "PRODUCT_NOT_FOUND", "Product not found")


async def test_unknown_product_id_is_404_for_a_license_with_products(
    client_api: ClientApi, license_: dict[str, Any]
) -> None:
    response = await client_api.verify(
        {"licenseKey": key_of(license_), "productId": "00000000-0000-4000-8000-000000000000"}
    )
    assert_client_error(response, 404, "PRODUCT_NOT_FOUND", "Product not found")


async def test_product_id_of_the_license_passes_in_any_case(
    client_api: ClientApi, product_id: str, license_: dict[str, Any]
) -> None:
    for sent in (product_id, product_id.upper()):
        assert_valid(await client_api.verify({"licenseKey": key_of(license_), "productId": sent}))


async def test_any_product_id_passes_for_a_license_without_products(
    client_api: ClientApi, api: Api, runtime: Runtime, team: TeamCredentials, product_id: str
) -> None:
    await set_team_settings(runtime, team.team_id, strict_products=True)
    license_ = await create_license(api)
    assert_valid(await client_api.verify({"licenseKey": key_of(license_), "productId": product_id}))
    assert_valid(await client_api.verify({"licenseKey": key_of(license_)}))


async def test_strict_products_requires_a_product_id_when_the_license_has_products(
    client_api: ClientApi, runtime: Runtime, team: TeamCredentials, license_: dict[str, Any]
) -> None:
    assert_valid(await client_api.verify({"licenseKey": key_of(license_)}))
    await set_team_settings(runtime, team.team_id, strict_products=True)
    assert_client_error(
        await client_api.verify({"licenseKey": key_of(license_)}),
        404,
        "PRODUCT_NOT_FOUND",
        "Product not found",
    )


async def test_customer_check_comes_before_the_product_check(
    client_api: ClientApi, api: Api, runtime: Runtime, team: TeamCredentials, product_id: str
) -> None:
    license_ = await create_license(
        api, productIds=[product_id], customerIds=[await customer(runtime, team)]
    )
    response = await client_api.verify(
        {
            "licenseKey": key_of(license_),
            "customerId": await customer(runtime, team, "other@example.com"),
            "productId": await api.create_product("Other Product"),
        }
    )
    assert_client_error(response, 404, "CUSTOMER_NOT_FOUND", "Customer not found")


async def test_product_check_comes_before_suspension(
    client_api: ClientApi, api: Api, product_id: str
) -> None:
    license_ = await create_license(api, productIds=[product_id], suspended=True)
    response = await client_api.verify(
        {"licenseKey": key_of(license_), "productId": await api.create_product("Other Product")}
    )
    assert_client_error(response, 404, "PRODUCT_NOT_FOUND", "Product not found")


# --- Suspension and expiry (rows 15–16) --------------------------------------------------------


async def test_suspended_license_is_403(client_api: ClientApi, api: Api) -> None:
    license_ = await create_license(api, suspended=True)
    response = await client_api.verify({"licenseKey": key_of(license_)})
    assert_client_error(response, 403, "LICENSE_SUSPENDED", "License suspended")


async def date_license(api: Api, **changes: Any) -> dict[str, Any]:
    """A DATE license, two days from expiry (creation requires a future date)."""
    future = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%d")
    return await create_license(api, expirationType="DATE", expirationDate=future, **changes)


async def expire(runtime: Runtime, license_id: str) -> None:
    """Time passes: the license's stored date is now a second ago."""
    await set_license_dates(runtime, license_id, expiration_date=utcnow() - timedelta(seconds=1))


async def test_suspension_is_reported_before_expiry(
    client_api: ClientApi, api: Api, runtime: Runtime
) -> None:
    license_ = await date_license(api, suspended=True)
    await expire(runtime, license_["id"])
    response = await client_api.verify({"licenseKey": key_of(license_)})
    assert_client_error(response, 403, "LICENSE_SUSPENDED", "License suspended")


async def test_license_past_its_date_is_expired(
    client_api: ClientApi, api: Api, runtime: Runtime
) -> None:
    license_ = await date_license(api)
    await expire(runtime, license_["id"])
    response = await client_api.verify({"licenseKey": key_of(license_)})
    assert_client_error(response, 403, "LICENSE_EXPIRED", "License expired")


async def test_license_before_its_date_is_valid(client_api: ClientApi, api: Api) -> None:
    license_ = await date_license(api)
    assert_valid(await client_api.verify({"licenseKey": key_of(license_)}))


async def test_duration_license_past_its_stored_date_is_expired(
    client_api: ClientApi, api: Api, runtime: Runtime
) -> None:
    license_ = await create_license(
        api, expirationType="DURATION", expirationStart="CREATION", expirationDays=3
    )
    assert license_["expirationDate"] is not None
    await expire(runtime, license_["id"])
    response = await client_api.verify({"licenseKey": key_of(license_)})
    assert_client_error(response, 403, "LICENSE_EXPIRED", "License expired")


async def activation_license(api: Api, **changes: Any) -> dict[str, Any]:
    license_ = await create_license(
        api, expirationType="DURATION", expirationStart="ACTIVATION", expirationDays=5, **changes
    )
    assert license_["expirationDate"] is None
    return license_


async def test_first_success_starts_a_duration_clock(client_api: ClientApi, api: Api) -> None:
    license_ = await activation_license(api)
    before = utcnow()
    assert_valid(await client_api.verify({"licenseKey": key_of(license_)}))
    after = utcnow()
    started = parse_time((await get_license(api, license_["id"]))["expirationDate"])
    assert before + timedelta(days=5) - timedelta(seconds=1) <= started
    assert started <= after + timedelta(days=5) + timedelta(seconds=1)


async def test_running_duration_clock_is_not_restarted(client_api: ClientApi, api: Api) -> None:
    license_ = await activation_license(api)
    assert_valid(await client_api.verify({"licenseKey": key_of(license_)}))
    started = (await get_license(api, license_["id"]))["expirationDate"]
    assert_valid(await client_api.verify({"licenseKey": key_of(license_)}))
    assert (await get_license(api, license_["id"]))["expirationDate"] == started


async def test_expiry_is_reported_before_the_ip_limit(
    client_api: ClientApi, api: Api, runtime: Runtime, peer: PeerFactory
) -> None:
    license_ = await date_license(api, ipLimit=1)
    assert_valid(await client_api.verify({"licenseKey": key_of(license_)}))
    await expire(runtime, license_["id"])
    other = await peer("203.0.113.20")
    response = await other.verify({"licenseKey": key_of(license_)})
    assert_client_error(response, 403, "LICENSE_EXPIRED", "License expired")


# --- IP and HWID limits (rows 17–18) -----------------------------------------------------------


async def test_new_ip_over_the_ip_limit_is_403(
    client_api: ClientApi, api: Api, peer: PeerFactory
) -> None:
    license_ = await create_license(api, ipLimit=1)
    assert_valid(await client_api.verify({"licenseKey": key_of(license_)}))
    other = await peer("203.0.113.20")
    response = await other.verify({"licenseKey": key_of(license_)})
    assert_client_error(response, 403, "IP_LIMIT_REACHED", "IP limit reached")
    assert [record["ip"] for record in await ip_addresses(api, license_["id"])] == [DEFAULT_PEER]


async def test_known_ip_passes_at_the_ip_limit(
    client_api: ClientApi, api: Api, peer: PeerFactory
) -> None:
    license_ = await create_license(api, ipLimit=2)
    assert_valid(await client_api.verify({"licenseKey": key_of(license_)}))
    assert_valid(await (await peer("203.0.113.20")).verify({"licenseKey": key_of(license_)}))
    assert_valid(await client_api.verify({"licenseKey": key_of(license_)}))
    third = await (await peer("203.0.113.30")).verify({"licenseKey": key_of(license_)})
    assert_client_error(third, 403, "IP_LIMIT_REACHED", "IP limit reached")


async def test_forgotten_ip_frees_its_slot(
    client_api: ClientApi, api: Api, peer: PeerFactory
) -> None:
    license_ = await create_license(api, ipLimit=1)
    assert_valid(await client_api.verify({"licenseKey": key_of(license_)}))
    (record,) = await ip_addresses(api, license_["id"])
    await forget_device(api, license_["id"], "ip-address", record["id"])
    assert_valid(await (await peer("203.0.113.20")).verify({"licenseKey": key_of(license_)}))


async def test_returning_forgotten_ip_is_remembered(client_api: ClientApi, api: Api) -> None:
    license_ = await create_license(api)
    assert_valid(await client_api.verify({"licenseKey": key_of(license_)}))
    (record,) = await ip_addresses(api, license_["id"])
    await forget_device(api, license_["id"], "ip-address", record["id"])
    assert_valid(await client_api.verify({"licenseKey": key_of(license_)}))
    (again,) = await ip_addresses(api, license_["id"])
    assert again["id"] == record["id"]
    assert again["forgotten"] is False
    assert again["forgottenAt"] is None
    assert parse_time(again["lastSeenAt"]) >= parse_time(record["lastSeenAt"])


async def test_ip_seen_before_the_ip_timeout_frees_its_slot(
    client_api: ClientApi, api: Api, runtime: Runtime, team: TeamCredentials, peer: PeerFactory
) -> None:
    await set_team_settings(runtime, team.team_id, ip_timeout=5)
    license_ = await create_license(api, ipLimit=1)
    assert_valid(await client_api.verify({"licenseKey": key_of(license_)}))
    await age_devices(runtime, IpAddress, minutes=6)
    assert_valid(await (await peer("203.0.113.20")).verify({"licenseKey": key_of(license_)}))


async def test_ip_seen_within_the_ip_timeout_still_counts(
    client_api: ClientApi, api: Api, runtime: Runtime, team: TeamCredentials, peer: PeerFactory
) -> None:
    await set_team_settings(runtime, team.team_id, ip_timeout=5)
    license_ = await create_license(api, ipLimit=1)
    assert_valid(await client_api.verify({"licenseKey": key_of(license_)}))
    await age_devices(runtime, IpAddress, minutes=4)
    response = await (await peer("203.0.113.20")).verify({"licenseKey": key_of(license_)})
    assert_client_error(response, 403, "IP_LIMIT_REACHED", "IP limit reached")


async def test_old_ip_counts_forever_without_an_ip_timeout(
    client_api: ClientApi, api: Api, runtime: Runtime, peer: PeerFactory
) -> None:
    license_ = await create_license(api, ipLimit=1)
    assert_valid(await client_api.verify({"licenseKey": key_of(license_)}))
    await age_devices(runtime, IpAddress, minutes=60 * 24 * 365)
    response = await (await peer("203.0.113.20")).verify({"licenseKey": key_of(license_)})
    assert_client_error(response, 403, "IP_LIMIT_REACHED", "IP limit reached")


async def test_ip_limit_is_per_license(client_api: ClientApi, api: Api, peer: PeerFactory) -> None:
    first = await create_license(api, ipLimit=1)
    second = await create_license(api, ipLimit=1)
    assert_valid(await client_api.verify({"licenseKey": key_of(first)}))
    assert_valid(await (await peer("203.0.113.20")).verify({"licenseKey": key_of(second)}))


async def test_new_hwid_over_the_hwid_limit_is_403(client_api: ClientApi, api: Api) -> None:
    license_ = await create_license(api, hwidLimit=1)
    assert_valid(
        await client_api.verify({"licenseKey": key_of(license_), "hardwareIdentifier": HWID})
    )
    response = await client_api.verify(
        {"licenseKey": key_of(license_), "hardwareIdentifier": OTHER_HWID}
    )
    assert_client_error(response, 403, "HWID_LIMIT_REACHED", "HWID limit reached")
    assert [record["hwid"] for record in await hwids(api, license_["id"])] == [HWID]


async def test_known_hwid_passes_at_the_hwid_limit(client_api: ClientApi, api: Api) -> None:
    license_ = await create_license(api, hwidLimit=1)
    body = {"licenseKey": key_of(license_), "hardwareIdentifier": HWID}
    assert_valid(await client_api.verify(body))
    assert_valid(await client_api.verify(body))


async def test_hwid_is_compared_exactly(client_api: ClientApi, api: Api) -> None:
    license_ = await create_license(api, hwidLimit=1)
    assert_valid(
        await client_api.verify({"licenseKey": key_of(license_), "hardwareIdentifier": HWID})
    )
    response = await client_api.verify(
        {"licenseKey": key_of(license_), "hardwareIdentifier": HWID.upper()}
    )
    assert_client_error(response, 403, "HWID_LIMIT_REACHED", "HWID limit reached")


async def test_hwid_limit_is_skipped_without_a_hwid(client_api: ClientApi, api: Api) -> None:
    license_ = await create_license(api, hwidLimit=1)
    assert_valid(
        await client_api.verify({"licenseKey": key_of(license_), "hardwareIdentifier": HWID})
    )
    assert_valid(await client_api.verify({"licenseKey": key_of(license_)}))
    assert len(await hwids(api, license_["id"])) == 1


async def test_forgotten_hwid_frees_its_slot(client_api: ClientApi, api: Api) -> None:
    license_ = await create_license(api, hwidLimit=1)
    assert_valid(
        await client_api.verify({"licenseKey": key_of(license_), "hardwareIdentifier": HWID})
    )
    (record,) = await hwids(api, license_["id"])
    await forget_device(api, license_["id"], "hwid", record["id"])
    assert_valid(
        await client_api.verify({"licenseKey": key_of(license_), "hardwareIdentifier": OTHER_HWID})
    )


async def test_returning_forgotten_hwid_is_remembered(client_api: ClientApi, api: Api) -> None:
    license_ = await create_license(api)
    body = {"licenseKey": key_of(license_), "hardwareIdentifier": HWID}
    assert_valid(await client_api.verify(body))
    (record,) = await hwids(api, license_["id"])
    await forget_device(api, license_["id"], "hwid", record["id"])
    assert_valid(await client_api.verify(body))
    (again,) = await hwids(api, license_["id"])
    assert (again["id"], again["forgotten"], again["forgottenAt"]) == (record["id"], False, None)


async def test_hwid_seen_before_the_hwid_timeout_frees_its_slot(
    client_api: ClientApi, api: Api, runtime: Runtime, team: TeamCredentials
) -> None:
    await set_team_settings(runtime, team.team_id, hwid_timeout=5)
    license_ = await create_license(api, hwidLimit=1)
    assert_valid(
        await client_api.verify({"licenseKey": key_of(license_), "hardwareIdentifier": HWID})
    )
    await age_devices(runtime, HardwareIdentifier, minutes=6)
    assert_valid(
        await client_api.verify({"licenseKey": key_of(license_), "hardwareIdentifier": OTHER_HWID})
    )


async def test_hwid_seen_within_the_hwid_timeout_still_counts(
    client_api: ClientApi, api: Api, runtime: Runtime, team: TeamCredentials
) -> None:
    await set_team_settings(runtime, team.team_id, hwid_timeout=5)
    license_ = await create_license(api, hwidLimit=1)
    assert_valid(
        await client_api.verify({"licenseKey": key_of(license_), "hardwareIdentifier": HWID})
    )
    await age_devices(runtime, HardwareIdentifier, minutes=4)
    response = await client_api.verify(
        {"licenseKey": key_of(license_), "hardwareIdentifier": OTHER_HWID}
    )
    assert_client_error(response, 403, "HWID_LIMIT_REACHED", "HWID limit reached")


async def test_ip_limit_is_reported_before_the_hwid_limit(
    client_api: ClientApi, api: Api, peer: PeerFactory
) -> None:
    license_ = await create_license(api, ipLimit=1, hwidLimit=1)
    assert_valid(
        await client_api.verify({"licenseKey": key_of(license_), "hardwareIdentifier": HWID})
    )
    response = await (await peer("203.0.113.20")).verify(
        {"licenseKey": key_of(license_), "hardwareIdentifier": OTHER_HWID}
    )
    assert_client_error(response, 403, "IP_LIMIT_REACHED", "IP limit reached")


# --- Release set R (rows 19–21) ----------------------------------------------------------------


@dataclass(frozen=True)
class Catalogue:
    product_id: str
    license_key: str
    license_id: str
    releases: dict[tuple[str | None, str], dict[str, Any]]


@pytest.fixture
async def catalogue(api: Api, product_id: str) -> Catalogue:
    """Default branch: 1.0.0 (latest), 1.1.0 DRAFT, 0.9.0 DEPRECATED, 0.8.0 ARCHIVED, 1.2.0
    restricted to another license, 1.3.0 without a file. `beta`: 2.0.0-beta.1 (latest).
    `drafts`: one DRAFT release only."""
    beta = await api.create_branch(product_id, "beta")
    drafts = await api.create_branch(product_id, "drafts")
    license_ = await create_license(api, productIds=[product_id])
    someone_else = await create_license(api, productIds=[product_id])
    releases: dict[tuple[str | None, str], dict[str, Any]] = {}
    for branch, branch_id, version, options in [
        (None, None, "1.0.0", {"latest": True}),
        (None, None, "1.1.0", {"status": "DRAFT"}),
        (None, None, "0.9.0", {"status": "DEPRECATED"}),
        (None, None, "0.8.0", {"status": "ARCHIVED"}),
        (None, None, "1.2.0", {"license_ids": [someone_else["id"]]}),
        (None, None, "1.3.0", {"file": None}),
        ("beta", beta, "2.0.0-beta.1", {"latest": True}),
        ("drafts", drafts, "3.0.0", {"status": "DRAFT"}),
    ]:
        releases[(branch, version)] = await create_release(
            api, product_id, version, branch_id=branch_id, **options
        )
    return Catalogue(product_id, key_of(license_), license_["id"], releases)


NOT_FOUND_VERSION = (404, "RELEASE_NOT_FOUND", "Release not found with specified version")
BRANCH_NOT_FOUND = (404, "RELEASE_NOT_FOUND", "Branch not found")
NO_RELEASES = (404, "RELEASE_NOT_FOUND", "No releases found for this branch")


@pytest.mark.parametrize(
    ("branch", "version", "expected"),
    [
        pytest.param(None, None, None, id="default-any"),
        pytest.param(None, "1.0.0", None, id="default-latest"),
        pytest.param(None, "1.2.0", None, id="default-restricted-is-ignored"),
        pytest.param(None, "1.3.0", None, id="default-without-file"),
        pytest.param(None, "1.1.0", NOT_FOUND_VERSION, id="default-draft"),
        pytest.param(None, "0.9.0", NOT_FOUND_VERSION, id="default-deprecated"),
        pytest.param(None, "0.8.0", NOT_FOUND_VERSION, id="default-archived"),
        pytest.param(None, "2.0.0-beta.1", NOT_FOUND_VERSION, id="default-never-mixes-branches"),
        pytest.param(None, "9.9.9", NOT_FOUND_VERSION, id="default-unknown"),
        pytest.param("beta", None, None, id="beta-any"),
        pytest.param("beta", "2.0.0-beta.1", None, id="beta-latest"),
        pytest.param("beta", "2.0.0-BETA.1", NOT_FOUND_VERSION, id="beta-version-case"),
        pytest.param("beta", "1.0.0", NOT_FOUND_VERSION, id="beta-default-version"),
        pytest.param("Beta", None, BRANCH_NOT_FOUND, id="branch-case"),
        pytest.param("nope", None, BRANCH_NOT_FOUND, id="branch-unknown"),
        pytest.param("nope", "9.9.9", BRANCH_NOT_FOUND, id="branch-before-version"),
        pytest.param("drafts", None, NO_RELEASES, id="branch-without-published"),
        pytest.param("drafts", "9.9.9", NO_RELEASES, id="no-releases-before-version"),
    ],
)
async def test_release_set_is_the_published_releases_of_the_selected_branch(
    client_api: ClientApi,
    catalogue: Catalogue,
    branch: str | None,
    version: str | None,
    expected: tuple[int, str, str] | None,
) -> None:
    body: dict[str, Any] = {"licenseKey": catalogue.license_key, "productId": catalogue.product_id}
    if branch is not None:
        body["branch"] = branch
    if version is not None:
        body["version"] = version
    response = await client_api.verify(body)
    if expected is None:
        assert_valid(response)
    else:
        assert_client_error(response, *expected)


async def test_branch_and_version_are_ignored_without_a_product_id(
    client_api: ClientApi, catalogue: Catalogue
) -> None:
    body = {"licenseKey": catalogue.license_key, "branch": "nope", "version": "9.9.9"}
    assert_valid(await client_api.verify(body))


async def test_branch_is_ignored_when_no_product_is_matched(
    client_api: ClientApi, api: Api, catalogue: Catalogue
) -> None:
    # A license without products passes any productId, but matches no product: R is empty.
    unlinked = await create_license(api)
    body = {
        "licenseKey": key_of(unlinked),
        "productId": catalogue.product_id,
        "branch": "nope",
        "version": "9.9.9",
    }
    assert_valid(await client_api.verify(body))


async def test_strict_releases_requires_a_version_when_the_set_is_not_empty(
    client_api: ClientApi, runtime: Runtime, team: TeamCredentials, catalogue: Catalogue
) -> None:
    await set_team_settings(runtime, team.team_id, strict_releases=True)
    body = {"licenseKey": catalogue.license_key, "productId": catalogue.product_id}
    assert_client_error(await client_api.verify(body), *NOT_FOUND_VERSION)
    assert_valid(await client_api.verify({**body, "version": "1.0.0"}))


async def test_strict_releases_passes_when_the_set_is_empty(
    client_api: ClientApi,
    api: Api,
    runtime: Runtime,
    team: TeamCredentials,
    license_: dict[str, Any],
    product_id: str,
) -> None:
    await set_team_settings(runtime, team.team_id, strict_releases=True)
    await create_release(api, product_id, "1.0.0", status="DRAFT")
    body = {"licenseKey": key_of(license_), "productId": product_id}
    assert_valid(await client_api.verify(body))
    assert_valid(await client_api.verify({"licenseKey": key_of(license_)}))


# --- Improvement (order): release questions only for a license in good standing -------------


async def test_suspended_license_asking_for_an_unknown_branch_is_told_suspended(
    client_api: ClientApi, api: Api, catalogue: Catalogue
) -> None:
    await suspend_license(api, catalogue.license_id)
    body = {
        "licenseKey": catalogue.license_key,
        "productId": catalogue.product_id,
        "branch": "nope",
    }
    assert_client_error(
        await client_api.verify(body), 403, "LICENSE_SUSPENDED", "License suspended"
    )


async def test_expired_license_asking_for_an_unknown_version_is_told_expired(
    client_api: ClientApi, api: Api, runtime: Runtime, catalogue: Catalogue
) -> None:
    license_ = await date_license(api, productIds=[catalogue.product_id])
    await expire(runtime, license_["id"])
    body = {
        "licenseKey": key_of(license_),
        "productId": catalogue.product_id,
        "version": "9.9.9",
    }
    assert_client_error(await client_api.verify(body), 403, "LICENSE_EXPIRED", "License expired")


async def test_over_the_hwid_limit_asking_for_an_unknown_branch_is_told_the_limit(
    client_api: ClientApi, api: Api, product_id: str, catalogue: Catalogue
) -> None:
    license_ = await create_license(api, productIds=[product_id], hwidLimit=1)
    base = {"licenseKey": key_of(license_), "productId": product_id}
    assert_valid(await client_api.verify({**base, "hardwareIdentifier": HWID}))
    response = await client_api.verify({**base, "hardwareIdentifier": OTHER_HWID, "branch": "nope"})
    assert_client_error(response, 403, "HWID_LIMIT_REACHED", "HWID limit reached")


# --- Success (§3.4, §5) ------------------------------------------------------------------------


async def test_success_is_valid_with_null_data_and_no_challenge_response(
    client_api: ClientApi, license_: dict[str, Any]
) -> None:
    response = await client_api.verify({"licenseKey": key_of(license_)})
    assert response.headers["content-type"].startswith("application/json")
    assert_valid(response)


async def test_challenge_is_signed_with_the_team_key(
    client_api: ClientApi, license_: dict[str, Any]
) -> None:
    response = await client_api.verify({"licenseKey": key_of(license_), "challenge": CHALLENGE})
    assert response.status_code == 200, response.text
    payload = response.json()
    signature = payload["result"]["challengeResponse"]
    assert payload == {
        "data": None,
        "result": {
            "timestamp": payload["result"]["timestamp"],
            "valid": True,
            "details": "License is valid",
            "code": "VALID",
            "challengeResponse": signature,
        },
    }
    assert len(signature) == 512
    assert signature == signature.lower()
    verify_challenge(client_api.public_key, CHALLENGE, signature)
    with pytest.raises(InvalidSignature):
        verify_challenge(client_api.public_key, CHALLENGE + "x", signature)


async def test_challenge_signature_is_deterministic(
    client_api: ClientApi, license_: dict[str, Any]
) -> None:
    body = {"licenseKey": key_of(license_), "challenge": CHALLENGE}
    first = (await client_api.verify(body)).json()["result"]["challengeResponse"]
    second = (await client_api.verify(body)).json()["result"]["challengeResponse"]
    assert first == second


async def test_challenge_is_signed_over_its_utf8_bytes(
    client_api: ClientApi, license_: dict[str, Any]
) -> None:
    challenge = "ünïcødé-" + EMOJI * 3
    response = await client_api.verify({"licenseKey": key_of(license_), "challenge": challenge})
    assert response.status_code == 200, response.text
    verify_challenge(
        client_api.public_key, challenge, response.json()["result"]["challengeResponse"]
    )


async def test_failure_never_carries_a_challenge_response(client_api: ClientApi, api: Api) -> None:
    license_ = await create_license(api, suspended=True)
    response = await client_api.verify({"licenseKey": key_of(license_), "challenge": CHALLENGE})
    assert_client_error(response, 403, "LICENSE_SUSPENDED", "License suspended")


async def test_success_records_the_hwid_and_the_ip(
    client_api: ClientApi, api: Api, license_: dict[str, Any]
) -> None:
    before = utcnow()
    assert_valid(
        await client_api.verify({"licenseKey": key_of(license_), "hardwareIdentifier": HWID})
    )
    (hwid,) = await hwids(api, license_["id"])
    (ip,) = await ip_addresses(api, license_["id"])
    assert (hwid["hwid"], hwid["forgotten"], hwid["status"]) == (HWID, False, "active")
    assert (ip["ip"], ip["forgotten"], ip["status"]) == (DEFAULT_PEER, False, "active")
    assert parse_time(hwid["lastSeenAt"]) >= before - timedelta(milliseconds=1)
    assert parse_time(ip["lastSeenAt"]) >= before - timedelta(milliseconds=1)


async def test_repeat_success_updates_one_record_each(
    client_api: ClientApi, api: Api, runtime: Runtime, license_: dict[str, Any]
) -> None:
    body = {"licenseKey": key_of(license_), "hardwareIdentifier": HWID}
    assert_valid(await client_api.verify(body))
    await age_devices(runtime, HardwareIdentifier, minutes=10)
    await age_devices(runtime, IpAddress, minutes=10)
    before = utcnow()
    assert_valid(await client_api.verify(body))
    (hwid,) = await hwids(api, license_["id"])
    (ip,) = await ip_addresses(api, license_["id"])
    assert parse_time(hwid["lastSeenAt"]) >= before - timedelta(milliseconds=1)
    assert parse_time(ip["lastSeenAt"]) >= before - timedelta(milliseconds=1)


async def test_success_touches_last_active_at_when_older_than_three_minutes(
    client_api: ClientApi, api: Api, runtime: Runtime, license_: dict[str, Any]
) -> None:
    await set_license_dates(runtime, license_["id"], last_active_at=utcnow() - timedelta(minutes=4))
    before = utcnow()
    assert_valid(await client_api.verify({"licenseKey": key_of(license_)}))
    touched = parse_time((await get_license(api, license_["id"]))["lastActiveAt"])
    assert touched >= before - timedelta(milliseconds=1)


async def test_success_leaves_a_recent_last_active_at_alone(
    client_api: ClientApi, api: Api, runtime: Runtime, license_: dict[str, Any]
) -> None:
    recent = utcnow() - timedelta(minutes=2)
    await set_license_dates(runtime, license_["id"], last_active_at=recent)
    assert_valid(await client_api.verify({"licenseKey": key_of(license_)}))
    assert parse_time((await get_license(api, license_["id"]))["lastActiveAt"]) == recent


async def test_success_marks_the_matched_version_as_seen(
    client_api: ClientApi, api: Api, catalogue: Catalogue
) -> None:
    before = utcnow()
    body = {
        "licenseKey": catalogue.license_key,
        "productId": catalogue.product_id,
        "version": "1.2.0",
    }
    assert_valid(await client_api.verify(body))
    seen = await get_release(api, catalogue.releases[(None, "1.2.0")]["id"])
    latest = await get_release(api, catalogue.releases[(None, "1.0.0")]["id"])
    assert parse_time(seen["lastSeenAt"]) >= before - timedelta(milliseconds=1)
    assert latest["lastSeenAt"] is None


async def test_success_without_version_marks_the_branch_latest_as_seen(
    client_api: ClientApi, api: Api, catalogue: Catalogue
) -> None:
    body = {
        "licenseKey": catalogue.license_key,
        "productId": catalogue.product_id,
        "branch": "beta",
    }
    assert_valid(await client_api.verify(body))
    beta = await get_release(api, catalogue.releases[("beta", "2.0.0-beta.1")]["id"])
    default = await get_release(api, catalogue.releases[(None, "1.0.0")]["id"])
    assert beta["lastSeenAt"] is not None
    assert default["lastSeenAt"] is None


# --- No side effects on failure (§3.4, §3.3 expiry) -------------------------------------------


async def test_failed_release_check_writes_nothing(
    client_api: ClientApi, api: Api, catalogue: Catalogue
) -> None:
    body = {
        "licenseKey": catalogue.license_key,
        "productId": catalogue.product_id,
        "version": "9.9.9",
        "hardwareIdentifier": HWID,
    }
    before = await get_license(api, catalogue.license_id)
    assert_client_error(await client_api.verify(body), *NOT_FOUND_VERSION)
    assert await hwids(api, catalogue.license_id) == []
    assert await ip_addresses(api, catalogue.license_id) == []
    assert (await get_license(api, catalogue.license_id))["lastActiveAt"] == before["lastActiveAt"]
    for release in catalogue.releases.values():
        assert (await get_release(api, release["id"]))["lastSeenAt"] is None


async def test_failed_limit_check_writes_nothing(client_api: ClientApi, api: Api) -> None:
    license_ = await create_license(api, hwidLimit=1)
    assert_valid(
        await client_api.verify({"licenseKey": key_of(license_), "hardwareIdentifier": HWID})
    )
    (ip_before,) = await ip_addresses(api, license_["id"])
    response = await client_api.verify(
        {"licenseKey": key_of(license_), "hardwareIdentifier": OTHER_HWID}
    )
    assert_client_error(response, 403, "HWID_LIMIT_REACHED", "HWID limit reached")
    assert [record["hwid"] for record in await hwids(api, license_["id"])] == [HWID]
    (ip_after,) = await ip_addresses(api, license_["id"])
    assert ip_after["lastSeenAt"] == ip_before["lastSeenAt"]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({"branch": "nope"}, BRANCH_NOT_FOUND, id="branch"),
        pytest.param({"version": "9.9.9"}, NOT_FOUND_VERSION, id="version"),
        pytest.param(
            {"productId": "00000000-0000-4000-8000-000000000000"},
            (404, "PRODUCT_NOT_FOUND", "Product not found"),
            id="product",
        ),
    ],
)
async def test_duration_clock_does_not_start_when_a_later_check_fails(
    client_api: ClientApi,
    api: Api,
    catalogue: Catalogue,
    fields: dict[str, str],
    expected: tuple[int, str, str],
) -> None:
    license_ = await activation_license(api, productIds=[catalogue.product_id])
    body = {"licenseKey": key_of(license_), "productId": catalogue.product_id, **fields}
    assert_client_error(await client_api.verify(body), *expected)
    after = await get_license(api, license_["id"])
    assert (after["expirationDate"], after["status"]) == (None, "UPCOMING")
