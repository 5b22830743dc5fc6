"""Issuing API keys (security-and-limits.md §1.1): only the hash is stored; the token is
returned once, to be shown once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.apikeys import repository as repo
from releasegate.apikeys.models import ApiKey
from releasegate.apikeys.tokens import issue_key
from releasegate.kit.clock import iso_or_none, utcnow


@dataclass(frozen=True, repr=False)
class IssuedApiKey:
    """A stored key and its token, which exists nowhere else."""

    key: ApiKey
    token: str

    def record_json(self) -> dict[str, object]:
        """What an audit row may hold: id, hint and expiry, never the token
        (webhooks-and-audit.md §6.3)."""
        return {
            "id": str(self.key.id),
            "hint": self.key.hint,
            "expiresAt": iso_or_none(self.key.expires_at),
        }


async def add_key(
    session: AsyncSession, prefix: str, team_id: uuid.UUID, expires_at: datetime | None
) -> IssuedApiKey:
    """A new key of the team, in the caller's transaction."""
    issued = issue_key(prefix)
    key = ApiKey(
        id=uuid.uuid4(),
        team_id=team_id,
        key_hash=issued.key_hash,
        hint=issued.hint,
        expires_at=expires_at,
        created_at=utcnow(),
    )
    await repo.add(session, key)
    return IssuedApiKey(key, issued.token)


async def count_keys(session: AsyncSession, team_id: uuid.UUID) -> int:
    return await repo.count_for_team(session, team_id)


async def remove_key(session: AsyncSession, team_id: uuid.UUID, key_id: uuid.UUID) -> bool:
    """False when the team has no such key."""
    return await repo.delete_for_team(session, team_id, key_id)
