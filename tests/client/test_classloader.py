"""GET/HEAD …/verification/classloader (client-api.md §4): parameters, ordered checks, release
selection, the encrypted stream and its headers, and side effects."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from releasegate.customers.service import create_customer
from releasegate.kit.clock import utcnow
from releasegate.runtime import Runtime
from tests.fixtures.api import Api, TeamCredentials, jar_bytes
from tests.fixtures.client_api import (
    CHUNK,
    DEFAULT_PEER,
    HWID,
    OTHER_HWID,
    UNKNOWN_KEY,
    ClientApi,
    PeerFactory,
    SessionKey,
    assert_client_error,
    assert_rate_limited,
    create_license,
    create_release,
    decrypt_frames,
    delete_team,
    encrypted_length,
    frame_lengths,
    get_license,
    get_release,
    hwids,
    ip_addresses,
    make_session_key,
    oaep,
    parse_time,
    set_license_dates,
    set_team_settings,
    suspend_license,
)

FORMAT = "License key must be in the format of XXXXX-XXXXX-XXXXX-XXXXX-XXXXX"
BRANCH_PATTERN = "Branch name must contain only letters, numbers, dashes, and underscores"
FORBIDDEN = "Using classloader requires a higher plan. Either upgrade or contact support."
CONTENT = bytes(j % 251 for j in range(150_000))  # §8.4: three frames
UNKNOWN_UUID = "00000000-0000-4000-8000-000000000000"
UNDECRYPTABLE = "5a" * 256

ERRORS = {
    "branch": (404, "RELEASE_NOT_FOUND", "Branch not found"),
    "no-releases": (404, "RELEASE_NOT_FOUND", "No releases found for this branch"),
    "release": (404, "RELEASE_NOT_FOUND", "Release not found"),
    "archived": (403, "RELEASE_ARCHIVED", "Release is archived"),
    "draft": (403, "RELEASE_DRAFT", "Release is draft"),
    "no-access": (
        403,
        "NO_ACCESS_TO_RELEASE",
        "License does not have access to this release",
    ),
    "file": (404, "RELEASE_NOT_FOUND", "File not found"),
    "suspended": (403, "LICENSE_SUSPENDED", "License suspended"),
    "expired": (403, "LICENSE_EXPIRED", "License expired"),
    "product": (404, "PRODUCT_NOT_FOUND", "Product not found"),
    "customer": (404, "CUSTOMER_NOT_FOUND", "Customer not found"),
    "license": (404, "LICENSE_NOT_FOUND", "License not found"),
    "session": (400, "INVALID_SESSION_KEY", "Invalid session key"),
    "ip-limit": (403, "IP_LIMIT_REACHED", "IP limit reached"),
    "hwid-limit": (403, "HWID_LIMIT_REACHED", "HWID limit reached"),
}


@dataclass(frozen=True)
class Published:
    """A product, a license linked to it and its latest release (with CONTENT as the file)."""

    product_id: str
    license: dict[str, Any]
    release: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return str(self.license["licenseKey"])


@pytest.fixture
async def published(api: Api, product_id: str, license_: dict[str, Any]) -> Published:
    release = await create_release(api, product_id, "1.0.0", latest=True, file=CONTENT)
    return Published(product_id, license_, release)


def params(published: Published, session: SessionKey | None = None, **extra: str) -> dict[str, str]:
    """The four required parameters; without `session`, a 512-hex key that decrypts to nothing."""
    values = {
        "licenseKey": published.key,
        "productId": published.product_id,
        "sessionKey": session.session_key if session else UNDECRYPTABLE,
        "hardwareIdentifier": HWID,
    }
    values.update(extra)
    return values


async def get(
    client_api: ClientApi, published: Published, **extra: str
) -> tuple[httpx.Response, SessionKey]:
    session = client_api.session_key()
    return await client_api.classloader(params(published, session, **extra)), session


def assert_served(response: httpx.Response, session: SessionKey, content: bytes) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-length"] == str(encrypted_length(len(content)))
    assert decrypt_frames(response.content, session) == content


async def no_side_effects(api: Api, license_id: str, release_ids: list[str]) -> None:
    assert await hwids(api, license_id) == []
    assert await ip_addresses(api, license_id) == []
    for release_id in release_ids:
        assert (await get_release(api, release_id))["lastSeenAt"] is None


# --- HEAD (§4.1) --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "team_id", [None, "not-a-uuid", UNKNOWN_UUID], ids=["team", "malformed", "unknown"]
)
@pytest.mark.parametrize("query", ["", "licenseKey=bad&sessionKey=x"], ids=["bare", "bad-params"])
async def test_head_is_always_200_with_no_body(
    client_api: ClientApi, team_id: str | None, query: str
) -> None:
    response = await client_api.classloader(query, team_id=team_id, method="HEAD")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.content == b""


async def test_head_performs_no_checks_and_has_no_side_effects(
    client_api: ClientApi, api: Api, runtime: Runtime, team: TeamCredentials, published: Published
) -> None:
    await set_team_settings(runtime, team.team_id, allow_classloader=False)
    session = client_api.session_key()
    head = await client_api.classloader(params(published, session), method="HEAD")
    assert (head.status_code, head.content) == (200, b"")
    await no_side_effects(api, published.license["id"], [published.release["id"]])
    await set_team_settings(runtime, team.team_id, allow_classloader=True)
    # HEAD did not record the session secret either.
    assert_served(await client_api.classloader(params(published, session)), session, CONTENT)


# --- Parameters (§4.2) --------------------------------------------------------------------------

PARAM_ISSUES = [
    pytest.param({"licenseKey": None}, "License key must be a string", id="licenseKey-missing"),
    pytest.param({"licenseKey": ""}, "License key must be a string", id="licenseKey-empty"),
    pytest.param({"licenseKey": "AAAAA-BBBBB"}, FORMAT, id="licenseKey-format"),
    pytest.param({"licenseKey": UNKNOWN_KEY.lower()}, FORMAT, id="licenseKey-lowercase"),
    pytest.param({"productId": None}, "Product UUID must be a string", id="productId-missing"),
    pytest.param({"productId": ""}, "Product UUID must be a string", id="productId-empty"),
    pytest.param({"productId": "x"}, "Product UUID must be a valid UUID", id="productId-format"),
    pytest.param({"sessionKey": None}, "Session key must be a string", id="sessionKey-missing"),
    pytest.param({"sessionKey": ""}, "Session key must be a string", id="sessionKey-empty"),
    pytest.param(
        {"sessionKey": "abcdef012"},
        "Session key must be at least 10 characters",
        id="sessionKey-9",
    ),
    pytest.param(
        {"sessionKey": "a" * 1001},
        "Session key must be less than 1000 characters",
        id="sessionKey-1001",
    ),
    pytest.param(
        {"sessionKey": "abcdef 0123"}, "Session key must not contain spaces", id="sessionKey-space"
    ),
    pytest.param(
        {"hardwareIdentifier": None},
        "Hardware identifier must be a string",
        id="hardwareIdentifier-missing",
    ),
    pytest.param(
        {"hardwareIdentifier": ""},
        "Hardware identifier must be a string",
        id="hardwareIdentifier-empty",
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
        {"hardwareIdentifier": "hwid\t0123456"},
        "Hardware identifier must not contain spaces",
        id="hardwareIdentifier-tab",
    ),
    pytest.param({"version": "1."}, "Version must be at least 3 characters", id="version-2"),
    pytest.param(
        {"version": "1" * 256}, "Version must be less than 255 characters", id="version-256"
    ),
    pytest.param({"version": "1.0 b"}, "Version must not contain spaces", id="version-space"),
    pytest.param({"branch": "b"}, "Branch name must be at least 2 characters", id="branch-1"),
    pytest.param(
        {"branch": "b" * 256}, "Branch name must be less than 255 characters", id="branch-256"
    ),
    pytest.param({"branch": "ab"}, BRANCH_PATTERN, id="branch-2-fails-the-pattern"),
    pytest.param({"branch": "be/ta"}, BRANCH_PATTERN, id="branch-slash"),
    pytest.param(
        {"customerId": "nope"}, "Customer UUID must be a valid UUID", id="customerId-format"
    ),
]


def base_params(**changes: str | None) -> dict[str, str]:
    values: dict[str, str | None] = {
        "licenseKey": UNKNOWN_KEY,
        "productId": UNKNOWN_UUID,
        "sessionKey": UNDECRYPTABLE,
        "hardwareIdentifier": HWID,
    }
    values.update(changes)
    return {name: value for name, value in values.items() if value is not None}


@pytest.mark.parametrize(("changes", "message"), PARAM_ISSUES)
async def test_parameter_issue_is_reported_with_its_message(
    client_api: ClientApi, changes: dict[str, str | None], message: str
) -> None:
    response = await client_api.classloader(base_params(**changes))
    assert_client_error(response, 400, "BAD_REQUEST", message)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param(
            {"productId": "x", "licenseKey": "bad"}, FORMAT, id="licenseKey-before-productId"
        ),
        pytest.param(
            {"sessionKey": "short", "productId": "x"},
            "Product UUID must be a valid UUID",
            id="productId-before-sessionKey",
        ),
        pytest.param(
            {"hardwareIdentifier": "short", "sessionKey": "short"},
            "Session key must be at least 10 characters",
            id="sessionKey-before-hardwareIdentifier",
        ),
        pytest.param(
            {"version": "1", "hardwareIdentifier": None},
            "Hardware identifier must be a string",
            id="hardwareIdentifier-before-version",
        ),
        pytest.param(
            {"branch": "b", "version": "1"},
            "Version must be at least 3 characters",
            id="version-before-branch",
        ),
        pytest.param(
            {"customerId": "nope", "branch": "b"},
            "Branch name must be at least 2 characters",
            id="branch-before-customerId",
        ),
    ],
)
async def test_only_the_first_issue_in_schema_order_is_reported(
    client_api: ClientApi, changes: dict[str, str | None], message: str
) -> None:
    values = base_params()
    ordered = {name: value for name, value in changes.items() if value is not None}
    for name in changes:
        values.pop(name, None)
    response = await client_api.classloader(list(ordered.items()) + list(values.items()))
    assert_client_error(response, 400, "BAD_REQUEST", message)


async def test_unknown_parameters_are_ignored(client_api: ClientApi, published: Published) -> None:
    response, session = await get(client_api, published, extra="1", licenceKey="nope")
    assert_served(response, session, CONTENT)


@pytest.mark.parametrize("name", ["version", "branch", "customerId"])
async def test_empty_optional_parameter_counts_as_absent(
    client_api: ClientApi, published: Published, name: str
) -> None:
    response, session = await get(client_api, published, **{name: ""})
    assert_served(response, session, CONTENT)
    assert response.headers["x-version"] == "1.0.0"


async def test_first_occurrence_of_a_repeated_parameter_wins(
    client_api: ClientApi, api: Api, published: Published
) -> None:
    await create_release(api, published.product_id, "1.1.0", file=b"one-one")
    session = client_api.session_key()
    query = [*params(published, session).items(), ("version", "1.1.0"), ("version", "x")]
    response = await client_api.classloader(query)
    assert_served(response, session, b"one-one")
    assert response.headers["x-version"] == "1.1.0"


async def test_first_occurrence_of_a_repeated_license_key_wins(
    client_api: ClientApi, published: Published
) -> None:
    session = client_api.session_key()
    query = [("licenseKey", "bad"), *params(published, session).items()]
    assert_client_error(await client_api.classloader(query), 400, "BAD_REQUEST", FORMAT)


async def test_device_identifier_stands_in_for_a_missing_hardware_identifier(
    client_api: ClientApi, api: Api, published: Published
) -> None:
    session = client_api.session_key()
    query = params(published, session)
    del query["hardwareIdentifier"]
    query["deviceIdentifier"] = OTHER_HWID
    assert_served(await client_api.classloader(query), session, CONTENT)
    assert [r["hwid"] for r in await hwids(api, published.license["id"])] == [OTHER_HWID]


async def test_device_identifier_stands_in_for_an_empty_hardware_identifier(
    client_api: ClientApi, api: Api, published: Published
) -> None:
    session = client_api.session_key()
    query = params(published, session, hardwareIdentifier="", deviceIdentifier=OTHER_HWID)
    assert_served(await client_api.classloader(query), session, CONTENT)
    assert [r["hwid"] for r in await hwids(api, published.license["id"])] == [OTHER_HWID]


async def test_hardware_identifier_wins_over_device_identifier(
    client_api: ClientApi, api: Api, published: Published
) -> None:
    session = client_api.session_key()
    query = params(published, session, deviceIdentifier=OTHER_HWID)
    assert_served(await client_api.classloader(query), session, CONTENT)
    assert [r["hwid"] for r in await hwids(api, published.license["id"])] == [HWID]


async def test_device_identifier_in_place_is_validated_as_hardware_identifier(
    client_api: ClientApi,
) -> None:
    query = base_params(hardwareIdentifier=None)
    query["deviceIdentifier"] = "short"
    assert_client_error(
        await client_api.classloader(query),
        400,
        "BAD_REQUEST",
        "Hardware identifier must be at least 10 characters",
    )


# --- Ordered checks, rows 1–9 (§4.3) ------------------------------------------------------------


async def test_malformed_team_id_is_400_before_the_parameters(client_api: ClientApi) -> None:
    response = await client_api.classloader("", team_id="not-a-uuid")
    assert_client_error(response, 400, "BAD_REQUEST", "Invalid team UUID")


async def test_parameters_are_checked_before_the_team_exists(client_api: ClientApi) -> None:
    response = await client_api.classloader(base_params(licenseKey="bad"), team_id=UNKNOWN_UUID)
    assert_client_error(response, 400, "BAD_REQUEST", FORMAT)


async def test_unknown_team_is_404(client_api: ClientApi) -> None:
    response = await client_api.classloader(base_params(), team_id=UNKNOWN_UUID)
    assert_client_error(response, 404, "TEAM_NOT_FOUND", "Team not found")


async def test_deleted_team_is_404(
    client_api: ClientApi, runtime: Runtime, team: TeamCredentials, published: Published
) -> None:
    await delete_team(runtime, team.team_id)
    response, _ = await get(client_api, published)
    assert_client_error(response, 404, "TEAM_NOT_FOUND", "Team not found")


async def test_team_without_classloader_is_403_before_the_session_key(
    client_api: ClientApi, runtime: Runtime, team: TeamCredentials, published: Published
) -> None:
    await set_team_settings(runtime, team.team_id, allow_classloader=False)
    response = await client_api.classloader(params(published))  # undecryptable session key
    assert_client_error(response, 403, "FORBIDDEN", FORBIDDEN)


async def test_refused_team_does_not_use_up_the_session_key(
    client_api: ClientApi, runtime: Runtime, team: TeamCredentials, published: Published
) -> None:
    await set_team_settings(runtime, team.team_id, allow_classloader=False)
    session = client_api.session_key()
    response = await client_api.classloader(params(published, session))
    assert_client_error(response, 403, "FORBIDDEN", FORBIDDEN)
    await set_team_settings(runtime, team.team_id, allow_classloader=True)
    assert_served(await client_api.classloader(params(published, session)), session, CONTENT)


def unrelated_public_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem.decode("ascii")


BAD_SESSION_KEYS: dict[str, Callable[[str], str]] = {
    "oaep-sha256": lambda pem: make_session_key(pem, scheme=oaep(hashes.SHA256())).session_key,
    "pkcs1v15": lambda pem: make_session_key(pem, scheme=padding.PKCS1v15()).session_key,
    "510-hex": lambda pem: make_session_key(pem).session_key[:510],
    "514-hex": lambda pem: make_session_key(pem).session_key + "00",
    "non-hex": lambda pem: make_session_key(pem).session_key[:-1] + "g",
    "15-byte-secret": lambda pem: make_session_key(pem, size=15).session_key,
    "undecryptable-block": lambda pem: UNDECRYPTABLE,
    "10-hex": lambda pem: "0123456789",
    "another-key": lambda pem: make_session_key(unrelated_public_key()).session_key,
}


@pytest.mark.parametrize("case", list(BAD_SESSION_KEYS))
async def test_invalid_session_key_is_400(
    client_api: ClientApi, published: Published, case: str
) -> None:
    session_key = BAD_SESSION_KEYS[case](client_api.public_key)
    response = await client_api.classloader(params(published, sessionKey=session_key))
    assert_client_error(response, 400, "INVALID_SESSION_KEY", "Invalid session key")


async def test_invalid_session_key_is_reported_before_the_license(client_api: ClientApi) -> None:
    response = await client_api.classloader(base_params())
    assert_client_error(response, *ERRORS["session"])


async def test_invalid_session_key_does_not_use_a_replay_slot(
    client_api: ClientApi, published: Published
) -> None:
    short = make_session_key(client_api.public_key, size=15)
    for _ in range(2):
        response = await client_api.classloader(params(published, short))
        assert_client_error(response, *ERRORS["session"])


@pytest.mark.parametrize("size", [16, 32, 214])
async def test_secret_of_16_to_214_bytes_is_accepted(
    client_api: ClientApi, published: Published, size: int
) -> None:
    session = client_api.session_key(size=size)
    assert_served(await client_api.classloader(params(published, session)), session, CONTENT)


async def test_upper_case_session_key_is_accepted(
    client_api: ClientApi, published: Published
) -> None:
    session = client_api.session_key()
    upper = params(published, session, sessionKey=session.session_key.upper())
    assert_served(await client_api.classloader(upper), session, CONTENT)


async def test_replayed_session_key_is_429(client_api: ClientApi, published: Published) -> None:
    response, session = await get(client_api, published)
    assert_served(response, session, CONTENT)
    assert_rate_limited(await client_api.classloader(params(published, session)))


async def test_replay_is_keyed_by_the_secret_not_the_text(
    client_api: ClientApi, published: Published
) -> None:
    session = client_api.session_key()
    assert_served(await client_api.classloader(params(published, session)), session, CONTENT)
    again = make_session_key(client_api.public_key, session.secret)  # fresh OAEP randomness
    assert again.session_key != session.session_key
    assert_rate_limited(await client_api.classloader(params(published, again)))


async def test_session_key_is_used_up_even_when_a_later_check_fails(
    client_api: ClientApi, published: Published
) -> None:
    session = client_api.session_key()
    first = await client_api.classloader(params(published, session, licenseKey=UNKNOWN_KEY))
    assert_client_error(first, *ERRORS["license"])
    assert_rate_limited(await client_api.classloader(params(published, session)))


async def test_unknown_license_is_404(client_api: ClientApi, published: Published) -> None:
    response, _ = await get(client_api, published, licenseKey=UNKNOWN_KEY)
    assert_client_error(response, *ERRORS["license"])


async def test_license_of_another_team_is_not_found(
    client_api: ClientApi,
    app_client: httpx.AsyncClient,
    other_team: TeamCredentials,
    published: Published,
) -> None:
    other = await create_license(Api(app_client, other_team))
    response, _ = await get(client_api, published, licenseKey=other["licenseKey"])
    assert_client_error(response, *ERRORS["license"])


# --- Standing checks, rows 13–18 ----------------------------------------------------------------


async def customer(runtime: Runtime, team: TeamCredentials, email: str) -> str:
    return str(await create_customer(runtime, uuid.UUID(team.team_id), email, None, None))


async def test_customer_id_not_among_the_license_customers_is_404(
    client_api: ClientApi, api: Api, runtime: Runtime, team: TeamCredentials, published: Published
) -> None:
    mine = await customer(runtime, team, "a@example.com")
    license_ = await create_license(api, productIds=[published.product_id], customerIds=[mine])
    other = await customer(runtime, team, "b@example.com")
    response, _ = await get(
        client_api, published, licenseKey=license_["licenseKey"], customerId=other
    )
    assert_client_error(response, *ERRORS["customer"])
    ok, session = await get(
        client_api, published, licenseKey=license_["licenseKey"], customerId=mine
    )
    assert_served(ok, session, CONTENT)


async def test_strict_customers_requires_a_customer_id(
    client_api: ClientApi, api: Api, runtime: Runtime, team: TeamCredentials, published: Published
) -> None:
    mine = await customer(runtime, team, "a@example.com")
    license_ = await create_license(api, productIds=[published.product_id], customerIds=[mine])
    await set_team_settings(runtime, team.team_id, strict_customers=True)
    response, _ = await get(client_api, published, licenseKey=license_["licenseKey"])
    assert_client_error(response, *ERRORS["customer"])


async def test_customer_check_comes_before_the_product_check(
    client_api: ClientApi, api: Api, runtime: Runtime, team: TeamCredentials, published: Published
) -> None:
    mine = await customer(runtime, team, "a@example.com")
    license_ = await create_license(api, customerIds=[mine])  # no products
    other = await customer(runtime, team, "b@example.com")
    response, _ = await get(
        client_api, published, licenseKey=license_["licenseKey"], customerId=other
    )
    assert_client_error(response, *ERRORS["customer"])


async def test_license_without_products_is_refused_any_product(
    client_api: ClientApi, api: Api, published: Published
) -> None:
    unlinked = await create_license(api)
    response, _ = await get(client_api, published, licenseKey=unlinked["licenseKey"])
    assert_client_error(response, *ERRORS["product"])


async def test_product_not_linked_to_the_license_is_404(
    client_api: ClientApi, api: Api, published: Published
) -> None:
    other = await api.create_product("Other Product")
    await create_release(api, other, "1.0.0", latest=True)
    response, _ = await get(client_api, published, productId=other)
    assert_client_error(response, *ERRORS["product"])


async def test_product_check_comes_before_suspension(
    client_api: ClientApi, api: Api, published: Published
) -> None:
    license_ = await create_license(api, suspended=True)
    response, _ = await get(client_api, published, licenseKey=license_["licenseKey"])
    assert_client_error(response, *ERRORS["product"])


async def test_suspended_license_is_403(
    client_api: ClientApi, api: Api, published: Published
) -> None:
    await suspend_license(api, published.license["id"])
    response, _ = await get(client_api, published)
    assert_client_error(response, *ERRORS["suspended"])


async def expired_license(api: Api, runtime: Runtime, product_id: str, **changes: Any) -> str:
    future = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%d")
    license_ = await create_license(
        api, productIds=[product_id], expirationType="DATE", expirationDate=future, **changes
    )
    await set_license_dates(
        runtime, license_["id"], expiration_date=utcnow() - timedelta(seconds=1)
    )
    return str(license_["licenseKey"])


async def test_expired_license_is_403(
    client_api: ClientApi, api: Api, runtime: Runtime, published: Published
) -> None:
    key = await expired_license(api, runtime, published.product_id)
    response, _ = await get(client_api, published, licenseKey=key)
    assert_client_error(response, *ERRORS["expired"])


async def test_suspension_is_reported_before_expiry(
    client_api: ClientApi, api: Api, runtime: Runtime, published: Published
) -> None:
    key = await expired_license(api, runtime, published.product_id, suspended=True)
    response, _ = await get(client_api, published, licenseKey=key)
    assert_client_error(response, *ERRORS["suspended"])


async def test_new_ip_over_the_ip_limit_is_403(
    client_api: ClientApi, api: Api, published: Published, peer: PeerFactory
) -> None:
    license_ = await create_license(api, productIds=[published.product_id], ipLimit=1)
    ok, session = await get(client_api, published, licenseKey=license_["licenseKey"])
    assert_served(ok, session, CONTENT)
    other = await peer("203.0.113.20")
    response, _ = await get(other, published, licenseKey=license_["licenseKey"])
    assert_client_error(response, *ERRORS["ip-limit"])


async def test_new_hwid_over_the_hwid_limit_is_403(
    client_api: ClientApi, api: Api, published: Published
) -> None:
    license_ = await create_license(api, productIds=[published.product_id], hwidLimit=1)
    ok, session = await get(client_api, published, licenseKey=license_["licenseKey"])
    assert_served(ok, session, CONTENT)
    response, _ = await get(
        client_api, published, licenseKey=license_["licenseKey"], hardwareIdentifier=OTHER_HWID
    )
    assert_client_error(response, *ERRORS["hwid-limit"])
    assert [r["hwid"] for r in await hwids(api, license_["id"])] == [HWID]


async def test_ip_limit_is_reported_before_the_hwid_limit(
    client_api: ClientApi, api: Api, published: Published, peer: PeerFactory
) -> None:
    license_ = await create_license(api, productIds=[published.product_id], ipLimit=1, hwidLimit=1)
    ok, session = await get(client_api, published, licenseKey=license_["licenseKey"])
    assert_served(ok, session, CONTENT)
    other = await peer("203.0.113.20")
    response, _ = await get(
        other, published, licenseKey=license_["licenseKey"], hardwareIdentifier=OTHER_HWID
    )
    assert_client_error(response, *ERRORS["ip-limit"])


# --- Release questions only for a license in good standing (Improvement, order) -------------


async def test_suspended_license_asking_for_an_unknown_branch_is_told_suspended(
    client_api: ClientApi, api: Api, published: Published
) -> None:
    await suspend_license(api, published.license["id"])
    response, _ = await get(client_api, published, branch="nope")
    assert_client_error(response, *ERRORS["suspended"])


async def test_expired_license_asking_for_a_draft_is_told_expired(
    client_api: ClientApi, api: Api, runtime: Runtime, published: Published
) -> None:
    await create_release(api, published.product_id, "2.0.0", status="DRAFT")
    key = await expired_license(api, runtime, published.product_id)
    response, _ = await get(client_api, published, licenseKey=key, version="2.0.0")
    assert_client_error(response, *ERRORS["expired"])


async def test_over_the_hwid_limit_asking_for_a_restricted_release_is_told_the_limit(
    client_api: ClientApi, api: Api, published: Published
) -> None:
    license_ = await create_license(api, productIds=[published.product_id], hwidLimit=1)
    await create_release(api, published.product_id, "2.0.0", license_ids=[published.license["id"]])
    ok, session = await get(client_api, published, licenseKey=license_["licenseKey"])
    assert_served(ok, session, CONTENT)
    response, _ = await get(
        client_api,
        published,
        licenseKey=license_["licenseKey"],
        hardwareIdentifier=OTHER_HWID,
        version="2.0.0",
    )
    assert_client_error(response, *ERRORS["hwid-limit"])


# --- Release rows 19–26 -------------------------------------------------------------------------


async def test_branch_without_any_release_with_a_file_is_404(
    client_api: ClientApi, api: Api, published: Published
) -> None:
    branch = await api.create_branch(published.product_id, "empty")
    await create_release(
        api, published.product_id, "1.0.0", branch_id=branch, file=None, latest=True
    )
    response, _ = await get(client_api, published, branch="empty")
    assert_client_error(response, *ERRORS["no-releases"])
    response, _ = await get(client_api, published, branch="empty", version="1.0.0")
    assert_client_error(response, *ERRORS["no-releases"])


async def test_version_of_a_release_without_a_file_is_not_a_candidate(
    client_api: ClientApi, api: Api, published: Published
) -> None:
    await create_release(api, published.product_id, "1.1.0", file=None)
    response, _ = await get(client_api, published, version="1.1.0")
    assert_client_error(response, *ERRORS["release"])


async def test_no_version_and_no_latest_is_404(
    client_api: ClientApi, api: Api, product_id: str, license_: dict[str, Any]
) -> None:
    await create_release(api, product_id, "1.0.0", file=b"not latest")
    published = Published(product_id, license_)
    response, _ = await get(client_api, published)
    assert_client_error(response, *ERRORS["release"])


async def test_latest_without_a_file_is_not_a_candidate(
    client_api: ClientApi, api: Api, product_id: str, license_: dict[str, Any]
) -> None:
    await create_release(api, product_id, "1.0.0", file=b"older")
    await create_release(api, product_id, "1.1.0", latest=True, file=None)
    published = Published(product_id, license_)
    response, _ = await get(client_api, published)
    assert_client_error(response, *ERRORS["release"])
    served, session = await get(client_api, published, version="1.0.0")
    assert_served(served, session, b"older")
    assert "x-latest-version" not in served.headers


async def test_deprecated_release_is_served(
    client_api: ClientApi, api: Api, published: Published
) -> None:
    await create_release(api, published.product_id, "0.9.0", status="DEPRECATED", file=b"old")
    response, session = await get(client_api, published, version="0.9.0")
    assert_served(response, session, b"old")
    assert response.headers["x-release-status"] == "DEPRECATED"
    assert response.headers["x-version"] == "0.9.0"
    assert response.headers["x-latest-version"] == "1.0.0"


@pytest.mark.parametrize(("status", "error"), [("DRAFT", "draft"), ("ARCHIVED", "archived")])
async def test_unservable_status_is_refused_after_selection(
    client_api: ClientApi, api: Api, published: Published, status: str, error: str
) -> None:
    await create_release(api, published.product_id, "2.0.0", status=status)
    response, _ = await get(client_api, published, version="2.0.0")
    assert_client_error(response, *ERRORS[error])


async def test_deleted_latest_is_not_replaced_by_another_release(
    client_api: ClientApi, api: Api, published: Published
) -> None:
    # The latest is deleted: no other release is picked in its place (§4.4 step 3, row 22).
    await create_release(api, published.product_id, "0.9.0")
    response = await api.client.delete(
        f"{api.base}/releases/{published.release['id']}", headers=api.team.headers
    )
    assert response.status_code == 200, response.text
    served, _ = await get(client_api, published)
    assert_client_error(served, *ERRORS["release"])


async def test_restricted_release_is_refused_to_other_licenses(
    client_api: ClientApi, api: Api, published: Published
) -> None:
    listed = await create_license(api, productIds=[published.product_id])
    await create_release(api, published.product_id, "2.0.0", license_ids=[listed["id"]])
    response, _ = await get(client_api, published, version="2.0.0")
    assert_client_error(response, *ERRORS["no-access"])


async def test_restricted_release_is_served_to_a_listed_license(
    client_api: ClientApi, api: Api, published: Published
) -> None:
    await create_release(
        api, published.product_id, "2.0.0", license_ids=[published.license["id"]], file=b"vip"
    )
    response, session = await get(client_api, published, version="2.0.0")
    assert_served(response, session, b"vip")
    assert response.headers["x-version"] == "2.0.0"
    assert response.headers["x-latest-version"] == "1.0.0"


async def test_missing_stored_object_is_404_with_no_side_effects(
    client_api: ClientApi, api: Api, runtime: Runtime, product_id: str
) -> None:
    license_ = await create_license(
        api,
        productIds=[product_id],
        expirationType="DURATION",
        expirationStart="ACTIVATION",
        expirationDays=3,
    )
    release = await create_release(api, product_id, "1.0.0", latest=True, file=CONTENT)
    await runtime.storage.delete(release["file"]["key"])
    response, _ = await get(client_api, Published(product_id, license_, release))
    assert_client_error(response, *ERRORS["file"])
    await no_side_effects(api, license_["id"], [release["id"]])
    assert (await get_license(api, license_["id"]))["expirationDate"] is None


async def test_failed_release_check_has_no_side_effects(
    client_api: ClientApi, api: Api, published: Published
) -> None:
    response, _ = await get(client_api, published, version="9.9.9")
    assert_client_error(response, *ERRORS["release"])
    await no_side_effects(api, published.license["id"], [published.release["id"]])


# --- Success: stream and headers (§4.5, §4.6) -------------------------------------------------


async def test_success_sends_exactly_the_documented_headers(
    client_api: ClientApi, published: Published
) -> None:
    response, session = await get(client_api, published)
    assert response.status_code == 200, response.text
    headers = dict(response.headers)
    headers.pop("x-request-id", None)
    release = published.release
    assert headers == {
        "content-type": "application/octet-stream",
        "content-length": "150096",
        "content-security-policy": "default-src 'none'",
        "x-content-type-options": "nosniff",
        "cache-control": "no-store",
        "x-file-size": "150000",
        "x-version": "1.0.0",
        "x-latest-version": "1.0.0",
        "x-product-name": "My Product",
        "x-release-status": "PUBLISHED",
        "x-release-created-at": release["createdAt"],
        "x-file-created-at": release["file"]["createdAt"],
        "x-file-sha256": hashlib.sha256(CONTENT).hexdigest(),
    }
    assert decrypt_frames(response.content, session) == CONTENT


async def test_body_is_three_frames_of_64_kib_plaintext(
    client_api: ClientApi, published: Published
) -> None:
    response, session = await get(client_api, published)
    assert response.status_code == 200, response.text
    assert frame_lengths(response.content) == [28 + CHUNK, 28 + CHUNK, 28 + 18_928]
    assert len(response.content) == 150_096
    assert decrypt_frames(response.content, session) == CONTENT


async def test_every_frame_has_a_fresh_iv(client_api: ClientApi, published: Published) -> None:
    response, _ = await get(client_api, published)
    body = response.content
    ivs = []
    offset = 0
    for length in frame_lengths(body):
        ivs.append(body[offset + 4 : offset + 16])
        offset += 4 + length
    assert len(set(ivs)) == len(ivs) == 3


async def test_body_does_not_decrypt_with_another_secret(
    client_api: ClientApi, published: Published
) -> None:
    response, _ = await get(client_api, published)
    with pytest.raises(InvalidTag):
        decrypt_frames(response.content, client_api.session_key())


async def test_content_key_is_the_hash_of_the_hex_text(
    client_api: ClientApi, published: Published
) -> None:
    secret = bytes(range(32))  # §8.2
    session = client_api.session_key(secret)
    assert session.secret_hex == "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    response = await client_api.classloader(params(published, session))
    assert_served(response, session, CONTENT)
    length = int.from_bytes(response.content[:4], "big")
    frame = response.content[4 : 4 + length]
    with pytest.raises(InvalidTag):  # not SHA-256 of the raw secret
        AESGCM(hashlib.sha256(secret).digest()).decrypt(frame[:12], frame[28:] + frame[12:28], None)


async def test_jar_main_class_is_sent(
    client_api: ClientApi, api: Api, product_id: str, license_: dict[str, Any]
) -> None:
    jar = jar_bytes("com.example.Main")
    await create_release(api, product_id, "1.0.0", latest=True, file=jar, filename="plugin.jar")
    response, session = await get(client_api, Published(product_id, license_))
    assert_served(response, session, jar)
    assert response.headers["x-main-class"] == "com.example.Main"
    assert "x-percent-encoded" not in response.headers


async def test_non_ascii_values_are_percent_encoded_and_listed(
    client_api: ClientApi, api: Api, product_id: str, license_: dict[str, Any]
) -> None:
    jar = jar_bytes("com.example.Mäin")
    await create_release(api, product_id, "1.0.0-ü~", latest=True, file=jar, filename="plugin.jar")
    response, session = await get(client_api, Published(product_id, license_))
    assert_served(response, session, jar)
    assert response.headers["x-version"] == "1.0.0-%C3%BC~"
    assert response.headers["x-latest-version"] == "1.0.0-%C3%BC~"
    assert response.headers["x-main-class"] == "com.example.M%C3%A4in"
    assert response.headers["x-product-name"] == "My Product"
    listed = {name.strip().lower() for name in response.headers["x-percent-encoded"].split(",")}
    assert listed == {"x-version", "x-latest-version", "x-main-class"}


async def test_only_the_non_ascii_header_is_listed(
    client_api: ClientApi, api: Api, product_id: str, license_: dict[str, Any]
) -> None:
    await create_release(api, product_id, "1.0.0", latest=True, file=b"x")
    await create_release(api, product_id, "0.9.0-é", file=b"y")
    response, session = await get(client_api, Published(product_id, license_), version="0.9.0-é")
    assert_served(response, session, b"y")
    assert response.headers["x-version"] == "0.9.0-%C3%A9"
    assert response.headers["x-latest-version"] == "1.0.0"
    assert response.headers["x-percent-encoded"].strip().lower() == "x-version"


async def test_empty_file_gives_an_empty_body(
    client_api: ClientApi, api: Api, product_id: str, license_: dict[str, Any]
) -> None:
    await create_release(api, product_id, "1.0.0", latest=True, file=b"", filename="empty.txt")
    response, _ = await get(client_api, Published(product_id, license_))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-length"] == "0"
    assert response.headers["x-file-size"] == "0"
    assert response.headers["x-file-sha256"] == hashlib.sha256(b"").hexdigest()
    assert response.content == b""


@pytest.mark.parametrize("size", [1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK])
async def test_content_length_is_n_plus_32_per_frame(
    client_api: ClientApi, api: Api, product_id: str, license_: dict[str, Any], size: int
) -> None:
    content = bytes(j % 7 for j in range(size))
    await create_release(api, product_id, "1.0.0", latest=True, file=content)
    response, session = await get(client_api, Published(product_id, license_))
    assert_served(response, session, content)
    assert int(response.headers["content-length"]) == size + 32 * -(-size // CHUNK)


# --- Success: side effects (§4.7) -------------------------------------------------------------


async def test_success_records_hwid_ip_release_and_starts_the_clock(
    client_api: ClientApi, api: Api, product_id: str
) -> None:
    license_ = await create_license(
        api,
        productIds=[product_id],
        expirationType="DURATION",
        expirationStart="ACTIVATION",
        expirationDays=3,
    )
    release = await create_release(api, product_id, "1.0.0", latest=True, file=b"bytes")
    before = utcnow()
    response, session = await get(client_api, Published(product_id, license_, release))
    assert_served(response, session, b"bytes")
    assert [r["hwid"] for r in await hwids(api, license_["id"])] == [HWID]
    assert [r["ip"] for r in await ip_addresses(api, license_["id"])] == [DEFAULT_PEER]
    seen = (await get_release(api, release["id"]))["lastSeenAt"]
    assert parse_time(seen) >= before - timedelta(milliseconds=1)
    expires = parse_time((await get_license(api, license_["id"]))["expirationDate"])
    assert expires >= before + timedelta(days=3) - timedelta(seconds=1)


# --- Selection grid (§8.7) ----------------------------------------------------------------------


@dataclass(frozen=True)
class Grid:
    product_id: str
    listed: dict[str, Any]
    unlisted: dict[str, Any]
    files: dict[tuple[str | None, str], bytes]


@pytest.fixture
async def grid(api: Api, product_id: str) -> Grid:
    """Default branch: 1.0.0 (latest), 1.1.0 DRAFT, 0.9.0 ARCHIVED, 1.2.0 restricted to
    `listed`. `beta`: 2.0.0-beta.1 (latest) and 1.0.0. Every release has its own file."""
    listed = await create_license(api, productIds=[product_id])
    unlisted = await create_license(api, productIds=[product_id])
    beta = await api.create_branch(product_id, "beta")
    files: dict[tuple[str | None, str], bytes] = {}
    for branch, branch_id, version, options in [
        (None, None, "1.0.0", {"latest": True}),
        (None, None, "1.1.0", {"status": "DRAFT"}),
        (None, None, "0.9.0", {"status": "ARCHIVED"}),
        (None, None, "1.2.0", {"license_ids": [listed["id"]]}),
        ("beta", beta, "2.0.0-beta.1", {"latest": True}),
        ("beta", beta, "1.0.0", {}),
    ]:
        content = f"{branch or 'default'}:{version}".encode()
        files[(branch, version)] = content
        await create_release(api, product_id, version, branch_id=branch_id, file=content, **options)
    return Grid(product_id, listed, unlisted, files)


def ok(version: str, latest: str) -> tuple[int, str, str, str, str]:
    return (200, "", "", version, latest)


def error(name: str) -> tuple[int, str, str, None, None]:
    status, code, details = ERRORS[name]
    return (status, code, details, None, None)


BOTH = None  # the expectation holds whether or not the license is on 1.2.0's list
GRID_BRANCHES = [None, "beta", "Beta", "nope"]
GRID_VERSIONS = [None, "1.0.0", "1.1.0", "0.9.0", "2.0.0-beta.1", "1.2.0"]
GRID: list[tuple[str | None, str | None, bool | None, tuple[Any, ...]]] = [
    (None, None, BOTH, ok("1.0.0", "1.0.0")),
    (None, "1.0.0", BOTH, ok("1.0.0", "1.0.0")),
    (None, "1.1.0", BOTH, error("draft")),
    (None, "0.9.0", BOTH, error("archived")),
    (None, "2.0.0-beta.1", BOTH, error("release")),
    (None, "1.2.0", True, ok("1.2.0", "1.0.0")),
    (None, "1.2.0", False, error("no-access")),
    ("beta", None, BOTH, ok("2.0.0-beta.1", "2.0.0-beta.1")),
    ("beta", "1.0.0", BOTH, ok("1.0.0", "2.0.0-beta.1")),
    ("beta", "1.1.0", BOTH, error("release")),
    ("beta", "0.9.0", BOTH, error("release")),
    ("beta", "2.0.0-beta.1", BOTH, ok("2.0.0-beta.1", "2.0.0-beta.1")),
    ("beta", "1.2.0", BOTH, error("release")),
    *[("Beta", version, BOTH, error("branch")) for version in GRID_VERSIONS],  # case-sensitive
    *[("nope", version, BOTH, error("branch")) for version in GRID_VERSIONS],
]


def grid_cases() -> list[Any]:
    cases = []
    for branch, version, on_list, expected in GRID:
        for listed in [True, False] if on_list is BOTH else [on_list]:
            name = f"{branch or '-'}/{version or '-'}/{'listed' if listed else 'unlisted'}"
            cases.append(pytest.param(branch, version, listed, expected, id=name))
    return cases


def test_grid_covers_every_combination() -> None:
    cases = [tuple(case.values[:3]) for case in grid_cases()]
    assert len(cases) == len(set(cases)) == 48
    assert set(cases) == {
        (branch, version, listed)
        for branch in GRID_BRANCHES
        for version in GRID_VERSIONS
        for listed in (True, False)
    }


@pytest.mark.parametrize(("branch", "version", "listed", "expected"), grid_cases())
async def test_selection_grid(
    client_api: ClientApi,
    grid: Grid,
    branch: str | None,
    version: str | None,
    listed: bool,
    expected: tuple[Any, ...],
) -> None:
    license_ = grid.listed if listed else grid.unlisted
    extra = {"branch": branch, "version": version}
    response, session = await get(
        client_api,
        Published(grid.product_id, license_),
        **{name: value for name, value in extra.items() if value is not None},
    )
    status, code, details, served_version, latest_version = expected
    if status != 200:
        assert_client_error(response, status, code, details)
        return
    assert_served(response, session, grid.files[(branch, served_version)])
    assert response.headers["x-version"] == served_version
    assert response.headers["x-latest-version"] == latest_version
