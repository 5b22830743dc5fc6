"""All webhook SQL. Every query is scoped by team (invariant T2)."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.kit.pagination import PageRequest
from releasegate.webhooks.models import Webhook, WebhookEvent

Row = TypeVar("Row", Webhook, WebhookEvent)


def _locked(query: Select[Row], lock: bool) -> Select[Row]:
    return query.with_for_update().execution_options(populate_existing=True) if lock else query


async def get(
    session: AsyncSession, team_id: uuid.UUID, webhook_id: uuid.UUID, *, lock: bool = False
) -> Webhook | None:
    query = select(Webhook).where(Webhook.team_id == team_id, Webhook.id == webhook_id)
    return await session.scalar(_locked(query, lock))


async def count(session: AsyncSession, team_id: uuid.UUID) -> int:
    return int((await session.scalar(select(func.count()).where(Webhook.team_id == team_id))) or 0)


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
    return await session.scalar(_locked(query, lock))


async def _page(
    session: AsyncSession, model: type[Row], conditions: list[Any], request: PageRequest
) -> tuple[list[Row], int]:
    """Newest first (ties by id), `page_size + 1` rows, and the number of matching rows.

    The offset walk selects ids only, along the (scope, created_at, id) index; the page's full
    rows are then loaded by id.
    """
    total = await session.scalar(select(func.count()).select_from(model).where(*conditions))
    ordering: list[Any] = [model.created_at.desc(), model.id.desc()]
    page_ids = (
        select(model.id)
        .where(*conditions)
        .order_by(*ordering)
        .offset(request.offset)
        .limit(request.page_size + 1)
        .subquery()
    )
    rows = await session.scalars(
        select(model).join(page_ids, model.id == page_ids.c.id).order_by(*ordering)
    )
    return list(rows), int(total or 0)


async def page(
    session: AsyncSession, team_id: uuid.UUID, request: PageRequest
) -> tuple[list[Webhook], int]:
    return await _page(session, Webhook, [Webhook.team_id == team_id], request)


async def page_events(
    session: AsyncSession, team_id: uuid.UUID, webhook_id: uuid.UUID, request: PageRequest
) -> tuple[list[WebhookEvent], int]:
    conditions = [WebhookEvent.team_id == team_id, WebhookEvent.webhook_id == webhook_id]
    return await _page(session, WebhookEvent, conditions, request)
