"""License webhook events: the License object with its plaintext key, so stored encrypted."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.runtime import Runtime
from releasegate.webhooks.models import EventType
from releasegate.webhooks.outbox import emit


async def emit_license_event(
    session: AsyncSession,
    runtime: Runtime,
    team_id: uuid.UUID,
    event_type: EventType,
    response_body: dict[str, object],
) -> None:
    """The License object of a response envelope (§3: it includes `licenseKey`)."""
    payload = response_body["data"]
    assert isinstance(payload, dict)
    await emit(session, runtime, team_id, event_type, payload, holds_license_key=True)
