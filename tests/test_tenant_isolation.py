"""Tenant isolation walk (security-and-limits.md §5): every dev endpoint, with another team's
valid key, reveals nothing of team A: 401 on A's path; on B's own path, A's ids are 404 (or an
empty result), and no response body ever contains one of A's ids or secrets."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from releasegate.kit.clock import utcnow
from releasegate.licenses.models import HardwareIdentifier, IpAddress
from releasegate.runtime import Runtime
from releasegate.webhooks.models import EventType, WebhookEvent
from releasegate.webhooks.outbox import emit
from tests.fixtures.api import Api, TeamCredentials, update_body
from tests.fixtures.multipart import content_type, data_part, encode

DEV_PREFIX = "/api/v1/dev/teams/{teamId}"


async def _team_a_state(api: Api, runtime: Runtime) -> dict[str, str]:
    product_id = await api.create_product("Secret Product")
    branch_id = await api.create_branch(product_id, "secret-branch")
    license_ = await api.create_license([product_id])
    response = await api.create_release(
        {"version": "9.9.9", "productId": product_id, "status": "PUBLISHED"}, b"bytes", "a.txt"
    )
    release = response.json()["data"]
    now = utcnow()
    ids = {"hwidId": str(uuid.uuid4()), "ipId": str(uuid.uuid4())}
    async with runtime.database.write() as session:  # no API records devices yet
        for model, value_field, value, key in (
            (HardwareIdentifier, "hwid", "device-0000-1111", "hwidId"),
            (IpAddress, "ip", "198.51.100.7", "ipId"),
        ):
            session.add(
                model(
                    id=uuid.UUID(ids[key]),
                    license_id=uuid.UUID(license_["id"]),
                    team_id=uuid.UUID(api.team.team_id),
                    last_seen_at=now,
                    created_at=now,
                    updated_at=now,
                    **{value_field: value},
                )
            )
    webhook = await api.post_json(
        "/webhooks", {"url": "https://a.example/hook", "enabledEvents": ["PRODUCT_UPDATED"]}
    )
    async with runtime.database.write() as session:
        await emit(session, runtime, uuid.UUID(api.team.team_id), EventType.PRODUCT_UPDATED, {})
    async with runtime.database.read() as session:
        (event_id,) = await session.scalars(select(WebhookEvent.id))
    return {
        "webhookId": webhook.json()["data"]["id"],
        "webhookSecret": webhook.json()["data"]["secret"],
        "eventId": str(event_id),
        "productId": product_id,
        "branchId": branch_id,
        "licenseId": license_["id"],
        "licenseKey": license_["licenseKey"],
        "releaseId": release["id"],
        "fileKey": release["file"]["key"],
        "release": json.dumps(release),
        **ids,
    }


def _dev_routes(app: FastAPI) -> list[tuple[str, str]]:
    paths = app.openapi()["paths"]
    return sorted(
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith(DEV_PREFIX)
        for method in operations
    )


def _body(method: str, path: str, state: dict[str, str]) -> tuple[bytes, str] | None:
    if method in ("GET", "DELETE") or path.endswith(
        ("set-latest", "suspend", "unsuspend", "rotate-secret", "redeliver")
    ):
        return None
    if path.endswith("/releases") or path.endswith("/releases/{releaseId}"):
        release = json.loads(state["release"])
        data = (
            update_body(release)
            if method == "PUT"
            else {"version": "1.0.0", "productId": state["productId"], "status": "DRAFT"}
        )
        return encode([data_part(data)]), content_type()
    if "/hwid/" in path or "/ip-address/" in path:
        return b'{"forgotten": true}', "application/json"
    bodies: dict[str, Any] = {
        "/products": {"name": "Stolen Name"},
        "/products/{productId}": {"name": "Stolen Name", "url": None, "metadata": []},
        "/branches": {"name": "stolen", "productId": state["productId"]},
        "/branches/{branchId}": {"name": "stolen"},
        "/licenses": {
            "expirationType": "NEVER",
            "expirationStart": None,
            "expirationDate": None,
            "expirationDays": None,
            "suspended": False,
            "productIds": [state["productId"]],
            "customerIds": [],
            "hwidLimit": None,
            "ipLimit": None,
            "metadata": [],
        },
    }
    bodies["/webhooks"] = {"url": "https://b.example/hook", "enabledEvents": ["RELEASE_CREATED"]}
    bodies["/webhooks/{webhookId}"] = {**bodies["/webhooks"], "active": True}
    bodies["/licenses/id/{licenseId}"] = {**bodies["/licenses"], "licenseKey": state["licenseKey"]}
    suffix = path.removeprefix(DEV_PREFIX)
    return json.dumps(bodies[suffix]).encode(), "application/json"


def _url(path: str, team_id: str, state: dict[str, str]) -> str:
    url = path.replace("{teamId}", team_id)
    for name in (
        "releaseId",
        "productId",
        "branchId",
        "licenseId",
        "licenseKey",
        "hwidId",
        "ipId",
        "webhookId",
        "eventId",
    ):
        url = url.replace("{" + name + "}", state[name])
    if path.endswith(("/releases", "/branches")):
        url += f"?productId={state['productId']}"
    if path.endswith("/licenses"):
        url += f"?search={state['licenseKey']}&productIds={state['productId']}"
    if path.endswith("/audit-logs"):
        url += f"?targetId={state['releaseId']}"
    return url


def _secrets(state: dict[str, str]) -> list[str]:
    return [state[name] for name in state if name not in ("release",)]


async def _send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    body: tuple[bytes, str] | None,
    team: TeamCredentials,
) -> httpx.Response:
    headers = dict(team.headers)
    content = None
    if body is not None:
        content, headers["Content-Type"] = body
    return await client.request(method, url, content=content, headers=headers)


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    limits = {
        f"rate_limit_{bucket}": "0"
        for bucket in (
            "dev_read",
            "dev_write",
            "releases_create",
            "releases_update",
            "releases_download",
        )
    }
    return {**limits, "rate_limit_auth_failure": "0"}


async def test_every_dev_endpoint_hides_team_a_from_team_b(
    api: Api, runtime: Runtime, other_team: TeamCredentials
) -> None:
    state = await _team_a_state(api, runtime)
    app = api.client._transport.app  # type: ignore[attr-defined]
    routes = _dev_routes(app)
    assert len(routes) >= 30
    for method, path in routes:
        body = _body(method, path, state)

        on_a_path = await _send(
            api.client, method, _url(path, api.team.team_id, state), body, other_team
        )
        assert on_a_path.status_code == 401, (method, path, on_a_path.text)
        assert on_a_path.json()["result"]["details"] == "Invalid API key"

        on_b_path = await _send(
            api.client, method, _url(path, other_team.team_id, state), body, other_team
        )
        text = on_b_path.text
        assert on_b_path.status_code in (200, 201, 400, 404), (method, path, text)
        if on_b_path.status_code in (400, 404):
            assert on_b_path.json()["data"] is None or on_b_path.status_code == 400
        assert all(secret not in text for secret in _secrets(state)), (method, path, text)

    # Team A's state is untouched by everything team B sent.
    product = await api.client.get(
        f"{api.base}/products/{state['productId']}", headers=api.team.headers
    )
    assert product.json()["data"]["name"] == "Secret Product"
    release = await api.client.get(
        f"{api.base}/releases/{state['releaseId']}", headers=api.team.headers
    )
    assert release.status_code == 200
    assert release.json()["data"]["version"] == "9.9.9"
    opened = await runtime.storage.open(state["fileKey"])
    assert b"".join([chunk async for chunk in opened.chunks]) == b"bytes"
