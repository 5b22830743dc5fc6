"""The admin CLI (operations.md, security-and-limits.md §1.2, §7.1, §8)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import Result
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import Engine, create_engine, select
from typer.testing import CliRunner

from releasegate.apikeys.models import ApiKey
from releasegate.app import create_app
from releasegate.cli import app
from releasegate.customers.models import Customer
from releasegate.settings import Settings
from releasegate.teams.models import TeamKeyPair

API_KEY = re.compile(r"^rg_[0-9a-f]{72}$")
API_KEY_ANYWHERE = re.compile(r"rg_[0-9a-f]{72}")
PRODUCTION_URL = "postgresql://postgres@127.0.0.1:5432/test"
LIMIT_KEYS = {
    "maxFileSizeMb",
    "maxStorageMb",
    "maxReleasesPerProduct",
    "maxBranchesPerProduct",
    "maxProducts",
    "maxLicenses",
    "maxApiKeys",
    "maxWebhooks",
    "allowFileUploads",
}


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An embedded-profile environment: only RELEASEGATE_DATA_DIR is set."""
    for name in list(os.environ):
        if name.startswith("RELEASEGATE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env file is read
    data = tmp_path / "data"
    monkeypatch.setenv("RELEASEGATE_DATA_DIR", str(data))
    return data


@pytest.fixture
def engine(data_dir: Path) -> Iterator[Engine]:
    built = create_engine(f"sqlite:///{data_dir / 'releasegate.db'}")
    try:
        yield built
    finally:
        built.dispose()


def run(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def run_ok(*args: str) -> Result:
    result = run(*args)
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result


def run_json(*args: str) -> Any:
    return json.loads(run_ok(*args).stdout)


def create_team(name: str = "Acme") -> dict[str, Any]:
    created = run_json("team", "create", name, "--json")
    assert isinstance(created, dict)
    return created


# --- team create -------------------------------------------------------------------------------


def test_team_create_json_prints_exactly_one_json_object(data_dir: Path) -> None:
    stdout = run_ok("team", "create", "Acme", "--json").stdout
    lines = stdout.splitlines()
    assert len(lines) == 1
    assert isinstance(json.loads(lines[0]), dict)


def test_team_create_json_has_exactly_the_documented_keys(data_dir: Path) -> None:
    assert set(create_team()) == {"teamId", "apiKey", "publicKey", "publicKeyBase64"}


def test_team_create_team_id_is_a_lowercase_uuid(data_dir: Path) -> None:
    team_id = create_team()["teamId"]
    assert str(uuid.UUID(team_id)) == team_id


def test_team_create_api_key_format(data_dir: Path) -> None:
    assert API_KEY.match(create_team()["apiKey"])


def test_team_create_public_key_is_rsa_2048_spki_pem(data_dir: Path) -> None:
    pem = create_team()["publicKey"]
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    key = serialization.load_pem_public_key(pem.encode())
    assert isinstance(key, rsa.RSAPublicKey)
    assert key.key_size == 2048


def test_team_create_public_key_exponent_is_65537(data_dir: Path) -> None:
    key = serialization.load_pem_public_key(create_team()["publicKey"].encode())
    assert isinstance(key, rsa.RSAPublicKey)
    assert key.public_numbers().e == 65537


def test_team_create_public_key_base64_is_base64_of_the_pem(data_dir: Path) -> None:
    created = create_team()
    decoded = base64.b64decode(created["publicKeyBase64"], validate=True).decode()
    assert decoded == created["publicKey"]


def test_two_teams_get_different_keys(data_dir: Path) -> None:
    first, second = create_team("One"), create_team("Two")
    assert (first["teamId"], first["apiKey"], first["publicKey"]) != (
        second["teamId"],
        second["apiKey"],
        second["publicKey"],
    )


def test_team_create_generates_embedded_secret_key_file(data_dir: Path) -> None:
    create_team()
    assert re.fullmatch(r"[0-9a-f]{64}", (data_dir / "secret.key").read_text().strip())


def test_team_private_key_is_stored_encrypted(data_dir: Path, engine: Engine) -> None:
    team_id = uuid.UUID(create_team()["teamId"])
    with engine.connect() as connection:
        ciphertext = connection.scalar(
            select(TeamKeyPair.private_key_ciphertext).where(TeamKeyPair.team_id == team_id)
        )
    assert ciphertext is not None
    assert ciphertext.startswith("v1:")
    assert "PRIVATE KEY" not in ciphertext


def test_team_public_key_is_stored_as_printed(data_dir: Path, engine: Engine) -> None:
    created = create_team()
    with engine.connect() as connection:
        stored = connection.scalar(
            select(TeamKeyPair.public_key).where(
                TeamKeyPair.team_id == uuid.UUID(created["teamId"])
            )
        )
    assert stored == created["publicKey"]


def test_team_api_key_is_stored_only_as_hash(data_dir: Path, engine: Engine) -> None:
    import hashlib

    created = create_team()
    with engine.connect() as connection:
        row = connection.execute(
            select(ApiKey.key_hash, ApiKey.hint).where(
                ApiKey.team_id == uuid.UUID(created["teamId"])
            )
        ).one()
    assert row.key_hash == hashlib.sha256(created["apiKey"].encode()).hexdigest()
    assert row.hint == "rg_…" + created["apiKey"][-4:]


# --- apikey ------------------------------------------------------------------------------------


def test_apikey_create_json_keys_and_null_expiry(data_dir: Path) -> None:
    team_id = create_team()["teamId"]
    created = run_json("apikey", "create", "--team", team_id, "--json")
    assert set(created) == {"id", "apiKey", "expiresAt"}
    assert created["expiresAt"] is None


def test_apikey_create_json_prints_one_line(data_dir: Path) -> None:
    team_id = create_team()["teamId"]
    assert len(run_ok("apikey", "create", "--team", team_id, "--json").stdout.splitlines()) == 1


def test_apikey_create_returns_uuid_id_and_well_formed_key(data_dir: Path) -> None:
    team_id = create_team()["teamId"]
    created = run_json("apikey", "create", "--team", team_id, "--json")
    assert str(uuid.UUID(created["id"])) == created["id"]
    assert API_KEY.match(created["apiKey"])


def test_apikey_create_with_expiry_echoes_it_with_milliseconds(data_dir: Path) -> None:
    team_id = create_team()["teamId"]
    created = run_json(
        "apikey", "create", "--team", team_id, "--expires", "2030-01-01T00:00:00Z", "--json"
    )
    assert created["expiresAt"] == "2030-01-01T00:00:00.000Z"


def test_apikey_create_with_offset_expiry_is_normalised_to_utc(data_dir: Path) -> None:
    team_id = create_team()["teamId"]
    created = run_json(
        "apikey", "create", "--team", team_id, "--expires", "2030-01-01T02:00:00+02:00", "--json"
    )
    assert created["expiresAt"] == "2030-01-01T00:00:00.000Z"


def test_apikey_create_rejects_invalid_expiry(data_dir: Path) -> None:
    team_id = create_team()["teamId"]
    result = run("apikey", "create", "--team", team_id, "--expires", "next tuesday", "--json")
    assert result.exit_code != 0
    assert "--expires" in result.stderr


def test_apikey_create_for_unknown_team_fails(data_dir: Path) -> None:
    create_team()
    result = run("apikey", "create", "--team", str(uuid.uuid4()), "--json")
    assert result.exit_code != 0
    assert result.stdout == ""


def test_apikey_create_adds_a_second_key_row(data_dir: Path, engine: Engine) -> None:
    team_id = create_team()["teamId"]
    created = run_json("apikey", "create", "--team", team_id, "--json")
    with engine.connect() as connection:
        ids = set(connection.scalars(select(ApiKey.id).where(ApiKey.team_id == uuid.UUID(team_id))))
    assert len(ids) == 2
    assert uuid.UUID(created["id"]) in ids


def test_apikey_revoke_deletes_the_key_row(data_dir: Path, engine: Engine) -> None:
    team_id = create_team()["teamId"]
    created = run_json("apikey", "create", "--team", team_id, "--json")
    run_ok("apikey", "revoke", "--team", team_id, created["id"])
    with engine.connect() as connection:
        remaining = connection.scalar(
            select(ApiKey.id).where(ApiKey.id == uuid.UUID(created["id"]))
        )
    assert remaining is None


def test_apikey_revoke_keeps_the_other_keys(data_dir: Path, engine: Engine) -> None:
    team_id = create_team()["teamId"]
    created = run_json("apikey", "create", "--team", team_id, "--json")
    run_ok("apikey", "revoke", "--team", team_id, created["id"])
    with engine.connect() as connection:
        count = len(
            list(connection.scalars(select(ApiKey.id).where(ApiKey.team_id == uuid.UUID(team_id))))
        )
    assert count == 1


def test_apikey_revoke_unknown_key_fails(data_dir: Path) -> None:
    team_id = create_team()["teamId"]
    result = run("apikey", "revoke", "--team", team_id, str(uuid.uuid4()))
    assert result.exit_code != 0


def test_apikey_revoke_with_another_team_fails_and_keeps_the_key(
    data_dir: Path, engine: Engine
) -> None:
    owner = create_team("Owner")["teamId"]
    other = create_team("Other")["teamId"]
    created = run_json("apikey", "create", "--team", owner, "--json")
    result = run("apikey", "revoke", "--team", other, created["id"])
    assert result.exit_code != 0
    with engine.connect() as connection:
        kept = connection.scalar(select(ApiKey.id).where(ApiKey.id == uuid.UUID(created["id"])))
    assert kept == uuid.UUID(created["id"])


async def _get_product(data_dir: Path, team_id: str, api_key: str) -> int:
    settings = Settings(data_dir=data_dir, log_level="WARNING", run_jobs=False)
    asgi = create_app(settings=settings)
    transport = httpx.ASGITransport(app=asgi)
    async with (
        asgi.router.lifespan_context(asgi),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):
        response = await client.get(
            f"/api/v1/dev/teams/{team_id}/products/{uuid.uuid4()}",
            headers={"Authorization": f"Bearer {api_key}"},
        )
    return response.status_code


def test_created_api_key_authenticates(data_dir: Path) -> None:
    team_id = create_team()["teamId"]
    created = run_json("apikey", "create", "--team", team_id, "--json")
    assert asyncio.run(_get_product(data_dir, team_id, created["apiKey"])) == 404


def test_revoked_api_key_gets_401(data_dir: Path) -> None:
    team_id = create_team()["teamId"]
    created = run_json("apikey", "create", "--team", team_id, "--json")
    run_ok("apikey", "revoke", "--team", team_id, created["id"])
    assert asyncio.run(_get_product(data_dir, team_id, created["apiKey"])) == 401


# --- team limits / settings --------------------------------------------------------------------


def test_team_limits_sets_max_file_size(data_dir: Path) -> None:
    team_id = create_team()["teamId"]
    limits = run_json("team", "limits", "--team", team_id, "--max-file-size-mb", "5", "--json")
    assert limits["maxFileSizeMb"] == 5


def test_team_limits_shows_every_limit(data_dir: Path) -> None:
    team_id = create_team()["teamId"]
    limits = run_json("team", "limits", "--team", team_id, "--max-file-size-mb", "5", "--json")
    assert set(limits) == LIMIT_KEYS


def test_team_limits_other_limits_keep_their_defaults(data_dir: Path) -> None:
    team_id = create_team()["teamId"]
    limits = run_json("team", "limits", "--team", team_id, "--max-file-size-mb", "5", "--json")
    assert {
        name: limits[name]
        for name in (
            "maxReleasesPerProduct",
            "maxBranchesPerProduct",
            "maxApiKeys",
            "maxWebhooks",
            "allowFileUploads",
        )
    } == {
        "maxReleasesPerProduct": 100,
        "maxBranchesPerProduct": 10,
        "maxApiKeys": 10,
        "maxWebhooks": 20,
        "allowFileUploads": True,
    }


@pytest.mark.parametrize("name", ["maxStorageMb", "maxProducts", "maxLicenses"])
def test_team_limits_unset_limits_are_unlimited(data_dir: Path, name: str) -> None:
    team_id = create_team()["teamId"]
    limits = run_json("team", "limits", "--team", team_id, "--json")
    assert limits[name] in (0, None)


def test_team_limits_default_file_size_is_server_default(data_dir: Path) -> None:
    team_id = create_team()["teamId"]
    assert run_json("team", "limits", "--team", team_id, "--json")["maxFileSizeMb"] == 10


def test_team_limits_change_persists(data_dir: Path) -> None:
    team_id = create_team()["teamId"]
    run_ok("team", "limits", "--team", team_id, "--max-file-size-mb", "5", "--max-api-keys", "3")
    limits = run_json("team", "limits", "--team", team_id, "--json")
    assert (limits["maxFileSizeMb"], limits["maxApiKeys"]) == (5, 3)


def test_team_limits_zero_means_unlimited_and_is_accepted(data_dir: Path) -> None:
    team_id = create_team()["teamId"]
    limits = run_json("team", "limits", "--team", team_id, "--max-file-size-mb", "0", "--json")
    assert limits["maxFileSizeMb"] == 0


def test_team_limits_disables_file_uploads(data_dir: Path) -> None:
    team_id = create_team()["teamId"]
    limits = run_json("team", "limits", "--team", team_id, "--no-allow-file-uploads", "--json")
    assert limits["allowFileUploads"] is False


def test_team_limits_rejects_negative_values(data_dir: Path) -> None:
    team_id = create_team()["teamId"]
    result = run("team", "limits", "--team", team_id, "--max-products", "-1", "--json")
    assert result.exit_code != 0


def test_team_limits_rejects_non_uuid_team(data_dir: Path) -> None:
    result = run("team", "limits", "--team", "acme", "--json")
    assert result.exit_code != 0
    assert "--team" in result.stderr


def test_max_api_keys_limit_refuses_extra_key(data_dir: Path) -> None:
    team_id = create_team()["teamId"]
    run_ok("team", "limits", "--team", team_id, "--max-api-keys", "1")
    result = run("apikey", "create", "--team", team_id, "--json")
    assert result.exit_code != 0
    assert result.stdout == ""


def test_team_settings_strict_products_and_returned_fields(data_dir: Path) -> None:
    team_id = create_team()["teamId"]
    settings = run_json(
        "team",
        "settings",
        "--team",
        team_id,
        "--strict-products",
        "--returned-fields",
        "licenseIpLimit,licenseMetadataKeys=tier",
        "--json",
    )
    assert settings["strictProducts"] is True
    assert settings["returnedFields"] == {"licenseIpLimit": True, "licenseMetadataKeys": ["tier"]}


def test_team_settings_other_settings_keep_their_defaults(data_dir: Path) -> None:
    team_id = create_team()["teamId"]
    settings = run_json("team", "settings", "--team", team_id, "--strict-products", "--json")
    assert settings == {
        "strictCustomers": False,
        "strictProducts": True,
        "strictReleases": False,
        "hwidTimeout": None,
        "ipTimeout": None,
        "returnedFields": {},
        "allowClassloader": True,
        "allowPlainJars": False,
    }


def test_team_settings_metadata_keys_accumulate_per_list(data_dir: Path) -> None:
    team_id = create_team()["teamId"]
    settings = run_json(
        "team",
        "settings",
        "--team",
        team_id,
        "--returned-fields",
        "licenseMetadataKeys=tier,productMetadataKeys=channel,licenseMetadataKeys=seats",
        "--json",
    )
    assert settings["returnedFields"] == {
        "licenseMetadataKeys": ["tier", "seats"],
        "productMetadataKeys": ["channel"],
    }


def test_team_settings_returned_fields_replace_the_selection(data_dir: Path) -> None:
    team_id = create_team()["teamId"]
    run_ok("team", "settings", "--team", team_id, "--returned-fields", "licenseIpLimit")
    settings = run_json(
        "team", "settings", "--team", team_id, "--returned-fields", "productName", "--json"
    )
    assert settings["returnedFields"] == {"productName": True}


def test_team_settings_empty_returned_fields_clears_selection(data_dir: Path) -> None:
    team_id = create_team()["teamId"]
    run_ok("team", "settings", "--team", team_id, "--returned-fields", "licenseIpLimit")
    settings = run_json("team", "settings", "--team", team_id, "--returned-fields", "", "--json")
    assert settings["returnedFields"] == {}


def test_team_settings_unknown_returned_field_fails(data_dir: Path) -> None:
    team_id = create_team()["teamId"]
    result = run("team", "settings", "--team", team_id, "--returned-fields", "bogus", "--json")
    assert result.exit_code != 0
    assert "bogus" in result.stderr


def test_team_settings_change_persists(data_dir: Path) -> None:
    team_id = create_team()["teamId"]
    run_ok("team", "settings", "--team", team_id, "--strict-products", "--hwid-timeout", "30")
    settings = run_json("team", "settings", "--team", team_id, "--json")
    assert (settings["strictProducts"], settings["hwidTimeout"]) == (True, 30)


def test_team_settings_zero_timeout_clears_it(data_dir: Path) -> None:
    team_id = create_team()["teamId"]
    run_ok("team", "settings", "--team", team_id, "--ip-timeout", "15")
    settings = run_json("team", "settings", "--team", team_id, "--ip-timeout", "0", "--json")
    assert settings["ipTimeout"] is None


# --- customers ---------------------------------------------------------------------------------


def test_customer_create_json_prints_uuid_id(data_dir: Path) -> None:
    team_id = create_team()["teamId"]
    created = run_json("customer", "create", "--team", team_id, "--email", "a@b.c", "--json")
    assert set(created) == {"id"}
    assert str(uuid.UUID(created["id"])) == created["id"]


def test_customer_create_stores_the_fields(data_dir: Path, engine: Engine) -> None:
    team_id = create_team()["teamId"]
    created = run_json(
        "customer",
        "create",
        "--team",
        team_id,
        "--email",
        "a@b.c",
        "--full-name",
        "Ada Lovelace",
        "--username",
        "ada",
        "--json",
    )
    with engine.connect() as connection:
        row = connection.execute(
            select(Customer.team_id, Customer.email, Customer.full_name, Customer.username).where(
                Customer.id == uuid.UUID(created["id"])
            )
        ).one()
    assert tuple(row) == (uuid.UUID(team_id), "a@b.c", "Ada Lovelace", "ada")


def test_customer_list_lists_created_customer(data_dir: Path) -> None:
    team_id = create_team()["teamId"]
    created = run_json("customer", "create", "--team", team_id, "--email", "a@b.c", "--json")
    listing = run_ok("customer", "list", "--team", team_id).stdout
    assert created["id"] in listing
    assert "a@b.c" in listing


def test_customer_list_does_not_show_other_teams_customers(data_dir: Path) -> None:
    team_id = create_team("One")["teamId"]
    other = create_team("Two")["teamId"]
    created = run_json("customer", "create", "--team", other, "--email", "x@y.z", "--json")
    listing = run_ok("customer", "list", "--team", team_id).stdout
    assert created["id"] not in listing


def test_customer_create_for_unknown_team_fails(data_dir: Path) -> None:
    create_team()
    result = run("customer", "create", "--team", str(uuid.uuid4()), "--json")
    assert result.exit_code != 0
    assert result.stdout == ""


# --- production profile ------------------------------------------------------------------------


def test_migrate_in_production_without_secret_key_exits_non_zero(data_dir: Path) -> None:
    result = run("migrate", env={"RELEASEGATE_DATABASE_URL": PRODUCTION_URL})
    assert result.exit_code != 0


def test_migrate_in_production_without_secret_key_names_it_in_one_line(data_dir: Path) -> None:
    result = run("migrate", env={"RELEASEGATE_DATABASE_URL": PRODUCTION_URL})
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "RELEASEGATE_SECRET_KEY" in lines[0]


def test_migrate_in_production_does_not_generate_a_key_file(data_dir: Path) -> None:
    run("migrate", env={"RELEASEGATE_DATABASE_URL": PRODUCTION_URL})
    assert not (data_dir / "secret.key").exists()


def test_serve_in_production_without_secret_key_refuses_to_start(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    started: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: started.append(args))
    result = run("serve", env={"RELEASEGATE_DATABASE_URL": PRODUCTION_URL})
    assert result.exit_code != 0
    assert "RELEASEGATE_SECRET_KEY" in result.stderr
    assert started == []


def test_team_create_in_production_without_secret_key_fails(data_dir: Path) -> None:
    result = run(
        "team", "create", "Acme", "--json", env={"RELEASEGATE_DATABASE_URL": PRODUCTION_URL}
    )
    assert result.exit_code != 0
    assert "RELEASEGATE_SECRET_KEY" in result.stderr


def test_malformed_secret_key_is_refused_naming_it(data_dir: Path) -> None:
    result = run("migrate", env={"RELEASEGATE_SECRET_KEY": "too-short"})
    assert result.exit_code != 0
    assert "RELEASEGATE_SECRET_KEY" in result.stderr


def test_migrate_in_embedded_profile_succeeds(data_dir: Path) -> None:
    run_ok("migrate")
    assert (data_dir / "releasegate.db").exists()


def test_migrate_is_idempotent(data_dir: Path) -> None:
    run_ok("migrate")
    run_ok("migrate")


# --- team ensure-demo --------------------------------------------------------------------------


def test_ensure_demo_first_run_prints_an_api_key(data_dir: Path) -> None:
    stdout = run_ok("team", "ensure-demo").stdout
    assert API_KEY_ANYWHERE.search(stdout)


def test_ensure_demo_first_run_prints_the_public_key(data_dir: Path) -> None:
    assert "-----BEGIN PUBLIC KEY-----" in run_ok("team", "ensure-demo").stdout


def test_ensure_demo_second_run_prints_team_id_without_api_key(data_dir: Path) -> None:
    first = run_ok("team", "ensure-demo").stdout
    team_id = re.search(r"team id:\s+([0-9a-f-]{36})", first)
    assert team_id is not None
    second = run_ok("team", "ensure-demo").stdout
    assert team_id.group(1) in second
    assert API_KEY_ANYWHERE.search(second) is None


def test_ensure_demo_creates_only_one_team(data_dir: Path, engine: Engine) -> None:
    run_ok("team", "ensure-demo")
    run_ok("team", "ensure-demo")
    with engine.connect() as connection:
        teams = list(connection.scalars(select(TeamKeyPair.team_id)))
    assert len(teams) == 1
