"""`releasegate webhook …` (webhooks-and-audit.md §1): the same service functions as the dev API,
audited with source CLI, against both profiles' databases."""

from __future__ import annotations

import json
import os
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import select
from typer.testing import CliRunner

from releasegate.cli import app
from releasegate.runtime import Runtime
from releasegate.settings import Settings
from releasegate.webhooks.models import EventStatus, EventType, WebhookEvent
from releasegate.webhooks.outbox import emit
from tests.fixtures.api import Api, TeamCredentials

URL = "https://hooks.example.com/releasegate"
WEBHOOK_KEYS = ["id", "teamId", "url", "enabledEvents", "active", "createdAt", "updatedAt"]
SECRET = re.compile(r"^[0-9a-f]{64}$")


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


def run(env: dict[str, str | None], *args: str) -> Result:
    return CliRunner().invoke(app, ["webhook", *args], env=env)


def run_json(env: dict[str, str | None], *args: str) -> Any:
    result = run(env, *args, "--json")
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    assert len(result.stdout.splitlines()) == 1
    return json.loads(result.stdout)


def assert_fails(result: Result, message: str) -> None:
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr == f"error: {message}\n"


def create(env: dict[str, str | None], team: TeamCredentials, *args: str) -> Any:
    return run_json(
        env, "create", "--team", team.team_id, "--url", URL, "--events", "RELEASE_CREATED", *args
    )


@pytest.fixture
async def api_created(api: Api, runtime: Runtime) -> dict[str, Any]:
    """What POST /webhooks answers (the CLI must print the same object)."""
    response = await api.post_json(
        "/webhooks", {"url": URL, "enabledEvents": ["RELEASE_CREATED"], "active": True}
    )
    assert response.status_code == 201, response.text
    await runtime.drain()  # the key's lastSeenAt write, before the CLI opens the database
    data: dict[str, Any] = response.json()["data"]
    return data


@pytest.fixture
async def failed_event(api_created: dict[str, Any], runtime: Runtime) -> str:
    """A FAILED event of the API-created webhook."""
    async with runtime.database.write() as session:
        await emit(
            session,
            runtime,
            uuid.UUID(api_created["teamId"]),
            EventType.RELEASE_CREATED,
            {"id": "r"},
        )
    async with runtime.database.write() as session:
        (event,) = await session.scalars(select(WebhookEvent))
        event.status, event.attempts, event.error_message = EventStatus.FAILED.value, 5, "Timeout"
    return str(event.id)


def test_create_json_prints_the_create_endpoints_data(
    cli_env: dict[str, str | None], team: TeamCredentials, api_created: dict[str, Any]
) -> None:
    data = create(cli_env, team)
    assert list(data) == list(api_created)
    assert list(data) == [*WEBHOOK_KEYS, "secret", "secretWhsec"]
    assert (data["teamId"], data["url"], data["enabledEvents"], data["active"]) == (
        team.team_id,
        URL,
        ["RELEASE_CREATED"],
        True,
    )
    assert SECRET.fullmatch(data["secret"])
    assert data["secretWhsec"].startswith("whsec_")


def test_create_splits_events_on_commas(
    cli_env: dict[str, str | None], team: TeamCredentials
) -> None:
    data = run_json(
        cli_env,
        "create",
        "--team",
        team.team_id,
        "--url",
        URL,
        "--events",
        "RELEASE_CREATED, LICENSE_UPDATED,",
        "--inactive",
    )
    assert data["enabledEvents"] == ["RELEASE_CREATED", "LICENSE_UPDATED"]
    assert data["active"] is False


def test_create_text_shows_the_secret_once(
    cli_env: dict[str, str | None], team: TeamCredentials
) -> None:
    result = run(
        cli_env, "create", "--team", team.team_id, "--url", URL, "--events", "BRANCH_CREATED"
    )
    assert result.exit_code == 0, result.stderr
    line, secret, whsec = result.stdout.splitlines()
    assert line.split("\t")[1:] == ["active", URL, "BRANCH_CREATED"]
    assert re.fullmatch(r"secret: [0-9a-f]{64}   \(shown once; store it now\)", secret)
    assert whsec.startswith("whsec:  whsec_")


