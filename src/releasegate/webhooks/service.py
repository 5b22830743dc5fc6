"""Webhook management rules (webhooks-and-audit.md §1): the URL rule, the team's `maxWebhooks`
cap, secrets shown once and stored sealed, and redelivery of one event.

Every mutation writes its audit row in the transaction of the change; the secret never reaches
an audit row (§6.3): the recorded response is the envelope with `secret` and `secretWhsec` removed.
Both the dev API and `releasegate webhook` call these functions, with their own Actor.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.audit import service as audit
from releasegate.audit.service import Actor
from releasegate.kit.clock import utcnow
from releasegate.kit.envelope import envelope
from releasegate.kit.errors import ApiError
from releasegate.kit.pagination import PageRequest, split_page
from releasegate.runtime import Runtime
from releasegate.teams.repository import lock_team
from releasegate.webhooks import repository as repo
from releasegate.webhooks.models import EventStatus, Webhook
from releasegate.webhooks.secrets import generate_secret, seal_secret
from releasegate.webhooks.urls import is_valid_webhook_url
from releasegate.webhooks.views import (
    webhook_event_json,
    webhook_json,
    webhook_with_secret_json,
)

MAX_URL_LENGTH = 2048  # the column's size
SECRET_FIELDS = ("secret", "secretWhsec")


def _check_url(runtime: Runtime, url: str) -> None:
    allow_http = runtime.settings.webhook_allow_http
    if len(url) > MAX_URL_LENGTH or not is_valid_webhook_url(url, allow_http=allow_http):
        raise ApiError(400, "Invalid webhook URL")


def _without_secret(body: dict[str, object]) -> dict[str, object]:
    """The envelope as the audit row may hold it (§6.3: webhook secrets are never recorded)."""
    data = body["data"]
    if not isinstance(data, dict):
        return body
    return {**body, "data": {k: v for k, v in data.items() if k not in SECRET_FIELDS}}


async def _record(
    session: AsyncSession,
    team_id: uuid.UUID,
    actor: Actor,
    action: str,
    webhook_id: uuid.UUID,
    request_body: Any,
    response_body: dict[str, object],
) -> None:
    await audit.record(
        session,
        team_id=team_id,
        actor=actor,
        action=action,
        target_type="WEBHOOK",
        target_id=webhook_id,
        request_body=request_body,
        response_body=_without_secret(response_body),
    )


async def _existing(
    session: AsyncSession, team_id: uuid.UUID, webhook_id: uuid.UUID, *, lock: bool = False
) -> Webhook:
    webhook = await repo.get(session, team_id, webhook_id, lock=lock)
    if webhook is None:
        raise ApiError(404, "Webhook not found")
    return webhook


async def create_webhook(
    runtime: Runtime, team_id: uuid.UUID, actor: Actor, data: Mapping[str, Any]
) -> dict[str, object]:
    """POST /webhooks: 400 on a URL the rule refuses, 403 at the team's cap (counted under the
    team row's lock); `data` shows the new secret this once."""
    _check_url(runtime, data["url"])
    secret = generate_secret()
    async with runtime.database.write() as session:
        team = await lock_team(session, team_id)
        if team is None or team.deleted_at is not None:
            raise ApiError(404, "Team not found")
        if team.max_webhooks and await repo.count(session, team_id) >= team.max_webhooks:
            raise ApiError(403, "Max webhooks reached")
        now = utcnow()
        webhook_id = uuid.uuid4()
        webhook = Webhook(
            id=webhook_id,
            team_id=team_id,
            url=data["url"],
            secret_ciphertext=seal_secret(runtime.keyring, team_id, webhook_id, secret),
            enabled_events=json.dumps(data["enabledEvents"]),
            active=data["active"],
            created_at=now,
            updated_at=now,
        )
        session.add(webhook)
        await session.flush()
        body = envelope(webhook_with_secret_json(webhook, secret), "Webhook created", valid=True)
        await _record(session, team_id, actor, "CREATE_WEBHOOK", webhook_id, dict(data), body)
    return body


async def get_webhook(
    runtime: Runtime, team_id: uuid.UUID, webhook_id: uuid.UUID
) -> dict[str, object]:
    """GET /webhooks/{webhookId}: the Webhook object (never the secret)."""
    async with runtime.database.read() as session:
        webhook = await _existing(session, team_id, webhook_id)
    return envelope(webhook_json(webhook), "Webhook found", valid=True)


async def list_webhooks(
    runtime: Runtime, team_id: uuid.UUID, page: PageRequest
) -> dict[str, object]:
    """GET /webhooks: one page of the team's webhooks, newest first."""
    async with runtime.database.read() as session:
        rows, total = await repo.page(session, team_id, page)
    rows, has_next = split_page(rows, page)
    return envelope(
        {
            "webhooks": [webhook_json(row) for row in rows],
            "hasNextPage": has_next,
            "totalResults": total,
        },
        "Webhooks found",
        valid=True,
    )


