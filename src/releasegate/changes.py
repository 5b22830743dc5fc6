"""The two records of a successful mutation: its audit row and its webhook events.

Written inside the change's own transaction (webhooks-and-audit.md §2, §6.1), so a rolled-back
change leaves neither, and a committed one leaves both.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.audit.service import record
from releasegate.auth.actors import Actor
from releasegate.runtime import Runtime
from releasegate.webhooks.models import EventType
from releasegate.webhooks.outbox import emit


@dataclass(frozen=True)
class Event:
    """A webhook event; `holds_license_key` bodies are stored encrypted."""

    type: EventType
    payload: dict[str, object]
    holds_license_key: bool = False


@dataclass(frozen=True)
class Change:
    """What happened: who did it, to what, what was asked and answered, which events follow."""

    team_id: uuid.UUID
    actor: Actor
    action: str
    target_type: str
    target_id: uuid.UUID | None
    request: object = None
    response: object = None
    events: Sequence[Event] = ()


async def record_change(session: AsyncSession, runtime: Runtime, change: Change) -> None:
    """The audit row, then the events in order, in the caller's transaction."""
    await record(
        session,
        team_id=change.team_id,
        actor=change.actor,
        action=change.action,
        target_type=change.target_type,
        target_id=change.target_id,
        request_body=change.request,
        response_body=change.response,
    )
    for event in change.events:
        await emit(
            session,
            runtime,
            change.team_id,
            event.type,
            event.payload,
            holds_license_key=event.holds_license_key,
        )
