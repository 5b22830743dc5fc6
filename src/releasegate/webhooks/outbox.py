"""Writing webhook events into the outbox, inside the transaction of the change
(webhooks-and-audit.md §2, §5.1).

A rolled-back change leaves no event; a committed one leaves one row per matching active
webhook. The body is serialised here, once: every delivery attempt sends these bytes.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.kit.clock import utcnow
from releasegate.kit.envelope import dumps
from releasegate.runtime import Runtime
from releasegate.webhooks import repository as repo
from releasegate.webhooks.models import EventType, WebhookEvent

_LAST_INSTANT = "releasegate.webhooks.last_event_instant"
_WAKE_REGISTERED = "releasegate.webhooks.wake_registered"


def event_body_aad(team_id: uuid.UUID, event_id: uuid.UUID) -> str:
    return f"webhook-event:{team_id}:{event_id}"


async def has_subscribers(session: AsyncSession, team_id: uuid.UUID, event_type: EventType) -> bool:
    """Whether emitting `event_type` would create a row (lets callers skip building payloads)."""
    return bool(await repo.subscribers(session, team_id, event_type.value))


def _next_instant(session: AsyncSession) -> datetime:
    """Now, but strictly after the previous event of this transaction, so that delivery order
    (by `nextAttemptAt`, then `createdAt`) is creation order (§2 Order)."""
    previous: datetime | None = session.info.get(_LAST_INSTANT)
    now = utcnow()
    if previous is not None and now <= previous:
        now = previous + timedelta(microseconds=1)
    session.info[_LAST_INSTANT] = now
    return now


def _wake_after_commit(session: AsyncSession, runtime: Runtime) -> None:
    """Once per transaction: after its commit, the local delivery job looks at once."""
    if session.info.get(_WAKE_REGISTERED):
        return
    session.info[_WAKE_REGISTERED] = True

    def wake(_session: Any) -> None:
        session.info.pop(_WAKE_REGISTERED, None)
        runtime.webhook_wakeup.set()

    event.listen(session.sync_session, "after_commit", wake, once=True)


async def emit(
    session: AsyncSession,
    runtime: Runtime,
    team_id: uuid.UUID,
    event_type: EventType,
    payload: dict[str, object],
    *,
    holds_license_key: bool = False,
) -> None:
    """One outbox row per active webhook of the team subscribed to `event_type`.

    `holds_license_key` bodies are stored encrypted, so no plaintext key rests in the database.
    """
    webhooks = await repo.subscribers(session, team_id, event_type.value)
    if not webhooks:
        return
    body = dumps(payload).decode()
    rows: list[WebhookEvent] = []
    for webhook in webhooks:
        now = _next_instant(session)
        event_id = uuid.uuid4()
        stored = (
            runtime.keyring.encrypt(body.encode(), event_body_aad(team_id, event_id))
            if holds_license_key
            else body
        )
        rows.append(
            WebhookEvent(
                id=event_id,
                team_id=team_id,
                webhook_id=webhook.id,
                event_type=event_type.value,
                body=stored,
                body_encrypted=holds_license_key,
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
            )
        )
    repo.add_events(session, rows)
    await session.flush()
    _wake_after_commit(session, runtime)