def test_create_refuses_an_unknown_event_type(
    cli_env: dict[str, str | None], team: TeamCredentials
) -> None:
    result = run(cli_env, "create", "--team", team.team_id, "--url", URL, "--events", "A")
    assert_fails(result, "--events: " + _enum_issue("A"))


def test_create_refuses_a_url_outside_the_rule(
    cli_env: dict[str, str | None], team: TeamCredentials
) -> None:
    result = run(
        cli_env,
        "create",
        "--team",
        team.team_id,
        "--url",
        "http://x.example",
        "--events",
        "RELEASE_CREATED",
    )
    assert_fails(result, "Invalid webhook URL")


def _enum_issue(value: str) -> str:
    names = " | ".join(f"'{event_type.value}'" for event_type in EventType)
    return f"Invalid enum value. Expected {names}, received '{value}'"


def test_create_needs_at_least_one_event(
    cli_env: dict[str, str | None], team: TeamCredentials
) -> None:
    result = run(cli_env, "create", "--team", team.team_id, "--url", URL, "--events", ",")
    assert_fails(result, "--events: Array must contain at least 1 element(s)")


def test_create_in_an_unknown_team_fails(cli_env: dict[str, str | None]) -> None:
    result = run(
        cli_env,
        "create",
        "--team",
        "00000000-0000-4000-8000-000000000000",
        "--url",
        URL,
        "--events",
        "RELEASE_CREATED",
    )
    assert_fails(result, "Team not found")


def test_list_json_prints_the_list_endpoints_data(
    cli_env: dict[str, str | None], team: TeamCredentials, api_created: dict[str, Any]
) -> None:
    data = run_json(cli_env, "list", "--team", team.team_id)
    public = {key: api_created[key] for key in WEBHOOK_KEYS}
    assert data == {"webhooks": [public], "hasNextPage": False, "totalResults": 1}


def test_list_text_prints_one_line_per_webhook(
    cli_env: dict[str, str | None], team: TeamCredentials, api_created: dict[str, Any]
) -> None:
    result = run(cli_env, "list", "--team", team.team_id)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"{api_created['id']}\tactive\t{URL}\tRELEASE_CREATED\n"
    assert api_created["secret"] not in result.stdout


def test_list_of_another_team_is_empty(
    cli_env: dict[str, str | None], other_team: TeamCredentials, api_created: dict[str, Any]
) -> None:
    assert run_json(cli_env, "list", "--team", other_team.team_id)["webhooks"] == []


def test_update_changes_only_what_is_given(
    cli_env: dict[str, str | None], team: TeamCredentials, api_created: dict[str, Any]
) -> None:
    data = run_json(cli_env, "update", "--team", team.team_id, api_created["id"], "--inactive")
    assert (data["active"], data["url"], data["enabledEvents"]) == (
        False,
        URL,
        ["RELEASE_CREATED"],
    )
    data = run_json(
        cli_env,
        "update",
        "--team",
        team.team_id,
        api_created["id"],
        "--events",
        "LICENSE_CREATED",
        "--url",
        "https://other.example/h",
        "--active",
    )
    assert (data["active"], data["url"], data["enabledEvents"]) == (
        True,
        "https://other.example/h",
        ["LICENSE_CREATED"],
    )


def test_update_without_changes_fails(
    cli_env: dict[str, str | None], team: TeamCredentials, api_created: dict[str, Any]
) -> None:
    result = run(cli_env, "update", "--team", team.team_id, api_created["id"])
    assert_fails(result, "nothing to change: give --url, --events, --active or --inactive")