async def update_webhook(
    runtime: Runtime,
    team_id: uuid.UUID,
    actor: Actor,
    webhook_id: uuid.UUID,
    data: Mapping[str, Any],
) -> dict[str, object]:
    """PUT /webhooks/{webhookId}: 404, then the URL rule. The API always sends every field; the
    CLI sends only what it changes, and a field left out keeps its value (and a kept URL is not
    re-checked, so a webhook whose URL the settings no longer allow can still be deactivated)."""
    async with runtime.database.write() as session:
        webhook = await _existing(session, team_id, webhook_id, lock=True)
        if "url" in data:
            _check_url(runtime, data["url"])
            webhook.url = data["url"]
        if "enabledEvents" in data:
            webhook.enabled_events = json.dumps(data["enabledEvents"])
        if "active" in data:
            webhook.active = data["active"]
        webhook.updated_at = utcnow()
        await session.flush()
        body = envelope(webhook_json(webhook), "Webhook updated", valid=True)
        await _record(session, team_id, actor, "UPDATE_WEBHOOK", webhook_id, dict(data), body)
    return body


async def rotate_secret(
    runtime: Runtime, team_id: uuid.UUID, actor: Actor, webhook_id: uuid.UUID
) -> dict[str, object]:
    """POST /webhooks/{webhookId}/rotate-secret: a new secret, shown this once. Events not yet
    delivered are signed with the new secret from their next attempt on."""
    secret = generate_secret()
    async with runtime.database.write() as session:
        webhook = await _existing(session, team_id, webhook_id, lock=True)
        webhook.secret_ciphertext = seal_secret(runtime.keyring, team_id, webhook_id, secret)
        webhook.updated_at = utcnow()
        await session.flush()
        body = envelope(
            webhook_with_secret_json(webhook, secret), "Webhook secret rotated", valid=True
        )
        await _record(session, team_id, actor, "UPDATE_WEBHOOK", webhook_id, None, body)
    return body


async def delete_webhook(
    runtime: Runtime, team_id: uuid.UUID, actor: Actor, webhook_id: uuid.UUID
) -> dict[str, object]:
    """DELETE /webhooks/{webhookId}: the webhook and all its events; `data` is the webhook
    before deletion."""
    async with runtime.database.write() as session:
        webhook = await _existing(session, team_id, webhook_id, lock=True)
        body = envelope(webhook_json(webhook), "Webhook deleted", valid=True)
        await repo.delete_webhook(session, team_id, webhook_id)
        await _record(session, team_id, actor, "DELETE_WEBHOOK", webhook_id, None, body)
    return body


async def list_events(
    runtime: Runtime, team_id: uuid.UUID, webhook_id: uuid.UUID, page: PageRequest
) -> dict[str, object]:
    """GET /webhooks/{webhookId}/events: one page of the webhook's events, newest first."""
    async with runtime.database.read() as session:
        await _existing(session, team_id, webhook_id)
        rows, total = await repo.page_events(session, team_id, webhook_id, page)
    rows, has_next = split_page(rows, page)
    return envelope(
        {
            "events": [webhook_event_json(row) for row in rows],
            "hasNextPage": has_next,
            "totalResults": total,
        },
        "Webhook events found",
        valid=True,
    )


async def redeliver_event(
    runtime: Runtime,
    team_id: uuid.UUID,
    actor: Actor,
    webhook_id: uuid.UUID,
    event_id: uuid.UUID,
) -> dict[str, object]:
    """POST .../events/{eventId}/redeliver: the event becomes a fresh PENDING event, due now,
    whatever its status (§5.3); its stored body is unchanged. Audited as UPDATE_WEBHOOK."""
    async with runtime.database.write() as session:
        # Webhook before event: the delivery worker's failure path locks in that order too.
        await _existing(session, team_id, webhook_id, lock=True)
        event = await repo.get_event(session, team_id, event_id, webhook_id=webhook_id, lock=True)
        if event is None:
            raise ApiError(404, "Webhook event not found")
        now = utcnow()
        event.status = EventStatus.PENDING.value
        event.attempts = 0
        event.next_attempt_at = now
        event.lease_expires_at = None
        event.last_attempt_at = None
        event.delivered_at = None
        event.response_code = None
        event.response_body = None
        event.error_message = None
        event.updated_at = now
        await session.flush()
        body = envelope(webhook_event_json(event), "Webhook event requeued", valid=True)
        await _record(session, team_id, actor, "UPDATE_WEBHOOK", webhook_id, None, body)
    runtime.webhook_wakeup.set()
    return body


async def webhook_of_event(runtime: Runtime, team_id: uuid.UUID, event_id: uuid.UUID) -> uuid.UUID:
    """The webhook an event of this team belongs to (the CLI addresses events by id alone)."""
    async with runtime.database.read() as session:
        event = await repo.get_event(session, team_id, event_id)
    if event is None:
        raise ApiError(404, "Webhook event not found")
    return event.webhook_id
