"""Every mutation writes its webhook events in its own transaction (webhooks-and-audit.md §2–§3).

Webhooks are inserted directly here so that these tests depend only on the outbox, not on the
management API; delivery is not under test.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from releasegate.runtime import Runtime
from releasegate.webhooks.models import EventType, Webhook, WebhookEvent
from releasegate.webhooks.outbox import event_body_aad
from releasegate.webhooks.secrets import generate_secret, seal_secret
from tests.fixtures.api import Api, TeamCredentials, update_body

ALL_EVENTS = [event.value for event in EventType]


async def subscribe(
    runtime: Runtime, team: TeamCredentials, events: list[str], *, active: bool = True
) -> uuid.UUID:
    team_id, webhook_id = uuid.UUID(team.team_id), uuid.uuid4()
    async with runtime.database.write() as session:
        session.add(
            Webhook(
                id=webhook_id,
                team_id=team_id,
                url="https://hooks.example.com/releasegate",
                secret_ciphertext=seal_secret(
                    runtime.keyring, team_id, webhook_id, generate_secret()
                ),
                enabled_events=json.dumps(events),
                active=active,
            )
        )
    return webhook_id


async def events_of(runtime: Runtime, webhook_id: uuid.UUID) -> list[tuple[str, dict[str, Any]]]:
    """(eventType, payload) in delivery order, decrypting license bodies."""
    async with runtime.database.read() as session:
        rows = list(
            await session.scalars(
                select(WebhookEvent)
                .where(WebhookEvent.webhook_id == webhook_id)
                .order_by(WebhookEvent.next_attempt_at, WebhookEvent.created_at)
            )
        )
    result = []
    for row in rows:
        assert row.status == "PENDING"
        assert row.attempts == 0
        assert row.next_attempt_at == row.created_at
        body = row.body
        if row.body_encrypted:
            body = runtime.keyring.decrypt(body, event_body_aad(row.team_id, row.id)).decode()
        result.append((row.event_type, json.loads(body)))
    return result


def types(events: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [event_type for event_type, _ in events]


def release_data(**changes: Any) -> dict[str, Any]:
    return {"status": "PUBLISHED", "setAsLatest": False, **changes}


@pytest.fixture
async def hook(runtime: Runtime, team: TeamCredentials) -> uuid.UUID:
    return await subscribe(runtime, team, ALL_EVENTS)


async def create(api: Api, product_id: str, version: str, **changes: Any) -> dict[str, Any]:
    response = await api.create_release(
        release_data(version=version, productId=product_id, **changes), b"bytes " + version.encode()
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def test_create_latest_emits_created_then_latest_changed_without_storage_key(
    api: Api, runtime: Runtime, hook: uuid.UUID
) -> None:
    product_id = await api.create_product()
    release = await create(api, product_id, "1.0.0", setAsLatest=True)
    events = await events_of(runtime, hook)
    assert types(events) == ["PRODUCT_CREATED", "RELEASE_CREATED", "RELEASE_LATEST_CHANGED"]
    created = events[1][1]
    expected = {**release, "file": {k: v for k, v in release["file"].items() if k != "key"}}
    assert created == expected
    assert "key" not in created["file"]
    assert events[2][1] == {
        "productId": product_id,
        "branchId": None,
        "previous": None,
        "current": expected,
    }


async def test_failed_create_leaves_no_event(api: Api, runtime: Runtime, hook: uuid.UUID) -> None:
    product_id = await api.create_product()
    await create(api, product_id, "1.0.0")
    response = await api.create_release(release_data(version="1.0.0", productId=product_id))
    assert response.status_code == 409
    assert types(await events_of(runtime, hook)) == ["PRODUCT_CREATED", "RELEASE_CREATED"]


async def test_update_without_changes_still_emits_updated(
    api: Api, runtime: Runtime, hook: uuid.UUID
) -> None:
    product_id = await api.create_product()
    release = await create(api, product_id, "1.0.0")
    response = await api.update_release(release["id"], update_body(release))
    assert response.status_code == 200, response.text
    events = await events_of(runtime, hook)
    assert types(events)[-1] == "RELEASE_UPDATED"
    assert events[-1][1]["id"] == release["id"]
    assert "RELEASE_LATEST_CHANGED" not in types(events)


async def test_deprecating_the_latest_reports_latest_changed_to_none(
    api: Api, runtime: Runtime, hook: uuid.UUID
) -> None:
    product_id = await api.create_product()
    release = await create(api, product_id, "1.0.0", setAsLatest=True)
    response = await api.update_release(
        release["id"], update_body(release, status="DEPRECATED", setAsLatest=False)
    )
    assert response.status_code == 200, response.text
    events = await events_of(runtime, hook)
    assert types(events)[-2:] == ["RELEASE_UPDATED", "RELEASE_LATEST_CHANGED"]
    change = events[-1][1]
    assert change["previous"]["id"] == release["id"]
    assert change["previous"]["latest"] is True  # its state before the change
    assert change["current"] is None


async def test_set_latest_reports_previous_and_current_and_repeating_it_emits_nothing(
    api: Api, runtime: Runtime, hook: uuid.UUID
) -> None:
    product_id = await api.create_product()
    first = await create(api, product_id, "1.0.0", setAsLatest=True)
    second = await create(api, product_id, "2.0.0")
    assert (await api.post_json(f"/releases/{second['id']}/set-latest", {})).status_code == 200
    before = len(await events_of(runtime, hook))
    assert (await api.post_json(f"/releases/{second['id']}/set-latest", {})).status_code == 200
    events = await events_of(runtime, hook)
    assert len(events) == before
    change = events[-1]
    assert change[0] == "RELEASE_LATEST_CHANGED"
    assert change[1]["previous"]["id"] == first["id"]
    assert change[1]["current"]["id"] == second["id"]


async def test_deleting_the_latest_emits_deleted_then_latest_changed(
    api: Api, runtime: Runtime, hook: uuid.UUID
) -> None:
    product_id = await api.create_product()
    release = await create(api, product_id, "1.0.0", setAsLatest=True)
    response = await api.client.delete(
        f"{api.base}/releases/{release['id']}", headers=api.team.headers
    )
    assert response.status_code == 200, response.text
    events = await events_of(runtime, hook)
    assert types(events)[-2:] == ["RELEASE_DELETED", "RELEASE_LATEST_CHANGED"]
    assert events[-2][1]["id"] == release["id"]
    assert "key" not in events[-2][1]["file"]
    assert events[-1][1]["previous"]["id"] == release["id"]
    assert events[-1][1]["current"] is None


async def test_product_cascade_emits_per_release_and_branch_but_no_latest_change(
    api: Api, runtime: Runtime, hook: uuid.UUID
) -> None:
    product_id = await api.create_product()
    branch_id = await api.create_branch(product_id, "beta")
    one = await create(api, product_id, "1.0.0", setAsLatest=True)
    two = await create(api, product_id, "2.0.0", branchId=branch_id)
    before = len(await events_of(runtime, hook))
    response = await api.client.delete(
        f"{api.base}/products/{product_id}?cascade=true", headers=api.team.headers
    )
    assert response.status_code == 200, response.text
    events = (await events_of(runtime, hook))[before:]
    assert types(events) == [
        "RELEASE_DELETED",
        "RELEASE_DELETED",
        "BRANCH_DELETED",
        "PRODUCT_DELETED",
    ]
    assert {events[0][1]["id"], events[1][1]["id"]} == {one["id"], two["id"]}
    assert events[2][1]["id"] == branch_id
    assert events[3][1]["id"] == product_id


async def test_branch_rename_carries_previous_name_and_keeping_it_emits_nothing(
    api: Api, runtime: Runtime, hook: uuid.UUID
) -> None:
    product_id = await api.create_product()
    branch_id = await api.create_branch(product_id, "beta")
    path = f"{api.base}/branches/{branch_id}"
    for name in ("gamma", "gamma"):
        response = await api.client.put(path, json={"name": name}, headers=api.team.headers)
        assert response.status_code == 200, response.text
    events = await events_of(runtime, hook)
    assert types(events) == ["PRODUCT_CREATED", "BRANCH_CREATED", "BRANCH_UPDATED"]
    assert events[2][1]["name"] == "gamma"
    assert events[2][1]["previousName"] == "beta"
    assert "releaseCount" not in events[2][1]


async def test_license_events_carry_the_key_and_rest_encrypted(
    api: Api, runtime: Runtime, hook: uuid.UUID
) -> None:
    product_id = await api.create_product()
    license_ = await api.create_license([product_id])
    key = license_["licenseKey"]
    suspend = f"/licenses/id/{license_['id']}/suspend"
    assert (await api.post_json(suspend, {})).status_code == 200
    assert (await api.post_json(suspend, {})).status_code == 200  # no change: no event
    events = await events_of(runtime, hook)
    assert types(events)[1:] == ["LICENSE_CREATED", "LICENSE_UPDATED"]
    assert events[1][1]["licenseKey"] == key
    assert events[2][1]["suspended"] is True
    async with runtime.database.read() as session:
        stored = list(await session.scalars(select(WebhookEvent.body)))
        encrypted = list(await session.scalars(select(WebhookEvent.body_encrypted)))
    assert all(key not in body for body in stored)
    assert encrypted.count(True) == 2


async def test_only_active_subscribed_webhooks_get_rows(
    api: Api, runtime: Runtime, team: TeamCredentials
) -> None:
    releases_only = await subscribe(runtime, team, ["RELEASE_CREATED"])
    inactive = await subscribe(runtime, team, ALL_EVENTS, active=False)
    product_id = await api.create_product()
    await create(api, product_id, "1.0.0", setAsLatest=True)
    assert types(await events_of(runtime, releases_only)) == ["RELEASE_CREATED"]
    assert await events_of(runtime, inactive) == []


async def test_another_teams_webhook_gets_nothing(
    api: Api, runtime: Runtime, other_team: TeamCredentials
) -> None:
    foreign = await subscribe(runtime, other_team, ALL_EVENTS)
    await api.create_product()
    assert await events_of(runtime, foreign) == []
