"""All webhook SQL: management (scoped by team), the outbox, and the delivery worker's claims."""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.kit.pagination import Page, PageRequest, fetch_page
from releasegate.webhooks.models import EventStatus, Webhook, WebhookEvent

# --- management -------------------------------------------------------------------------------


async def get(
    session: AsyncSession, team_id: uuid.UUID, webhook_id: uuid.UUID, *, lock: bool = False
) -> Webhook | None:
    query = select(Webhook).where(Webhook.team_id == team_id, Webhook.id == webhook_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(query)


async def count(session: AsyncSession, team_id: uuid.UUID) -> int:
    return int((await session.scalar(select(func.count()).where(Webhook.team_id == team_id))) or 0)


async def add(session: AsyncSession, webhook: Webhook) -> None:
    session.add(webhook)
    await session.flush()


async def delete_webhook(session: AsyncSession, team_id: uuid.UUID, webhook_id: uuid.UUID) -> None:
    """The webhook and its events (explicitly, not only through the foreign key's cascade)."""
    await session.execute(
        delete(WebhookEvent)
        .where(WebhookEvent.team_id == team_id, WebhookEvent.webhook_id == webhook_id)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        delete(Webhook)
        .where(Webhook.team_id == team_id, Webhook.id == webhook_id)
        .execution_options(synchronize_session=False)
    )


async def get_event(
    session: AsyncSession,
    team_id: uuid.UUID,
    event_id: uuid.UUID,
    *,
    webhook_id: uuid.UUID | None = None,
    lock: bool = False,
) -> WebhookEvent | None:
    query = select(WebhookEvent).where(WebhookEvent.team_id == team_id, WebhookEvent.id == event_id)
    if webhook_id is not None:
        query = query.where(WebhookEvent.webhook_id == webhook_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(query)


async def page(session: AsyncSession, team_id: uuid.UUID, request: PageRequest) -> Page[Webhook]:
    """Newest first (ties by id)."""
    ordering = (Webhook.created_at.desc(), Webhook.id.desc())
    return await fetch_page(session, Webhook, [Webhook.team_id == team_id], ordering, request)


async def page_events(
    session: AsyncSession, team_id: uuid.UUID, webhook_id: uuid.UUID, request: PageRequest
) -> Page[WebhookEvent]:
    """Newest first (ties by id)."""
    conditions = [WebhookEvent.team_id == team_id, WebhookEvent.webhook_id == webhook_id]
    ordering = (WebhookEvent.created_at.desc(), WebhookEvent.id.desc())
    return await fetch_page(session, WebhookEvent, conditions, ordering, request)


# --- outbox -----------------------------------------------------------------------------------


async def subscribers(session: AsyncSession, team_id: uuid.UUID, event_type: str) -> list[Webhook]:
    """The team's active webhooks that listen for `event_type`, oldest first."""
    rows = await session.scalars(
        select(Webhook)
        .where(Webhook.team_id == team_id, Webhook.active.is_(True))
        .order_by(Webhook.created_at, Webhook.id)
    )
    return [row for row in rows if event_type in json.loads(row.enabled_events)]


def add_events(session: AsyncSession, events: Sequence[WebhookEvent]) -> None:
    session.add_all(events)


# --- delivery ---------------------------------------------------------------------------------


def _due(now: datetime) -> Any:
    return or_(
        and_(
            WebhookEvent.status.in_([EventStatus.PENDING, EventStatus.RETRY_SCHEDULED]),
            WebhookEvent.next_attempt_at <= now,
        ),
        and_(
            WebhookEvent.status == EventStatus.IN_PROGRESS,
            WebhookEvent.lease_expires_at < now,  # a crashed attempt
        ),
    )


async def any_due(session: AsyncSession, now: datetime) -> bool:
    return await session.scalar(select(WebhookEvent.id).where(_due(now)).limit(1)) is not None


async def claim_due(
    session: AsyncSession, now: datetime, lease_expires_at: datetime, limit: int
) -> list[Any]:
    """Up to `limit` due events, oldest due first, marked IN_PROGRESS with the next attempt
    number and a lease; rows of (id, team_id, webhook_id, event_type, body, body_encrypted,
    attempts before the claim). Locked rows are skipped (PostgreSQL; SQLite's write scope is
    BEGIN IMMEDIATE already)."""
    events = list(
        await session.execute(
            select(
                WebhookEvent.id,
                WebhookEvent.team_id,
                WebhookEvent.webhook_id,
                WebhookEvent.event_type,
                WebhookEvent.body,
                WebhookEvent.body_encrypted,
                WebhookEvent.attempts,
            )
            .where(_due(now))
            .order_by(WebhookEvent.next_attempt_at, WebhookEvent.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if events:
        await session.execute(
            update(WebhookEvent)
            .where(WebhookEvent.id.in_([event.id for event in events]))
            .values(
                status=EventStatus.IN_PROGRESS,
                attempts=WebhookEvent.attempts + 1,
                last_attempt_at=now,
                lease_expires_at=lease_expires_at,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
    return events


async def delivery_targets(
    session: AsyncSession, webhook_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, Any]:
    """Webhook id → (id, url, secret_ciphertext, active)."""
    rows = await session.execute(
        select(Webhook.id, Webhook.url, Webhook.secret_ciphertext, Webhook.active).where(
            Webhook.id.in_(webhook_ids)
        )
    )
    return {row.id: row for row in rows}


@dataclass(frozen=True)
class AttemptResult:
    """What one delivery attempt leaves on its event row."""

    status: EventStatus
    at: datetime
    response_code: int | None
    response_body: str | None
    error_message: str | None
    delivered_at: datetime | None = None
    next_attempt_at: datetime | None = None  # None keeps the scheduled time

    def values(self) -> dict[str, object]:
        values: dict[str, object] = {
            "status": self.status,
            "response_code": self.response_code,
            "response_body": self.response_body,
            "error_message": self.error_message,
            "lease_expires_at": None,
            "updated_at": self.at,
        }
        if self.delivered_at is not None:
            values["delivered_at"] = self.delivered_at
        if self.next_attempt_at is not None:
            values["next_attempt_at"] = self.next_attempt_at
        return values


async def record_outcome(
    session: AsyncSession,
    event_id: uuid.UUID,
    attempt: int,
    claimed_at: datetime,
    result: AttemptResult,
) -> bool:
    """Store an attempt's outcome, only while the event is still that claim; False otherwise."""
    outcome = await session.execute(
        update(WebhookEvent)
        .where(
            WebhookEvent.id == event_id,
            WebhookEvent.status == EventStatus.IN_PROGRESS,
            WebhookEvent.attempts == attempt,
            # A redeliver resets the attempt number; the claim time still tells claims apart.
            WebhookEvent.last_attempt_at == claimed_at,
        )
        .values(**result.values())
        .execution_options(synchronize_session=False)
    )
    return outcome.rowcount == 1  # type: ignore[attr-defined,no-any-return]


async def lock_active(session: AsyncSession, webhook_id: uuid.UUID) -> bool:
    """Lock the webhook row (PostgreSQL; SQLite's BEGIN IMMEDIATE serialises); True if active."""
    active = await session.scalar(
        select(Webhook.active).where(Webhook.id == webhook_id).with_for_update()
    )
    return bool(active)


async def recent_failures(
    session: AsyncSession, webhook_id: uuid.UUID, since: datetime, excluding_error: str
) -> int:
    """FAILED events updated since `since`, except those that failed with `excluding_error`."""
    failures = await session.scalar(
        select(func.count())
        .select_from(WebhookEvent)
        .where(
            WebhookEvent.webhook_id == webhook_id,
            WebhookEvent.status == EventStatus.FAILED,
            WebhookEvent.updated_at >= since,
            or_(
                WebhookEvent.error_message.is_(None),
                WebhookEvent.error_message != excluding_error,
            ),
        )
    )
    return int(failures or 0)


async def delivered_since(session: AsyncSession, webhook_id: uuid.UUID, since: datetime) -> bool:
    found = await session.scalar(
        select(WebhookEvent.id)
        .where(
            WebhookEvent.webhook_id == webhook_id,
            WebhookEvent.status == EventStatus.DELIVERED,
            WebhookEvent.delivered_at >= since,
        )
        .limit(1)
    )
    return found is not None


async def deactivate(session: AsyncSession, webhook_id: uuid.UUID, now: datetime) -> bool:
    """Turn an active webhook off; False when it already was."""
    result = await session.execute(
        update(Webhook)
        .where(Webhook.id == webhook_id, Webhook.active.is_(True))
        .values(active=False, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]
