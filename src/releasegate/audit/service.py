"""Audit rows, written inside the transaction of the change they describe."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from releasegate import __version__
from releasegate.audit.models import AuditLog
from releasegate.auth.actors import Actor
from releasegate.kit.clock import utcnow

_LICENSE_KEY = re.compile(r"^[A-Z0-9]{5}(-[A-Z0-9]{5}){4}$")


def license_key_hint(key: str) -> str:
    return "*****-*****-*****-*****-" + key[-5:]


def sanitise(value: Any) -> Any:
    """Replace every `licenseKey` value by its hint; nothing else is removed."""
    if isinstance(value, dict):
        cleaned: dict[str, Any] = {}
        for key, item in value.items():
            if key == "licenseKey" and isinstance(item, str):
                cleaned[key] = (
                    license_key_hint(item) if _LICENSE_KEY.fullmatch(item) else "[redacted]"
                )
            else:
                cleaned[key] = sanitise(item)
        return cleaned
    if isinstance(value, list):
        return [sanitise(item) for item in value]
    return value


async def record(
    session: AsyncSession,
    *,
    team_id: uuid.UUID,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: uuid.UUID | None,
    request_body: Any,
    response_body: Any,
) -> None:
    session.add(
        AuditLog(
            team_id=team_id,
            created_at=utcnow(),
            action=action,
            target_type=target_type,
            target_id=target_id,
            source=actor.source,
            api_key_id=actor.api_key_id,
            ip_address=actor.ip_address,
            user_agent=None if actor.user_agent is None else actor.user_agent[:1024],
            country=actor.country,
            request_body=None
            if request_body is None
            else json.dumps(sanitise(request_body), ensure_ascii=False),
            response_body=None
            if response_body is None
            else json.dumps(sanitise(response_body), ensure_ascii=False),
            version=__version__,
        )
    )
    await session.flush()
