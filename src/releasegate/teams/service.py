"""Team bootstrap and administration (used by the CLI; no API key needed)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.apikeys import repository as apikeys
from releasegate.apikeys.models import ApiKey
from releasegate.apikeys.tokens import issue_key
from releasegate.audit import service as audit
from releasegate.audit.service import CLI_ACTOR
from releasegate.kit.clock import iso_or_none, utcnow
from releasegate.kit.errors import ApiError
from releasegate.kit.rsa_keys import KeyPairPem, generate_key_pair, public_key_base64
from releasegate.runtime import Runtime
from releasegate.teams.models import Team, TeamKeyPair, TeamStorageUsage
from releasegate.teams.repository import lock_team


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
    issued = issue_key(runtime.settings.api_key_prefix)
    key = ApiKey(
        id=uuid.uuid4(),
        team_id=team_id,
        key_hash=issued.key_hash,
        hint=issued.hint,
        expires_at=expires_at,
        created_at=utcnow(),
    )
    session.add(key)
    await session.flush()
    await audit.record(
        session,
        team_id=team_id,
        actor=CLI_ACTOR,
        action="CREATE_API_KEY",
        target_type="API_KEY",
        target_id=key.id,
        request_body=None,
        response_body={"id": str(key.id), "hint": key.hint, "expiresAt": iso_or_none(expires_at)},
    )
    return CreatedKey(key.id, issued.token, expires_at)


async def create_team(runtime: Runtime, name: str) -> CreatedTeam:
    """A team with its RSA-2048 key pair (private key encrypted at rest) and a first API key."""
    pair = generate_key_pair()
    team_id = uuid.uuid4()
    async with runtime.database.write() as session:
        now = utcnow()
        session.add(Team(id=team_id, name=name, created_at=now, updated_at=now))
        await session.flush()
        session.add(
            TeamKeyPair(
                team_id=team_id,
                public_key=pair.public_pem,
                private_key_ciphertext=runtime.keyring.encrypt(
                    pair.private_pem.encode(), private_key_aad(team_id)
                ),
            )
        )
        session.add(TeamStorageUsage(team_id=team_id, used_bytes=0))
        key = await _add_key(session, runtime, team_id, None)
    return CreatedTeam(team_id, key.api_key, pair.public_pem)


async def _live_team(session: AsyncSession, team_id: uuid.UUID, *, lock: bool = False) -> Team:
    team = await lock_team(session, team_id) if lock else await session.get(Team, team_id)
    if team is None or team.deleted_at is not None:
        raise ApiError(404, "Team not found")
    return team


async def create_api_key(
    runtime: Runtime, team_id: uuid.UUID, expires_at: datetime | None
) -> CreatedKey:
    async with runtime.database.write() as session:
        team = await _live_team(session, team_id, lock=True)
        if (
            team.max_api_keys
            and await apikeys.count_for_team(session, team_id) >= team.max_api_keys
        ):
            raise ApiError(403, "Max API keys reached")
        return await _add_key(session, runtime, team_id, expires_at)


async def revoke_api_key(runtime: Runtime, team_id: uuid.UUID, key_id: uuid.UUID) -> None:
    async with runtime.database.write() as session:
        await _live_team(session, team_id)
        if not await apikeys.delete_for_team(session, team_id, key_id):
            raise ApiError(404, "API key not found")
        await audit.record(
            session,
            team_id=team_id,
            actor=CLI_ACTOR,
            action="DELETE_API_KEY",
            target_type="API_KEY",
            target_id=key_id,
            request_body=None,
            response_body={"id": str(key_id)},
        )


LIMIT_FIELDS = (
    "max_file_size_mb",
    "max_storage_mb",
    "max_releases_per_product",
    "max_branches_per_product",
    "max_products",
    "max_licenses",
    "max_api_keys",
    "max_webhooks",
    "allow_file_uploads",
)
SETTING_FIELDS = (
    "strict_customers",
    "strict_products",
    "strict_releases",
    "hwid_timeout",
    "ip_timeout",
    "returned_fields",
    "allow_classloader",
    "allow_plain_jars",
)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def team_fields_json(
    team: Team, fields: tuple[str, ...], default_file_mb: int
) -> dict[str, object]:
    values: dict[str, object] = {}
    for name in fields:
        value = getattr(team, name)
        if name == "max_file_size_mb" and value is None:
            value = default_file_mb
        if name == "returned_fields":
            value = json.loads(value)
        values[_camel(name)] = value
    return values


async def update_team_fields(
    runtime: Runtime, team_id: uuid.UUID, changes: dict[str, object], fields: tuple[str, ...]
) -> dict[str, object]:
    """Apply `changes` (snake_case names from `fields`) and return the resulting values."""
    async with runtime.database.write() as session:
        team = await _live_team(session, team_id)
        for name, value in changes.items():
            assert name in fields
            setattr(team, name, value)
        if changes:
            team.updated_at = utcnow()
            await session.flush()
            result = team_fields_json(team, fields, runtime.settings.max_file_size_mb)
            await audit.record(
                session,
                team_id=team_id,
                actor=CLI_ACTOR,
                action="UPDATE_TEAM_LIMITS" if fields == LIMIT_FIELDS else "UPDATE_TEAM_SETTINGS",
                target_type="TEAM",
                target_id=team_id,
                request_body={_camel(k): v for k, v in changes.items()},
                response_body=result,
            )
        return team_fields_json(team, fields, runtime.settings.max_file_size_mb)


async def replace_key_pair(
    runtime: Runtime, team_id: uuid.UUID, pair: KeyPairPem | None = None
) -> str:
    """Replace the team's RSA key pair at once (no overlap period) and return the new public PEM.

    `pair` defaults to a fresh RSA-2048 pair. The private key is stored encrypted as in
    `create_team`; the audit row records only the new public key.
    """
    new_pair = pair if pair is not None else generate_key_pair()
    async with runtime.database.write() as session:
        await _live_team(session, team_id)
        stored = await session.scalar(select(TeamKeyPair).where(TeamKeyPair.team_id == team_id))
        if stored is None:
            raise LookupError(f"team {team_id} has no key pair")
        stored.public_key = new_pair.public_pem
        stored.private_key_ciphertext = runtime.keyring.encrypt(
            new_pair.private_pem.encode(), private_key_aad(team_id)
        )
        stored.updated_at = utcnow()
        await session.flush()
        public = {
            "publicKey": new_pair.public_pem,
            "publicKeyBase64": public_key_base64(new_pair.public_pem),
        }
        await audit.record(
            session,
            team_id=team_id,
            actor=CLI_ACTOR,
            action="ROTATE_TEAM_KEY_PAIR",
            target_type="TEAM",
            target_id=team_id,
            request_body=None,
            response_body=public,
        )
    return new_pair.public_pem


async def team_exists(runtime: Runtime, team_id: uuid.UUID) -> bool:
    async with runtime.database.read() as session:
        team = await session.get(Team, team_id)
        return team is not None and team.deleted_at is None
