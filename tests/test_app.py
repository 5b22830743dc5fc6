"""Envelope conventions shared by every dev endpoint (dev-api-releases.md §1.1)."""

from __future__ import annotations

import uuid

import pytest

from tests.fixtures.api import Api


async def test_unknown_dev_path_is_enveloped_404(api: Api) -> None:
    response = await api.client.get(f"{api.base}/nothing-here", headers=api.team.headers)
    assert response.status_code == 404
    assert response.json()["result"]["details"] == "Not found"
    assert response.json()["data"] is None
    assert response.headers["cache-control"] == "no-store"


async def test_trailing_slash_is_not_redirected(api: Api) -> None:
    response = await api.client.post(f"{api.base}/releases/", headers=api.team.headers)
    assert response.status_code == 404


async def test_unsupported_method_is_405_with_allow(api: Api) -> None:
    response = await api.client.delete(f"{api.base}/products", headers=api.team.headers)
    assert response.status_code == 405
    assert response.json()["result"]["details"] == "Method not allowed"
    assert "POST" in response.headers["allow"]


@pytest.mark.parametrize(
    ("sent", "echoed"),
    [("abc-123_x.y", True), ("has space", False), ("x" * 129, False)],
)
async def test_request_id_is_echoed_only_when_well_formed(
    api: Api, sent: str, echoed: bool
) -> None:
    response = await api.client.get(
        f"{api.base}/products/{uuid.uuid4()}", headers={"X-Request-Id": sent}
    )
    assert (response.headers["x-request-id"] == sent) is echoed
    if not echoed:
        assert uuid.UUID(response.headers["x-request-id"])


async def test_openapi_document_lists_seed_endpoints(api: Api) -> None:
    response = await api.client.get("/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "post" in paths["/api/v1/dev/teams/{teamId}/releases"]
    assert "put" in paths["/api/v1/dev/teams/{teamId}/releases/{releaseId}"]


async def test_healthz_and_readyz(api: Api, profile: str) -> None:
    assert (await api.client.get("/healthz")).status_code == 200
    ready = await api.client.get("/readyz")
    assert ready.status_code == 200
    redis = {"redis": "ok"} if profile == "production" else {}
    assert ready.json()["data"] == {"database": "ok", "storage": "ok", **redis}