def test_update_of_another_teams_webhook_fails(
    cli_env: dict[str, str | None], other_team: TeamCredentials, api_created: dict[str, Any]
) -> None:
    result = run(cli_env, "update", "--team", other_team.team_id, api_created["id"], "--inactive")
    assert_fails(result, "Webhook not found")


def test_rotate_secret_prints_a_new_secret(
    cli_env: dict[str, str | None], team: TeamCredentials, api_created: dict[str, Any]
) -> None:
    data = run_json(cli_env, "rotate-secret", "--team", team.team_id, api_created["id"])
    assert list(data) == list(api_created)
    assert SECRET.fullmatch(data["secret"]) and data["secret"] != api_created["secret"]


def test_delete_removes_the_webhook(
    cli_env: dict[str, str | None], team: TeamCredentials, api_created: dict[str, Any]
) -> None:
    result = run(cli_env, "delete", "--team", team.team_id, api_created["id"])
    assert (result.exit_code, result.stdout) == (0, "deleted\n")
    assert run_json(cli_env, "list", "--team", team.team_id)["totalResults"] == 0
    assert_fails(
        run(cli_env, "delete", "--team", team.team_id, api_created["id"]), "Webhook not found"
    )


def test_delete_refuses_a_malformed_id(
    cli_env: dict[str, str | None], team: TeamCredentials
) -> None:
    assert_fails(
        run(cli_env, "delete", "--team", team.team_id, "nope"), "WEBHOOK_ID must be a UUID"
    )


def test_events_lists_the_webhooks_events(
    cli_env: dict[str, str | None],
    team: TeamCredentials,
    api_created: dict[str, Any],
    failed_event: str,
) -> None:
    data = run_json(cli_env, "events", "--team", team.team_id, api_created["id"])
    assert [(e["id"], e["status"], e["attempts"]) for e in data["events"]] == [
        (failed_event, "FAILED", 5)
    ]


def test_redeliver_requeues_the_event(
    cli_env: dict[str, str | None],
    team: TeamCredentials,
    api_created: dict[str, Any],
    failed_event: str,
) -> None:
    result = run(cli_env, "redeliver", "--team", team.team_id, failed_event)
    assert (result.exit_code, result.stdout) == (0, f"requeued {failed_event}\n")
    data = run_json(cli_env, "events", "--team", team.team_id, api_created["id"])
    (event,) = data["events"]
    assert (event["status"], event["attempts"], event["errorMessage"]) == ("PENDING", 0, None)


def test_redeliver_json_prints_the_event(
    cli_env: dict[str, str | None], team: TeamCredentials, failed_event: str
) -> None:
    data = run_json(cli_env, "redeliver", "--team", team.team_id, failed_event)
    assert (data["id"], data["status"]) == (failed_event, "PENDING")


def test_redeliver_of_another_teams_event_fails(
    cli_env: dict[str, str | None], other_team: TeamCredentials, failed_event: str
) -> None:
    result = run(cli_env, "redeliver", "--team", other_team.team_id, failed_event)
    assert_fails(result, "Webhook event not found")


def test_cli_changes_are_audited_with_source_cli_and_no_secret(
    cli_env: dict[str, str | None], team: TeamCredentials
) -> None:
    created = create(cli_env, team)
    rotated = run_json(cli_env, "rotate-secret", "--team", team.team_id, created["id"])
    run_json(cli_env, "delete", "--team", team.team_id, created["id"])
    result = CliRunner().invoke(
        app, ["audit", "list", "--team", team.team_id, "--json"], env=cli_env
    )
    assert result.exit_code == 0, result.stderr
    rows = [row for row in json.loads(result.stdout)["auditLogs"] if row["targetType"] == "WEBHOOK"]
    assert [(row["action"], row["source"]) for row in rows] == [
        ("DELETE_WEBHOOK", "CLI"),
        ("UPDATE_WEBHOOK", "CLI"),
        ("CREATE_WEBHOOK", "CLI"),
    ]
    for secret in (created["secret"], rotated["secret"]):
        assert secret not in result.stdout
    assert "whsec_" not in result.stdout
