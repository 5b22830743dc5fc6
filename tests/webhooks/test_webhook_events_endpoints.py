"""A webhook's events (webhooks-and-audit.md §1, §5): the list and redelivery of one event."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from releasegate.audit.models import AuditLog
from releasegate.runtime import Runtime
from releasegate.webhooks.models import EventStatus, EventType, WebhookEvent
from releasegate.webhooks.outbox import emit
from tests.fixtures.api import Api, TeamCredentials

URL = "https://hooks.example.com/releasegate"
EVENT_KEYS = [
    "id",
    "eventType",
    "status",
    "attempts",
    "nextAttemptAt",
    "lastResponseCode",
    "createdAt",
    "deliveredAt",
    "errorMessage",
    "lastAttemptAt",
]
START = datetime(2030, 1, 1, tzinfo=UTC)
SOME_ID = "7d1f4a52-3e0b-4d8a-b6c4-1a2e3f4d5c6b"


# --- Fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_dev_read": "0", "rate_limit_dev_write": "0"}


async def create_webhook(api: Api, events: list[str] | None = None) -> str:
    payload = {"url": URL, "enabledEvents": events or ["PRODUCT_CREATED", "LICENSE_DELETED"]}
    response = await api.post_json("/webhooks", payload)
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


@pytest.fixture
async def webhook_id(api: Api) -> str:
    return await create_webhook(api)


async def emit_events(
    runtime: Runtime, team: TeamCredentials, n: int = 1, event_type: EventType | None = None
) -> None:
    """`n` events in one transaction (each one microsecond after the previous)."""
    async with runtime.database.write() as session:
        for index in range(n):
            await emit(
                session,
                runtime,
                uuid.UUID(team.team_id),
                event_type or EventType.PRODUCT_CREATED,
                {"index": index},
            )


async def stored_events(runtime: Runtime, webhook_id: str) -> list[WebhookEvent]:
    async with runtime.database.read() as session:
        rows = await session.scalars(
            select(WebhookEvent)
            .where(WebhookEvent.webhook_id == uuid.UUID(webhook_id))
            .order_by(WebhookEvent.created_at)
        )
        return list(rows)


async def set_delivery_state(runtime: Runtime, event_id: uuid.UUID, **values: Any) -> None:
    """What the delivery worker would have written (no API does this)."""
    async with runtime.database.write() as session:
        event = await session.get(WebhookEvent, event_id)
        assert event is not None
        for name, value in values.items():
            setattr(event, name, value)


async def send(
    api: Api, method: str, path: str, team: TeamCredentials | None = None, content: bytes = b""
) -> httpx.Response:
    team = team or api.team
    return await api.client.request(
        method,
        f"/api/v1/dev/teams/{team.team_id}{path}",
        content=content or None,
        headers=team.headers,
    )


def ok(response: httpx.Response, details: str) -> Any:
    assert response.status_code == 200, response.text
    payload = response.json()
    assert payload["result"]["details"] == details
    assert payload["result"]["valid"] is True
    return payload["data"]


def assert_error(response: httpx.Response, status: int, details: str) -> None:
    assert response.status_code == status, response.text
    payload = response.json()
    assert payload["result"]["details"] == details
    assert payload["result"]["valid"] is False
    assert payload["data"] is None


def redeliver_path(webhook_id: str, event_id: object) -> str:
    return f"/webhooks/{webhook_id}/events/{event_id}/redeliver"


# --- List -----------------------------------------------------------------------------------------


async def test_list_shows_a_new_event_as_pending(
    api: Api, runtime: Runtime, team: TeamCredentials, webhook_id: str
) -> None:
    await emit_events(runtime, team)
    (row,) = await stored_events(runtime, webhook_id)
    data = ok(await send(api, "GET", f"/webhooks/{webhook_id}/events"), "Webhook events found")
    assert data["hasNextPage"] is False and data["totalResults"] == 1
    (event,) = data["events"]
    assert list(event) == EVENT_KEYS
    assert event["id"] == str(row.id)
    assert event["eventType"] == "PRODUCT_CREATED"
    assert event["status"] == "PENDING"
    assert event["attempts"] == 0
    assert event["nextAttemptAt"] == event["createdAt"]
    assert event["lastResponseCode"] is None
    assert event["deliveredAt"] is None
    assert event["errorMessage"] is None
    assert event["lastAttemptAt"] is None


async def test_list_shows_the_delivery_outcome(
    api: Api, runtime: Runtime, team: TeamCredentials, webhook_id: str
) -> None:
    await emit_events(runtime, team)
    (row,) = await stored_events(runtime, webhook_id)
    await set_delivery_state(
        runtime,
        row.id,
        status=EventStatus.DELIVERED.value,
        attempts=2,
        response_code=204,
        last_attempt_at=START,
        delivered_at=START,
    )
    data = ok(await send(api, "GET", f"/webhooks/{webhook_id}/events"), "Webhook events found")
    (event,) = data["events"]
    assert (event["status"], event["attempts"], event["lastResponseCode"]) == ("DELIVERED", 2, 204)
    assert event["deliveredAt"] == event["lastAttemptAt"] == "2030-01-01T00:00:00.000Z"


async def test_list_never_shows_the_event_body(
    api: Api, runtime: Runtime, team: TeamCredentials, webhook_id: str
) -> None:
    async with runtime.database.write() as session:
        await emit(
            session,
            runtime,
            uuid.UUID(team.team_id),
            EventType.PRODUCT_CREATED,
            {"marker": "body-marker-1234"},
        )
    response = await send(api, "GET", f"/webhooks/{webhook_id}/events")
    assert "body-marker-1234" not in response.text


async def test_list_holds_only_this_webhooks_events(
    api: Api, runtime: Runtime, team: TeamCredentials, webhook_id: str
) -> None:
    other_webhook = await create_webhook(api, ["PRODUCT_CREATED"])
    await emit_events(runtime, team, 2)
    await emit_events(runtime, team, 1, EventType.LICENSE_DELETED)
    mine = ok(await send(api, "GET", f"/webhooks/{webhook_id}/events"), "Webhook events found")
    theirs = ok(await send(api, "GET", f"/webhooks/{other_webhook}/events"), "Webhook events found")
    assert [e["eventType"] for e in mine["events"]] == [
        "LICENSE_DELETED",
        "PRODUCT_CREATED",
        "PRODUCT_CREATED",
    ]
    assert [e["eventType"] for e in theirs["events"]] == ["PRODUCT_CREATED", "PRODUCT_CREATED"]
    assert not {e["id"] for e in mine["events"]} & {e["id"] for e in theirs["events"]}


async def test_list_is_newest_first_and_paginated(
    api: Api, runtime: Runtime, team: TeamCredentials, webhook_id: str
) -> None:
    await emit_events(runtime, team, 12)
    newest_first = [str(row.id) for row in reversed(await stored_events(runtime, webhook_id))]
    path = f"/webhooks/{webhook_id}/events?pageSize=10"
    first = ok(await send(api, "GET", path), "Webhook events found")
    assert [e["id"] for e in first["events"]] == newest_first[:10]
    assert (first["hasNextPage"], first["totalResults"]) == (True, 12)
    second = ok(await send(api, "GET", path + "&page=2"), "Webhook events found")
    assert [e["id"] for e in second["events"]] == newest_first[10:]
    assert (second["hasNextPage"], second["totalResults"]) == (False, 12)
    beyond = ok(await send(api, "GET", path + "&page=3"), "Webhook events found")
    assert beyond == {"events": [], "hasNextPage": False, "totalResults": 12}


async def test_list_of_a_webhook_without_events_is_empty(api: Api, webhook_id: str) -> None:
    data = ok(await send(api, "GET", f"/webhooks/{webhook_id}/events"), "Webhook events found")
    assert data == {"events": [], "hasNextPage": False, "totalResults": 0}


# --- Redeliver ------------------------------------------------------------------------------------


@pytest.fixture
async def failed_event(api: Api, runtime: Runtime, team: TeamCredentials, webhook_id: str) -> str:
    await emit_events(runtime, team)
    (row,) = await stored_events(runtime, webhook_id)
    await set_delivery_state(
        runtime,
        row.id,
        status=EventStatus.FAILED.value,
        attempts=5,
        response_code=500,
        response_body="boom",
        error_message="HTTP 500",
        last_attempt_at=START,
        lease_expires_at=START + timedelta(seconds=35),
        next_attempt_at=START,
    )
    return str(row.id)


async def test_redeliver_requeues_a_failed_event(
    api: Api,
    runtime: Runtime,
    webhook_id: str,
    failed_event: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = datetime(2031, 6, 1, 12, 0, tzinfo=UTC)
    monkeypatch.setattr("releasegate.webhooks.service.utcnow", lambda: now)
    runtime.webhook_wakeup.clear()
    data = ok(
        await send(api, "POST", redeliver_path(webhook_id, failed_event)),
        "Webhook event requeued",
    )
    assert list(data) == EVENT_KEYS
    assert data["id"] == failed_event
    assert (data["status"], data["attempts"], data["nextAttemptAt"]) == (
        "PENDING",
        0,
        "2031-06-01T12:00:00.000Z",
    )
    assert data["lastResponseCode"] is data["errorMessage"] is data["lastAttemptAt"] is None
    (row,) = await stored_events(runtime, webhook_id)
    assert row.lease_expires_at is None and row.response_body is None
    assert row.updated_at == now
    assert runtime.webhook_wakeup.is_set()
    listed = ok(await send(api, "GET", f"/webhooks/{webhook_id}/events"), "Webhook events found")
    assert listed["events"] == [data]


async def test_redeliver_requeues_a_delivered_event(
    api: Api, runtime: Runtime, team: TeamCredentials, webhook_id: str
) -> None:
    await emit_events(runtime, team)
    (row,) = await stored_events(runtime, webhook_id)
    await set_delivery_state(
        runtime,
        row.id,
        status=EventStatus.DELIVERED.value,
        attempts=1,
        response_code=200,
        delivered_at=START,
        last_attempt_at=START,
    )
    data = ok(await send(api, "POST", redeliver_path(webhook_id, row.id)), "Webhook event requeued")
    assert (data["status"], data["attempts"], data["deliveredAt"]) == ("PENDING", 0, None)


async def test_redeliver_keeps_the_stored_body(
    api: Api, runtime: Runtime, webhook_id: str, failed_event: str
) -> None:
    (before,) = await stored_events(runtime, webhook_id)
    await send(api, "POST", redeliver_path(webhook_id, failed_event))
    (after,) = await stored_events(runtime, webhook_id)
    assert (after.body, after.event_type, after.created_at) == (
        before.body,
        before.event_type,
        before.created_at,
    )


async def test_redeliver_ignores_any_body(api: Api, webhook_id: str, failed_event: str) -> None:
    response = await send(api, "POST", redeliver_path(webhook_id, failed_event), content=b"{nope")
    ok(response, "Webhook event requeued")


async def test_redeliver_writes_an_update_webhook_audit_row(
    api: Api, runtime: Runtime, webhook_id: str, failed_event: str
) -> None:
    data = ok(
        await send(api, "POST", redeliver_path(webhook_id, failed_event)),
        "Webhook event requeued",
    )
    async with runtime.database.read() as session:
        (row,) = await session.scalars(select(AuditLog).where(AuditLog.action == "UPDATE_WEBHOOK"))
    assert (row.target_type, str(row.target_id), row.source) == ("WEBHOOK", webhook_id, "API_KEY")
    assert row.request_body is None
    assert json.loads(row.response_body or "")["data"] == data


async def test_redeliver_of_an_unknown_event_is_not_found(api: Api, webhook_id: str) -> None:
    response = await send(api, "POST", redeliver_path(webhook_id, uuid.uuid4()))
    assert_error(response, 404, "Webhook event not found")


async def test_redeliver_of_another_webhooks_event_is_not_found(
    api: Api, runtime: Runtime, webhook_id: str, failed_event: str
) -> None:
    other_webhook = await create_webhook(api, ["BRANCH_CREATED"])
    response = await send(api, "POST", redeliver_path(other_webhook, failed_event))
    assert_error(response, 404, "Webhook event not found")
    (row,) = await stored_events(runtime, webhook_id)
    assert row.status == "FAILED"


async def test_redeliver_of_another_teams_event_is_not_found(
    api: Api,
    runtime: Runtime,
    other_team: TeamCredentials,
    webhook_id: str,
    failed_event: str,
) -> None:
    other_api = Api(api.client, other_team)
    their_webhook = await create_webhook(other_api)
    response = await send(api, "POST", redeliver_path(their_webhook, failed_event), team=other_team)
    assert_error(response, 404, "Webhook event not found")
    response = await send(api, "POST", redeliver_path(webhook_id, failed_event), team=other_team)
    assert_error(response, 404, "Webhook not found")
    (row,) = await stored_events(runtime, webhook_id)
    assert row.status == "FAILED"


async def test_redeliver_checks_the_webhook_before_the_event(api: Api) -> None:
    response = await send(api, "POST", redeliver_path(str(uuid.uuid4()), uuid.uuid4()))
    assert_error(response, 404, "Webhook not found")


@pytest.mark.parametrize(
    ("webhook", "event", "details"),
    [
        ("nope", SOME_ID, "Invalid webhookId"),
        (SOME_ID, "nope", "Invalid eventId"),
        ("nope", "nope", "Invalid webhookId"),
    ],
)
async def test_redeliver_checks_path_ids_left_to_right(
    api: Api, webhook: str, event: str, details: str
) -> None:
    assert_error(await send(api, "POST", redeliver_path(webhook, event)), 400, details)


async def test_events_of_another_teams_webhook_are_not_found(
    api: Api, runtime: Runtime, team: TeamCredentials, other_team: TeamCredentials, webhook_id: str
) -> None:
    await emit_events(runtime, team)
    response = await send(api, "GET", f"/webhooks/{webhook_id}/events", team=other_team)
    assert_error(response, 404, "Webhook not found")


async def test_only_active_subscribed_webhooks_receive_events(
    api: Api, runtime: Runtime, team: TeamCredentials, webhook_id: str
) -> None:
    inactive = await create_webhook(api)
    response = await api.client.put(
        f"{api.base}/webhooks/{inactive}",
        content=json.dumps({"url": URL, "enabledEvents": ["PRODUCT_CREATED"], "active": False}),
        headers=api.team.headers,
    )
    assert response.status_code == 200
    unsubscribed = await create_webhook(api, ["BRANCH_CREATED"])
    await emit_events(runtime, team)
    assert len(await stored_events(runtime, webhook_id)) == 1
    assert await stored_events(runtime, inactive) == []
    assert await stored_events(runtime, unsubscribed) == []
