"""Team bootstrap and administration (used by the CLI; no API key needed)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.apikeys import service as apikeys
from releasegate.auth.actors import CLI_ACTOR
from releasegate.changes import Change, record_change
from releasegate.files import service as files
from releasegate.kit.clock import iso_or_none, utcnow
from releasegate.kit.rsa_keys import KeyPairPem, generate_key_pair, public_key_base64
from releasegate.runtime import Runtime
from releasegate.teams import repository as repo
from releasegate.teams.errors import ApiKeyNotFound, MaxApiKeysReached, TeamNotFound
from releasegate.teams.models import Team, TeamKeyPair
from releasegate.teams.schemas import LIMIT_FIELDS, SETTING_FIELDS, TeamLimits, TeamSettings
from releasegate.teams.views import changes_json, team_fields_json


@dataclass(frozen=True, repr=False)
class CreatedTeam:
    team_id: uuid.UUID
    api_key: str
    public_key: str

    def as_json(self) -> dict[str, str]:
        return {
            "teamId": str(self.team_id),
            "apiKey": self.api_key,
            "publicKey": self.public_key,
            "publicKeyBase64": public_key_base64(self.public_key),
        }


@dataclass(frozen=True, repr=False)
class CreatedKey:
    key_id: uuid.UUID
    api_key: str
    expires_at: datetime | None

    def as_json(self) -> dict[str, object]:
        return {
            "id": str(self.key_id),
            "apiKey": self.api_key,
            "expiresAt": iso_or_none(self.expires_at),
        }


def private_key_aad(team_id: uuid.UUID) -> str:
    return f"team-private-key:{team_id}"


async def _add_key(
    session: AsyncSession, runtime: Runtime, team_id: uuid.UUID, expires_at: datetime | None
) -> CreatedKey:
    issued = await apikeys.add_key(session, runtime.settings.api_key_prefix, team_id, expires_at)
    key = issued.key
    await record_change(
        session,
        runtime,
        Change(
            team_id, CLI_ACTOR, "CREATE_API_KEY", "API_KEY", key.id, response=issued.record_json()
        ),
    )
    return CreatedKey(key.id, issued.token, expires_at)


def _sealed_pair(runtime: Runtime, team_id: uuid.UUID, pair: KeyPairPem) -> tuple[str, str]:
    return pair.public_pem, runtime.keyring.encrypt(
        pair.private_pem.encode(), private_key_aad(team_id)
    )


async def create_team(runtime: Runtime, name: str) -> CreatedTeam:
    """A team with its RSA-2048 key pair (private key encrypted at rest), its storage counter
    and a first API key."""
    pair = generate_key_pair()
    team_id = uuid.uuid4()
    public, sealed = _sealed_pair(runtime, team_id, pair)
    async with runtime.database.write() as session:
        now = utcnow()
        await repo.add_team(
            session,
            Team(id=team_id, name=name, created_at=now, updated_at=now),
            TeamKeyPair(team_id=team_id, public_key=public, private_key_ciphertext=sealed),
        )
        await files.open_usage(session, team_id)
        key = await _add_key(session, runtime, team_id, None)
    return CreatedTeam(team_id, key.api_key, pair.public_pem)


async def _live_team(session: AsyncSession, team_id: uuid.UUID, *, lock: bool = False) -> Team:
    team = (
        await repo.lock_team(session, team_id) if lock else await repo.live_team(session, team_id)
    )
    if team is None or team.deleted_at is not None:
        raise TeamNotFound()
    return team


async def create_api_key(
    runtime: Runtime, team_id: uuid.UUID, expires_at: datetime | None
) -> CreatedKey:
    """A new key (shown once), within the team's `maxApiKeys`, counted under the team lock."""
    async with runtime.database.write() as session:
        team = await _live_team(session, team_id, lock=True)
        if team.max_api_keys and await apikeys.count_keys(session, team_id) >= team.max_api_keys:
            raise MaxApiKeysReached()
        return await _add_key(session, runtime, team_id, expires_at)


async def revoke_api_key(runtime: Runtime, team_id: uuid.UUID, key_id: uuid.UUID) -> None:
    async with runtime.database.write() as session:
        await _live_team(session, team_id)
        if not await apikeys.remove_key(session, team_id, key_id):
            raise ApiKeyNotFound()
        await record_change(
            session,
            runtime,
            Change(
                team_id,
                CLI_ACTOR,
                "DELETE_API_KEY",
                "API_KEY",
                key_id,
                response={"id": str(key_id)},
            ),
        )


async def _update_fields(
    runtime: Runtime,
    team_id: uuid.UUID,
    changes: dict[str, object],
    fields: tuple[str, ...],
    action: str,
) -> dict[str, object]:
    async with runtime.database.write() as session:
        team = await _live_team(session, team_id)
        for name, value in changes.items():
            setattr(team, name, value)
        if changes:
            team.updated_at = utcnow()
            await session.flush()
            result = team_fields_json(team, fields, runtime.settings.max_file_size_mb)
            await record_change(
                session,
                runtime,
                Change(
                    team_id,
                    CLI_ACTOR,
                    action,
                    "TEAM",
                    team_id,
                    request=changes_json(changes),
                    response=result,
                ),
            )
        return team_fields_json(team, fields, runtime.settings.max_file_size_mb)


async def update_limits(
    runtime: Runtime, team_id: uuid.UUID, limits: TeamLimits
) -> dict[str, object]:
    """Apply the limits that are set; returns every limit as it now is."""
    return await _update_fields(
        runtime, team_id, limits.changes(), LIMIT_FIELDS, "UPDATE_TEAM_LIMITS"
    )


async def update_settings(
    runtime: Runtime, team_id: uuid.UUID, settings: TeamSettings
) -> dict[str, object]:
    """Apply the settings that are set; returns every setting as it now is."""
    return await _update_fields(
        runtime, team_id, settings.changes(), SETTING_FIELDS, "UPDATE_TEAM_SETTINGS"
    )


async def replace_key_pair(
    runtime: Runtime, team_id: uuid.UUID, pair: KeyPairPem | None = None
) -> str:
    """Replace the team's RSA key pair at once (no overlap period) and return the new public PEM.

    `pair` defaults to a fresh RSA-2048 pair. The private key is stored encrypted as in
    `create_team`; the audit row records only the new public key.
    """
    new_pair = pair if pair is not None else generate_key_pair()
    public, sealed = _sealed_pair(runtime, team_id, new_pair)
    async with runtime.database.write() as session:
        await _live_team(session, team_id)
        stored = await repo.key_pair(session, team_id)
        if stored is None:
            raise LookupError(f"team {team_id} has no key pair")
        stored.public_key = public
        stored.private_key_ciphertext = sealed
        stored.updated_at = utcnow()
        await session.flush()
        await record_change(
            session,
            runtime,
            Change(
                team_id,
                CLI_ACTOR,
                "ROTATE_TEAM_KEY_PAIR",
                "TEAM",
                team_id,
                response={"publicKey": public, "publicKeyBase64": public_key_base64(public)},
            ),
        )
    return new_pair.public_pem


async def team_exists(runtime: Runtime, team_id: uuid.UUID) -> bool:
    async with runtime.database.read() as session:
        return await repo.live_team(session, team_id) is not None
