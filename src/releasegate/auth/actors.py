"""Who made a change: an API key (with its request's origin), the CLI, or the system."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    source: str
    api_key_id: uuid.UUID | None = None
    ip_address: str | None = None
    user_agent: str | None = None
    country: str | None = None


CLI_ACTOR = Actor(source="CLI")
SYSTEM_ACTOR = Actor(source="SYSTEM")
