"""Webhook management rules (webhooks-and-audit.md §1): the URL rule, the team's `maxWebhooks`
cap, secrets shown once and stored sealed, and redelivery of one event.

Every mutation writes its audit row in the transaction of the change; the secret never reaches
an audit row (§6.3): the recorded response is the envelope with `secret` and `secretWhsec` removed.
Both the dev API and `releasegate webhook` call these functions, with their own Actor.
"""

from __future__ import annotations

import json
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.auth.actors import Actor
from releasegate.changes import Change, record_change
from releasegate.kit.clock import utcnow
from releasegate.kit.envelope import Reply
from releasegate.kit.pagination import Page, PageRequest
from releasegate.runtime import Runtime
from releasegate.teams import repository as teams
from releasegate.teams.errors import TeamNotFound
from releasegate.webhooks import repository as repo
from releasegate.webhooks.errors import (
    InvalidWebhookUrl,
    MaxWebhooksReached,
    WebhookEventNotFound,
    WebhookNotFound,
)
from releasegate.webhooks.models import EventStatus, Webhook, WebhookEvent
from releasegate.webhooks.schemas import WebhookChanges
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
        raise InvalidWebhookUrl()


def _without_secret(body: dict[str, object]) -> dict[str, object]:
    """The envelope as the audit row may hold it (§6.3: webhook secrets are never recorded)."""
    data = body["data"]
    if not isinstance(data, dict):
        return body
    return {**body, "data": {k: v for k, v in data.items() if k not in SECRET_FIELDS}}


async def _record(
    session: AsyncSession,
    runtime: Runtime,
    team_id: uuid.UUID,
    actor: Actor,
    action: str,
    webhook_id: uuid.UUID,
    request_body: object,
    reply: Reply[Webhook] | Reply[WebhookEvent],
) -> None:
    """The audit row (webhook management emits no webhook events)."""
    response = _without_secret(reply.envelope())
    change = Change(team_id, actor, action, "WEBHOOK", webhook_id, request_body, response)
    await record_change(session, runtime, change)


async def _existing(
    session: AsyncSession, team_id: uuid.UUID, webhook_id: uuid.UUID, *, lock: bool = False
) -> Webhook:
    webhook = await repo.get(session, team_id, webhook_id, lock=lock)
    if webhook is None:
        raise WebhookNotFound()
    return webhook


async def create_webhook(
    runtime: Runtime, team_id: uuid.UUID, actor: Actor, changes: WebhookChanges
) -> Reply[Webhook]:
    """400 on a URL the rule refuses, 403 at the team's cap (counted under the team row's
    lock); the answer shows the new secret this once."""
    assert changes.url is not None
    assert changes.enabled_events is not None
    _check_url(runtime, changes.url)
    secret = generate_secret()
    async with runtime.database.write() as session:
        team = await teams.lock_team(session, team_id)
        if team is None or team.deleted_at is not None:
            raise TeamNotFound()
        if team.max_webhooks and await repo.count(session, team_id) >= team.max_webhooks:
            raise MaxWebhooksReached()
        now = utcnow()
        webhook_id = uuid.uuid4()
        webhook = Webhook(
            id=webhook_id,
            team_id=team_id,
            url=changes.url,
            secret_ciphertext=seal_secret(runtime.keyring, team_id, webhook_id, secret),
            enabled_events=json.dumps(list(changes.enabled_events)),
            active=True if changes.active is None else changes.active,
            created_at=now,
            updated_at=now,
        )
        await repo.add(session, webhook)
        reply = Reply(webhook, webhook_with_secret_json(webhook, secret), "Webhook created")
        await _record(
            session,
            runtime,
            team_id,
            actor,
            "CREATE_WEBHOOK",
            webhook_id,
            dict(changes.request),
            reply,
        )
    return reply


async def get_webhook(runtime: Runtime, team_id: uuid.UUID, webhook_id: uuid.UUID) -> Webhook:
    """The webhook (its secret is never shown again)."""
    async with runtime.database.read() as session:
        return await _existing(session, team_id, webhook_id)


async def list_webhooks(
    runtime: Runtime, team_id: uuid.UUID, request: PageRequest
) -> Page[Webhook]:
    """One page of the team's webhooks, newest first."""
    async with runtime.database.read() as session:
        return await repo.page(session, team_id, request)


