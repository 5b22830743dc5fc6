"""The Webhook and WebhookEvent objects of the management API (webhooks-and-audit.md §1)."""

from __future__ import annotations

import json

from releasegate.kit.clock import iso, iso_or_none
from releasegate.webhooks.models import Webhook, WebhookEvent
from releasegate.webhooks.secrets import whsec_form


def enabled_events(row: Webhook) -> list[str]:
    events: list[str] = json.loads(row.enabled_events)
    return events


def webhook_json(row: Webhook) -> dict[str, object]:
    """The Webhook object: every field but the secret."""
    return {
        "id": str(row.id),
        "teamId": str(row.team_id),
        "url": row.url,
        "enabledEvents": enabled_events(row),
        "active": row.active,
        "createdAt": iso(row.created_at),
        "updatedAt": iso(row.updated_at),
    }


def webhook_with_secret_json(row: Webhook, secret: str) -> dict[str, object]:
    """The Webhook object plus the secret in both forms, as shown once at creation or rotation."""
    return {**webhook_json(row), "secret": secret, "secretWhsec": whsec_form(secret)}


def webhook_event_json(row: WebhookEvent) -> dict[str, object]:
    """One outbox row; `errorMessage` and `lastAttemptAt` are Additive. The body is not shown."""
    return {
        "id": str(row.id),
        "eventType": row.event_type,
        "status": row.status,
        "attempts": row.attempts,
        "nextAttemptAt": iso(row.next_attempt_at),
        "lastResponseCode": row.response_code,
        "createdAt": iso(row.created_at),
        "deliveredAt": iso_or_none(row.delivered_at),
        "errorMessage": row.error_message,
        "lastAttemptAt": iso_or_none(row.last_attempt_at),
    }
