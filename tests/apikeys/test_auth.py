"""Dev API checks C1–C6 (dev-api-releases.md §1.3, security-and-limits.md §1.3, §3.3)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from releasegate.apikeys.tokens import is_well_formed, issue_key
from releasegate.kit.clock import utcnow
from releasegate.runtime import Runtime
from releasegate.teams.service import create_api_key
from tests.fixtures.api import Api, TeamCredentials


def assert_error(response: Any, status: int, details: str) -> None:
    assert response.status_code == status, response.text
    assert response.json() == {
        "data": None,
        "result": {
            "details": details,
            "timestamp": response.json()["result"]["timestamp"],
            "valid": False,
        },
    }


async def get_product(api: Api, headers: dict[str, str], product_id: str | None = None) -> Any:
    return await api.client.get(
        f"{api.base}/products/{product_id or uuid.uuid4()}", headers=headers
    )


def test_issued_key_has_prefix_secret_and_crc() -> None:
    issued = issue_key("rg_")
    assert len(issued.token) == 75
    assert issued.token.startswith("rg_")
    assert is_well_formed(issued.token, "rg_")
    tampered = issued.token[:-1] + ("0" if issued.token[-1] != "0" else "1")
    assert not is_well_formed(tampered, "rg_")
    assert issued.hint == "rg_…" + issued.token[-4:]
    assert issued.token not in repr(issued)


def test_empty_prefix_issues_reference_style_keys() -> None:
    issued = issue_key("")
    assert len(issued.token) == 64 and all(c in "0123456789abcdef" for c in issued.token)


async def test_c2_invalid_path_id_comes_before_authentication(api: Api) -> None:
    response = await api.client.get(f"{api.base}/products/xyz")
    assert_error(response, 400, "Invalid productId")


async def test_c4_missing_authorization(api: Api) -> None:
    response = await get_product(api, {})
    assert_error(response, 401, "Invalid API key")
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "header",
    ["Basic abc", "Bearer", "Bearer    ", "rg_x", "Bearer rg_" + "0" * 72],
)
async def test_c4_malformed_or_unknown_tokens(api: Api, header: str) -> None:
    response = await get_product(api, {"Authorization": header})
    assert_error(response, 401, "Invalid API key")


async def test_c4_bearer_scheme_is_case_insensitive(api: Api) -> None:
    product_id = await api.create_product()
    response = await get_product(
        api, {"Authorization": f"bEaReR   {api.team.api_key} "}, product_id
    )
    assert response.status_code == 200, response.text


async def test_c4_key_of_another_team_is_invalid(api: Api, other_team: TeamCredentials) -> None:
    response = await get_product(api, other_team.headers)
    assert_error(response, 401, "Invalid API key")


async def test_c5_expired_key(api: Api, runtime: Runtime) -> None:
    expired = await create_api_key(
        runtime, uuid.UUID(api.team.team_id), utcnow() - timedelta(seconds=1)
    )
    response = await get_product(api, {"Authorization": f"Bearer {expired.api_key}"})
    assert_error(response, 401, "API key expired")


async def test_key_with_future_expiry_works(api: Api, runtime: Runtime) -> None:
    key = await create_api_key(runtime, uuid.UUID(api.team.team_id), utcnow() + timedelta(days=1))
    product_id = await api.create_product()
    response = await get_product(api, {"Authorization": f"Bearer {key.api_key}"}, product_id)
    assert response.status_code == 200


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_dev_read": "2/60", "rate_limit_auth_failure": "3/300"}


async def test_c6_per_key_bucket_exhausted(api: Api) -> None:
    product_id = await api.create_product()
    for _ in range(2):
        assert (await get_product(api, api.team.headers, product_id)).status_code == 200
    response = await get_product(api, api.team.headers, product_id)
    assert_error(response, 429, "Too many requests")
    assert 1 <= int(response.headers["retry-after"]) <= 60


async def test_c6_buckets_are_per_key(api: Api, runtime: Runtime) -> None:
    product_id = await api.create_product()
    for _ in range(3):
        await get_product(api, api.team.headers, product_id)
    second = await create_api_key(runtime, uuid.UUID(api.team.team_id), None)
    response = await get_product(api, {"Authorization": f"Bearer {second.api_key}"}, product_id)
    assert response.status_code == 200


async def test_c3_lockout_after_auth_failures_blocks_even_valid_keys(api: Api) -> None:
    bad = {"Authorization": "Bearer nope"}
    for _ in range(3):
        assert (await get_product(api, bad)).status_code == 401
    locked = await get_product(api, bad)
    assert_error(locked, 429, "Too many requests")
    assert int(locked.headers["retry-after"]) >= 1
    valid = await get_product(api, api.team.headers)
    assert_error(valid, 429, "Too many requests")


async def test_last_seen_is_recorded_after_success(api: Api, runtime: Runtime) -> None:
    from releasegate.apikeys.models import ApiKey

    await api.create_product()
    await runtime.drain()
    async with runtime.database.read() as session:
        from sqlalchemy import select

        keys = list(await session.scalars(select(ApiKey)))
    assert any(key.last_seen_at is not None for key in keys)
