"""Create Release: one test per row of dev-api-releases.md §2.3, plus the success shape."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import pytest

from tests.fixtures.api import Api, jar_bytes


@pytest.fixture
async def product_id(api: Api) -> str:
    return await api.create_product()


def body(product_id: str, **changes: Any) -> dict[str, Any]:
    return {"version": "1.0.0", "productId": product_id, "status": "PUBLISHED", **changes}


def assert_error(response: Any, status: int, details: str, data: object = None) -> None:
    assert response.status_code == status, response.text
    payload = response.json()
    assert payload["result"]["details"] == details
    assert payload["result"]["valid"] is False
    assert payload["data"] == data


async def test_create_with_file_returns_release_object(api: Api, product_id: str) -> None:
    content = b"hello world"
    response = await api.create_release(
        body(product_id, setAsLatest=True, metadata=[{"key": "mc", "value": "1.21"}]),
        content,
        "My App.txt",
    )
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-request-id"]
    payload = response.json()
    assert list(payload) == ["data", "result"]
    assert payload["result"]["details"] == "Release created"
    assert payload["result"]["valid"] is True
    release = payload["data"]
    assert release["version"] == "1.0.0"
    assert release["status"] == "PUBLISHED"
    assert release["latest"] is True
    assert release["branchId"] is None and release["branch"] is None
    assert release["teamId"] == api.team.team_id
    assert release["product"]["id"] == product_id
    assert [(m["key"], m["value"], m["locked"]) for m in release["metadata"]] == [
        ("mc", "1.21", False)
    ]
    file = release["file"]
    assert file["size"] == len(content)
    assert file["name"] == "My App.txt"
    assert file["checksum"] == hashlib.md5(content).hexdigest()
    assert file["sha256"] == hashlib.sha256(content).hexdigest()
    assert file["mainClassName"] is None
    assert file["key"] == f"releases/{api.team.team_id}/{release['id']}/{file['id']}"
    assert release["allowedLicenses"] == []


async def test_create_jar_records_main_class(api: Api, product_id: str) -> None:
    response = await api.create_release(body(product_id), jar_bytes("com.example.Main"), "p.jar")
    assert response.status_code == 201, response.text
    assert response.json()["data"]["file"]["mainClassName"] == "com.example.Main"


async def test_row_1_invalid_team_id(api: Api) -> None:
    response = await api.client.post(
        "/api/v1/dev/teams/not-a-uuid/releases", headers=api.team.headers
    )
    assert_error(response, 400, "Invalid teamId")


async def test_unknown_product_is_404(api: Api) -> None:
    response = await api.create_release(body(str(uuid.uuid4())))
    assert_error(response, 404, "Product not found")
