"""An unreachable rate-limit/replay store (security-and-limits.md §3.4): buckets follow the fail
mode; the replay guard always fails closed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from releasegate.kit.ratelimit import RedisLimiter
from releasegate.runtime import Runtime
from tests.fixtures.client_api import ClientApi, assert_client_error, create_release

UNREACHABLE = "redis://127.0.0.1:1/0"


@pytest.fixture
async def store_down(runtime: Runtime) -> AsyncIterator[None]:
    """The store becomes unreachable after the fixtures built their state through the API."""
    working = runtime.limiter
    runtime.limiter = RedisLimiter(UNREACHABLE)
    try:
        yield
    finally:
        await runtime.limiter.close()
        runtime.limiter = working


async def test_fail_closed_verify_is_503_service_unavailable(
    client_api: ClientApi, license_: dict[str, Any], store_down: None
) -> None:
    response = await client_api.verify({"licenseKey": license_["licenseKey"]})
    assert_client_error(response, 503, "INTERNAL_SERVER_ERROR", "Service unavailable")


class TestFailOpen:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, object]:
        return {"redis_url": UNREACHABLE, "rate_limit_fail_mode": "open"}

    async def test_verify_proceeds(self, client_api: ClientApi, license_: dict[str, Any]) -> None:
        response = await client_api.verify({"licenseKey": license_["licenseKey"]})
        assert response.status_code == 200, response.text
        assert response.json()["result"]["code"] == "VALID"

    async def test_classloader_replay_guard_still_fails_closed(
        self, client_api: ClientApi, api: Any, product_id: str, license_: dict[str, Any]
    ) -> None:
        await create_release(api, product_id, "1.0.0", latest=True, file=b"payload")
        response, _ = await client_api.download(license_["licenseKey"], product_id)
        assert_client_error(response, 503, "INTERNAL_SERVER_ERROR", "Service unavailable")