async def update_webhook(
    runtime: Runtime,
    team_id: uuid.UUID,
    actor: Actor,
    webhook_id: uuid.UUID,
    changes: WebhookChanges,
) -> Reply[Webhook]:
    """404, then the URL rule. A field left out keeps its value (and a kept URL is not
    re-checked, so a webhook whose URL the settings no longer allow can still be deactivated)."""
    async with runtime.database.write() as session:
        webhook = await _existing(session, team_id, webhook_id, lock=True)
        if changes.url is not None:
            _check_url(runtime, changes.url)
            webhook.url = changes.url
        if changes.enabled_events is not None:
            webhook.enabled_events = json.dumps(list(changes.enabled_events))
        if changes.active is not None:
            webhook.active = changes.active
        webhook.updated_at = utcnow()
        await session.flush()
        reply = Reply(webhook, webhook_json(webhook), "Webhook updated")
        await _record(
            session,
            runtime,
            team_id,
            actor,
            "UPDATE_WEBHOOK",
            webhook_id,
            dict(changes.request),
            reply,
        )
    return reply


async def rotate_secret(
    runtime: Runtime, team_id: uuid.UUID, actor: Actor, webhook_id: uuid.UUID
) -> Reply[Webhook]:
    """A new secret, shown this once. Events not yet delivered are signed with it from their
    next attempt on."""
    secret = generate_secret()
    async with runtime.database.write() as session:
        webhook = await _existing(session, team_id, webhook_id, lock=True)
        webhook.secret_ciphertext = seal_secret(runtime.keyring, team_id, webhook_id, secret)
        webhook.updated_at = utcnow()
        await session.flush()
        reply = Reply(webhook, webhook_with_secret_json(webhook, secret), "Webhook secret rotated")
        await _record(session, runtime, team_id, actor, "UPDATE_WEBHOOK", webhook_id, None, reply)
    return reply


async def delete_webhook(
    runtime: Runtime, team_id: uuid.UUID, actor: Actor, webhook_id: uuid.UUID
) -> Reply[Webhook]:
    """The webhook and all its events; the answer is the webhook before deletion."""
    async with runtime.database.write() as session:
        webhook = await _existing(session, team_id, webhook_id, lock=True)
        reply = Reply(webhook, webhook_json(webhook), "Webhook deleted")
        await repo.delete_webhook(session, team_id, webhook_id)
        await _record(session, runtime, team_id, actor, "DELETE_WEBHOOK", webhook_id, None, reply)
    return reply


async def list_events(
    runtime: Runtime, team_id: uuid.UUID, webhook_id: uuid.UUID, request: PageRequest
) -> Page[WebhookEvent]:
    """One page of the webhook's events, newest first."""
    async with runtime.database.read() as session:
        await _existing(session, team_id, webhook_id)
        return await repo.page_events(session, team_id, webhook_id, request)


async def redeliver_event(
    runtime: Runtime,
    team_id: uuid.UUID,
    actor: Actor,
    webhook_id: uuid.UUID,
    event_id: uuid.UUID,
) -> Reply[WebhookEvent]:
    """The event becomes a fresh PENDING event, due now, whatever its status (§5.3); its stored
    body is unchanged. Audited as UPDATE_WEBHOOK."""
    async with runtime.database.write() as session:
        # Webhook before event: the delivery worker's failure path locks in that order too.
        await _existing(session, team_id, webhook_id, lock=True)
        event = await repo.get_event(session, team_id, event_id, webhook_id=webhook_id, lock=True)
        if event is None:
            raise WebhookEventNotFound()
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
        reply = Reply(event, webhook_event_json(event), "Webhook event requeued")
        await _record(session, runtime, team_id, actor, "UPDATE_WEBHOOK", webhook_id, None, reply)
    runtime.webhook_wakeup.set()
    return reply


async def webhook_of_event(runtime: Runtime, team_id: uuid.UUID, event_id: uuid.UUID) -> uuid.UUID:
    """The webhook an event of this team belongs to (the CLI addresses events by id alone)."""
    async with runtime.database.read() as session:
        event = await repo.get_event(session, team_id, event_id)
    if event is None:
        raise WebhookEventNotFound()
    return event.webhook_id
