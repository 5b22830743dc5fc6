"""`releasegate team rotate-keys` and `replace_key_pair` (security-and-limits.md §7.1, §8)."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select
from typer.testing import CliRunner, Result

from releasegate.audit.models import AuditLog
from releasegate.cli import app
from releasegate.kit.rsa_keys import generate_key_pair, public_key_base64
from releasegate.runtime import Runtime
from releasegate.settings import Settings
from releasegate.teams.models import TeamKeyPair
from releasegate.teams.service import private_key_aad, replace_key_pair
from tests.fixtures.api import TeamCredentials

UNKNOWN_TEAM = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def cli_env(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str | None]:
    """The test's database, storage and secret key, as the CLI reads them (environment only)."""
    for name in list(os.environ):
        if name.startswith("RELEASEGATE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env file is read
    return {
        "RELEASEGATE_DATA_DIR": str(settings.data_dir),
        "RELEASEGATE_DATABASE_URL": settings.database_url,
        "RELEASEGATE_STORAGE_URL": settings.storage_url,
        "RELEASEGATE_S3_ENDPOINT_URL": settings.s3_endpoint_url,
        "RELEASEGATE_SECRET_KEY": settings.secret_key,
        "RELEASEGATE_REDIS_URL": settings.redis_url,
        "RELEASEGATE_LOG_LEVEL": "WARNING",
    }


async def rotate(env: dict[str, str | None], *args: str) -> Result:
    """The CLI runs its own event loop, so it runs in a thread while the test's loop waits."""
    arguments = ["team", "rotate-keys", *args]
    return await asyncio.to_thread(lambda: CliRunner().invoke(app, arguments, env=env))


async def stored_pair(runtime: Runtime, team_id: str) -> TeamKeyPair:
    async with runtime.database.read() as session:
        pair = await session.scalar(
            select(TeamKeyPair).where(TeamKeyPair.team_id == uuid.UUID(team_id))
        )
    assert pair is not None
    return pair


async def rotation_rows(runtime: Runtime, team_id: str) -> list[AuditLog]:
    async with runtime.database.read() as session:
        rows = await session.scalars(
            select(AuditLog).where(
                AuditLog.team_id == uuid.UUID(team_id), AuditLog.action == "ROTATE_TEAM_KEY_PAIR"
            )
        )
        return list(rows)


def decrypted_private_key(runtime: Runtime, pair: TeamKeyPair) -> rsa.RSAPrivateKey:
    pem = runtime.keyring.decrypt(pair.private_key_ciphertext, private_key_aad(pair.team_id))
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def public_numbers(pem: str) -> Any:
    key = serialization.load_pem_public_key(pem.encode())
    assert isinstance(key, rsa.RSAPublicKey)
    return key.public_numbers()


async def test_without_yes_refuses_and_keeps_the_key_pair(
    cli_env: dict[str, str | None], runtime: Runtime, team: TeamCredentials
) -> None:
    before = await stored_pair(runtime, team.team_id)
    result = await rotate(cli_env, "--team", team.team_id)
    assert result.exit_code != 0
    assert result.stdout == ""
    assert "--yes" in result.stderr
    assert "old public key stop working" in result.stderr
    after = await stored_pair(runtime, team.team_id)
    assert (after.public_key, after.private_key_ciphertext) == (
        before.public_key,
        before.private_key_ciphertext,
    )
    assert await rotation_rows(runtime, team.team_id) == []


async def test_with_yes_replaces_the_public_key(
    cli_env: dict[str, str | None], runtime: Runtime, team: TeamCredentials
) -> None:
    before = await stored_pair(runtime, team.team_id)
    result = await rotate(cli_env, "--team", team.team_id, "--yes", "--json")
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    printed = json.loads(result.stdout)
    after = await stored_pair(runtime, team.team_id)
    assert after.public_key != before.public_key
    assert printed == {
        "teamId": team.team_id,
        "publicKey": after.public_key,
        "publicKeyBase64": public_key_base64(after.public_key),
    }


async def test_with_yes_stores_a_private_key_matching_the_new_public_key(
    cli_env: dict[str, str | None], runtime: Runtime, team: TeamCredentials
) -> None:
    result = await rotate(cli_env, "--team", team.team_id, "--yes")
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    after = await stored_pair(runtime, team.team_id)
    private = decrypted_private_key(runtime, after)
    assert private.key_size == 2048
    assert private.public_key().public_numbers() == public_numbers(after.public_key)
    assert after.public_key in result.stdout


async def test_with_yes_writes_an_audit_row_without_the_private_key(
    cli_env: dict[str, str | None], runtime: Runtime, team: TeamCredentials
) -> None:
    result = await rotate(cli_env, "--team", team.team_id, "--yes")
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    after = await stored_pair(runtime, team.team_id)
    [row] = await rotation_rows(runtime, team.team_id)
    assert (row.target_type, str(row.target_id), row.source) == ("TEAM", team.team_id, "CLI")
    assert row.response_body is not None
    assert json.loads(row.response_body)["publicKey"] == after.public_key
    assert "PRIVATE KEY" not in (row.request_body or "") + row.response_body


async def test_unknown_team_fails(
    cli_env: dict[str, str | None], runtime: Runtime, team: TeamCredentials
) -> None:
    result = await rotate(cli_env, "--team", UNKNOWN_TEAM, "--yes")
    assert result.exit_code != 0
    assert result.stderr == "error: Team not found\n"


async def test_replace_key_pair_stores_exactly_the_given_pair(
    runtime: Runtime, team: TeamCredentials
) -> None:
    given = generate_key_pair()
    returned = await replace_key_pair(runtime, uuid.UUID(team.team_id), given)
    stored = await stored_pair(runtime, team.team_id)
    assert returned == stored.public_key == given.public_pem
    aad = private_key_aad(uuid.UUID(team.team_id))
    assert runtime.keyring.decrypt(stored.private_key_ciphertext, aad) == given.private_pem.encode()
